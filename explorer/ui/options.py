"""The web app's command-line options, shared by `python app.py` and `mlm-explorer serve` (no gradio import here,
so the CLI starts fast)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from explorer.errors import InputError
from explorer.limits import ENVIRONMENT, Limits
from explorer.ui.deadline import DEFAULT_REQUEST_TIMEOUT

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_CONCURRENCY = 4
# Requests waiting beyond the running ones; past it a request is told the server is busy.
DEFAULT_MAX_QUEUE = 64
# Gradio's own cache (downloads handed to browsers): every hour, files older than an hour are deleted.
DELETE_CACHE = (3600, 3600)
# Limits fields that are also flags (--max-chars N, ...); the others only have their environment variable.
LIMIT_FLAGS = ("max_chars", "max_masks", "max_top_k", "max_steps", "max_attention_weights", "max_items",
               "max_model_params")


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """Where and how to serve the app, with Gradio's environment variables applied."""

    host: str
    port: int
    share: bool
    model: str | None
    allow_local: tuple[Path, ...]
    concurrency: int
    limits: Limits = Limits()
    models: tuple[str, ...] | None = None  # --models: only these can be picked
    hub: bool = True  # --no-hub: no model from the Hugging Face Hub
    request_timeout: float | None = DEFAULT_REQUEST_TIMEOUT
    max_queue: int = DEFAULT_MAX_QUEUE
    log_format: str = "text"
    warm: bool = True  # load the default model before the first request


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
    add_public_arguments(parser)


def add_public_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of a public server: who may load what, limits, time, queue and logs."""
    public = parser.add_argument_group("serving the public")
    public.add_argument("--models", default=None, metavar="NAME,...",
                        help="only these models can be picked (bundled aliases, hub ids, allowed folders)")
    public.add_argument("--no-hub", action="store_true", help="never load a model from the Hugging Face Hub")
    defaults = Limits()
    for name in LIMIT_FLAGS:
        public.add_argument(f"--{name.replace('_', '-')}", type=int, default=None, metavar="N",
                            help=f"default ${ENVIRONMENT[name]} or {getattr(defaults, name):,}")
    public.add_argument("--request-timeout", type=float, default=None, metavar="SECONDS",
                        help=f"stop a request after this long (default $MLM_EXPLORER_REQUEST_TIMEOUT or "
                             f"{DEFAULT_REQUEST_TIMEOUT:g}; 0: never)")
    public.add_argument("--max-queue", type=int, default=None, metavar="N",
                        help=f"requests waiting at most; more are told the server is busy (default "
                             f"$MLM_EXPLORER_MAX_QUEUE or {DEFAULT_MAX_QUEUE})")
    public.add_argument("--log-format", choices=("text", "json"), default=None,
                        help="one line per request on stderr, as text (default) or JSON")
    public.add_argument("--no-warm", action="store_true", help="do not load the default model before serving")


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
    limits = Limits.from_env(**{name: getattr(args, name, None) for name in LIMIT_FLAGS})
    models = None
    if getattr(args, "models", None):
        models = tuple(dict.fromkeys(n.strip() for n in args.models.split(",") if n.strip())) or None
    model = args.model
    if models is not None and model is not None and model not in models:
        raise InputError(f"--model {model} is not in --models; add it there or pick one of {', '.join(models)}.")
    timeout = _number(getattr(args, "request_timeout", None), "MLM_EXPLORER_REQUEST_TIMEOUT",
                      DEFAULT_REQUEST_TIMEOUT)
    max_queue = int(_number(getattr(args, "max_queue", None), "MLM_EXPLORER_MAX_QUEUE", DEFAULT_MAX_QUEUE))
    return ServeOptions(
        host=args.host or os.environ.get("GRADIO_SERVER_NAME") or DEFAULT_HOST,
        port=args.port or (int(port_env) if port_env.isdigit() else DEFAULT_PORT),
        share=bool(args.share),
        model=model if model is not None else (models[0] if models else None),
        allow_local=tuple(folders),
        concurrency=max(1, concurrency),
        limits=limits,
        models=models,
        hub=not getattr(args, "no_hub", False),
        request_timeout=timeout or None,
        max_queue=max(1, max_queue),
        log_format=getattr(args, "log_format", None) or os.environ.get("MLM_EXPLORER_LOG_FORMAT") or "text",
        warm=not getattr(args, "no_warm", False),
    )


def startup_message(local_url: str, share_url: str | None) -> str:
    """What the server prints once it listens: where to open it, and how to share it (the --share flag)."""
    lines = [f"* Running on local URL:  {local_url}"]
    if share_url:
        lines.append(f"* Running on public URL: {share_url} (anyone with the link can use it; Ctrl+C stops it)")
    else:
        lines.append("* To create a public link, pass --share (mlm-explorer serve --share, or python app.py --share).")
    return "\n".join(lines)


def _number(flag: float | None, variable: str, default: float) -> float:
    """A flag's value, else its environment variable's, else the default; never negative."""
    if flag is not None:
        value = flag
    else:
        raw = os.environ.get(variable, "").strip()
        try:
            value = float(raw) if raw else default
        except ValueError:
            raise InputError(f"${variable} must be a number, not {raw!r}.") from None
    if value < 0:
        raise InputError(f"{variable.removeprefix('MLM_EXPLORER_').lower()} must be 0 or more, not {value:g}.")
    return value
