"""Serving options (explorer/ui/options.py): flags, Gradio's environment variables, --allow-local."""

from __future__ import annotations

import argparse

import pytest

from explorer.cli import build_parser
from explorer.errors import InputError
from explorer.ui.options import DEFAULT_CONCURRENCY, DEFAULT_HOST, DEFAULT_PORT, add_serve_arguments, read_serve_options


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    return parser.parse_args(argv)


def test_defaults_bind_localhost_only(monkeypatch):
    for name in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "GRADIO_DEFAULT_CONCURRENCY_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    options = read_serve_options(parse())
    assert (options.host, options.port, options.share) == (DEFAULT_HOST, DEFAULT_PORT, False)
    assert options.allow_local == () and options.concurrency == DEFAULT_CONCURRENCY > 1


def test_gradio_environment_variables_are_honoured_and_flags_win(monkeypatch):
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    monkeypatch.setenv("GRADIO_DEFAULT_CONCURRENCY_LIMIT", "8")
    options = read_serve_options(parse())
    assert (options.host, options.port, options.concurrency) == ("0.0.0.0", 7999, 8)
    options = read_serve_options(parse("--host", "127.0.0.1", "--port", "8001", "--concurrency", "2", "--share"))
    assert (options.host, options.port, options.concurrency, options.share) == ("127.0.0.1", 8001, 2, True)


def test_allow_local_takes_existing_folders(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    options = read_serve_options(parse("--allow-local", str(tmp_path / "a"), "--allow-local", str(tmp_path / "b")))
    assert options.allow_local == ((tmp_path / "a").resolve(), (tmp_path / "b").resolve())
    with pytest.raises(InputError, match="no such folder"):
        read_serve_options(parse("--allow-local", str(tmp_path / "missing")))


def test_the_cli_serve_command_has_the_same_options():
    args = build_parser().parse_args(["serve", "--port", "7001", "--allow-local", ".", "--model", "mini-roberta"])
    assert (args.port, args.allow_local, args.model) == (7001, ["."], "mini-roberta")


def test_building_the_cli_parser_does_not_import_gradio():
    import subprocess
    import sys

    code = "import sys, explorer.cli as c; c.build_parser(); print('gradio' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() \
        == "False"
