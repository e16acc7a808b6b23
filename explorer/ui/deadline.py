"""A web request's deadline and cancellation: long work checks `check_deadline()` between its steps.

Python cannot stop a thread from outside, so a request ends early where its work asks: between the batches of
an attribution and after a model load. `--request-timeout` sets the deadline; the page's Stop button cancels the
requests of one browser session.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from explorer.errors import ExplorerError

DEFAULT_REQUEST_TIMEOUT = 60.0


class RequestStopped(ExplorerError):
    """A request ran past its deadline or was cancelled from the page."""


@dataclass(eq=False)  # hashed by identity: kept in a set per session
class _Request:
    seconds: float | None
    started: float = field(default_factory=time.monotonic)
    cancelled: threading.Event = field(default_factory=threading.Event)


_CURRENT: ContextVar[_Request | None] = ContextVar("explorer_request", default=None)
_lock = threading.Lock()
_sessions: dict[str, set[_Request]] = {}


@contextlib.contextmanager
def request_deadline(seconds: float | None) -> Iterator[None]:
    """Within the block, `check_deadline()` raises once `seconds` have passed (or the work is cancelled)."""
    token = _CURRENT.set(_Request(seconds))
    try:
        yield
    finally:
        _CURRENT.reset(token)


@contextlib.contextmanager
def cancellable(session: str | None) -> Iterator[None]:
    """Within the block, `cancel_session(session)` stops the current request at its next `check_deadline()`."""
    request = _CURRENT.get()
    if request is None or not session:
        yield
        return
    with _lock:
        _sessions.setdefault(session, set()).add(request)
    try:
        yield
    finally:
        with _lock:
            running = _sessions.get(session, set())
            running.discard(request)
            if not running:
                _sessions.pop(session, None)


def cancel_session(session: str | None) -> int:
    """Cancel every running request of a browser session; returns how many there were."""
    with _lock:
        running = list(_sessions.get(session or "", ()))
    for request in running:
        request.cancelled.set()
    return len(running)


def check_deadline() -> None:
    """Raise `RequestStopped` when the current request is past its deadline or cancelled (else nothing)."""
    request = _CURRENT.get()
    if request is None:
        return
    if request.cancelled.is_set():
        raise RequestStopped("Stopped, as asked; change the settings and run it again.")
    if request.seconds is not None and time.monotonic() - request.started > request.seconds:
        raise RequestStopped(
            f"This request took longer than this server allows ({request.seconds:g} s) and was stopped; try fewer "
            f"integration steps, a shorter text or a smaller model, or run it with the mlm-explorer command line."
        )
