"""The one place where the project's own errors become messages in the page (and every request is logged).

`gr.Error` renders its message as HTML, and a message quotes what the person typed (a model name, a target word),
so every message is escaped here, after the server's own folders are taken out of it. Each request also gets its
deadline (`--request-timeout`) and one log line (`explorer.ui.request_log`).
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from explorer.errors import ExplorerError, InputError
from explorer.figures.labels import escape_label
from explorer.ui.deadline import DEFAULT_REQUEST_TIMEOUT, RequestStopped, request_deadline
from explorer.ui.request_log import log_request

F = TypeVar("F", bound=Callable[..., Any])
_log = logging.getLogger("explorer.requests")


@dataclass
class RequestSettings:
    """What every wrapped handler applies; `launch` sets it from the serve options."""

    timeout: float | None = DEFAULT_REQUEST_TIMEOUT
    hidden_paths: list[str] = field(default_factory=list)


SETTINGS = RequestSettings()


def configure(timeout: float | None, hidden_paths: Iterable[str | Path] = ()) -> None:
    """Set the request deadline and the server folders no message may name (besides the usual ones)."""
    SETTINGS.timeout = timeout
    SETTINGS.hidden_paths = [str(p) for p in hidden_paths]


def user_message(error: BaseException) -> str:
    """`error`'s message as the page shows it: server folders taken out, then HTML-escaped.

    Only &, < and > are escaped (quotes are harmless in the pop-up's text), so API clients, which get the same
    string, still read quotes as quotes.
    """
    return escape_label(hide_paths(str(error)))


def hide_paths(message: str, extra: Iterable[str] = ()) -> str:
    """`message` with the server's own folders (caches, assets, working directory, home, temp) replaced by "…"."""
    for path in sorted(_server_paths(extra), key=len, reverse=True):
        message = message.replace(path, "…")
    return message


def _server_paths(extra: Iterable[str]) -> set[str]:
    paths = {*SETTINGS.hidden_paths, *extra, os.getcwd(), str(Path.home()), tempfile.gettempdir()}
    try:
        import huggingface_hub.constants as hub_constants

        paths.update((hub_constants.HF_HUB_CACHE, hub_constants.HF_HOME))
    except ImportError:
        pass
    try:
        from explorer.bundled import assets_dir

        paths.add(str(assets_dir()))
    except Exception:  # no assets folder configured: nothing to hide
        pass
    return {p for p in paths if p and len(p) > 1}


def observed(handler: F, endpoint: str | None = None) -> F:
    """Wrap a UI handler or API function: the request gets its deadline and one log line; exceptions pass through
    unchanged (a tab that shows errors in place wraps its handler with this).

    Args:
        handler: the function Gradio calls.
        endpoint: the name in the log (default: the handler's module and name).
    """
    name = endpoint or f"{handler.__module__.rsplit('.', 1)[-1]}.{handler.__name__}"

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        outcome = "ok"
        try:
            with request_deadline(SETTINGS.timeout):
                result = handler(*args, **kwargs)
            return result
        except BaseException as error:
            outcome = outcome_of(error)
            if outcome == "failure":
                _log.exception("%s failed unexpectedly", name)
            raise
        finally:
            log_request(name, handler, args, kwargs, time.monotonic() - started, outcome)

    return wrapper  # type: ignore[return-value]


def outcome_of(error: BaseException) -> str:
    """The log's word for how a request ended with `error`."""
    if isinstance(error, RequestStopped):
        return "stopped"
    if isinstance(error, (InputError, gr.Error)):
        return "input_error"
    if isinstance(error, ExplorerError):
        return "error"
    return "failure"


def shows_errors(handler: F, endpoint: str | None = None) -> F:
    """Wrap a UI handler or API function: an `ExplorerError` shows as a readable, escaped `gr.Error`; any other
    exception as a short message (its traceback goes to the log); the request gets its deadline and a log line.

    Args:
        handler: the function Gradio calls.
        endpoint: the name in the log (default: the handler's module and name).
    """
    inner = observed(handler, endpoint)

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return inner(*args, **kwargs)
        except ExplorerError as error:
            raise gr.Error(user_message(error), print_exception=False) from error
        except gr.Error as error:
            raise gr.Error(escape_label(hide_paths(str(error.message))), print_exception=False) from error
        except Exception as error:
            raise gr.Error(f"Something went wrong on the server ({escape_label(type(error).__name__)}); try again, "
                           f"or another text or model.", print_exception=False) from error

    return wrapper  # type: ignore[return-value]
