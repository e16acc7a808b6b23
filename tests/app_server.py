"""Start the web app in this test process on a free localhost port (for the API and browser tests)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from explorer.ui.app import build_demo, launch
from explorer.ui.options import ServeOptions

# Debian's Chromium (never a browser downloaded by Playwright) and the flags every browser test and benchmark uses
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_chromium() -> ModuleType:
    """Playwright's sync API for a browser test module; skips it locally without Chromium, fails it in CI."""
    import pytest

    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(allow_local: Sequence[Path] = (), concurrency: int = 4, **serve_options: Any) -> Iterator[str]:
    """The app served on 127.0.0.1 until the block ends; yields its URL (with a trailing slash).

    `serve_options` are further ServeOptions fields (limits, models, hub, request_timeout, max_queue, ...).
    """
    options = ServeOptions(host="127.0.0.1", port=free_port(), share=False, model=None,
                           allow_local=tuple(allow_local), concurrency=concurrency)
    options = replace(options, **serve_options)
    demo = build_demo(options=options)
    _, url, _ = launch(demo, options, prevent_thread_lock=True, quiet=True)
    try:
        yield url
    finally:
        demo.close()
