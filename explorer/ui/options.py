"""The web app's command-line options, shared by `python app.py` and `mlm-explorer serve` (no gradio import here,
so the CLI starts fast)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from explorer.errors import InputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """Where and how to serve the app, with Gradio's environment variables applied."""

    host: str
    port: int
    share: bool
    model: str | None
    allow_local: tuple[Path, ...]
    concurrency: int


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """--host, --port, --share, --model, --allow-local and --concurrency."""
    parser.add_argument("--host", default=None,
                        help=f"address to bind (default $GRADIO_SERVER_NAME or {DEFAULT_HOST}; 0.0.0.0 for a LAN)")
    parser.add_argument("--port", type=int, default=None,
                        help=f"port (default $GRADIO_SERVER_PORT or {DEFAULT_PORT})")
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link (needs internet)")
    parser.add_argument("--model", default=None, help="model selected when the page opens")
    parser.add_argument(
        "--allow-local", action="append", default=[], metavar="DIR",
        help="let the page open model folders inside DIR (repeatable; by default the page opens no local folders)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=None,
        help=f"requests computed at once, shared by all users (default $GRADIO_DEFAULT_CONCURRENCY_LIMIT or "
             f"{DEFAULT_CONCURRENCY})",
    )


def read_serve_options(args: argparse.Namespace) -> ServeOptions:
    """The options of parsed arguments; command-line values win over Gradio's environment variables."""
    port_env = os.environ.get("GRADIO_SERVER_PORT", "")
    concurrency_env = os.environ.get("GRADIO_DEFAULT_CONCURRENCY_LIMIT", "")
    folders = []
    for raw in getattr(args, "allow_local", None) or []:
        folder = Path(raw).expanduser()
        if not folder.is_dir():
            raise InputError(f"--allow-local {raw}: no such folder; give a folder that holds model folders.")
        folders.append(folder.resolve())
    concurrency = args.concurrency or (int(concurrency_env) if concurrency_env.isdigit() else DEFAULT_CONCURRENCY)
    return ServeOptions(
        host=args.host or os.environ.get("GRADIO_SERVER_NAME") or DEFAULT_HOST,
        port=args.port or (int(port_env) if port_env.isdigit() else DEFAULT_PORT),
        share=bool(args.share),
        model=args.model,
        allow_local=tuple(folders),
        concurrency=max(1, concurrency),
    )


def startup_message(local_url: str, share_url: str | None) -> str:
    """What the server prints once it listens: where to open it, and how to share it (the --share flag)."""
    lines = [f"* Running on local URL:  {local_url}"]
    if share_url:
        lines.append(f"* Running on public URL: {share_url} (anyone with the link can use it; Ctrl+C stops it)")
    else:
        lines.append("* To create a public link, pass --share (mlm-explorer serve --share, or python app.py --share).")
    return "\n".join(lines)
