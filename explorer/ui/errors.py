"""The one place where the project's own errors become messages in the page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from explorer.errors import ExplorerError

F = TypeVar("F", bound=Callable[..., Any])


def shows_errors(handler: F) -> F:
    """Wrap a UI handler so an `ExplorerError` shows as a readable `gr.Error` instead of a stack trace."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except ExplorerError as error:
            raise gr.Error(str(error), print_exception=False) from error

    return wrapper  # type: ignore[return-value]
