"""`python app.py` starts the web app on the address Gradio's environment variables name."""

from __future__ import annotations

import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_app_py_honours_gradio_server_port():
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    process = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    assert response.status == 200
                    assert "MLM Explorer" in response.read().decode()
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "the app did not start within 120 s"
                time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=30)


def run_app_py(monkeypatch, *argv: str) -> int:
    """`python app.py ARGV...` in this process; returns its exit status."""
    monkeypatch.setattr(sys, "argv", ["app.py", *argv])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(REPO / "app.py"), run_name="__main__")
    return exit_info.value.code


def test_a_missing_allow_local_folder_is_a_usage_error(capsys, monkeypatch, tmp_path):
    from explorer.cli import main as cli_main

    missing = str(tmp_path / "missing")
    assert run_app_py(monkeypatch, "--allow-local", missing) == 2
    assert "no such folder" in capsys.readouterr().err
    assert cli_main(["serve", "--allow-local", missing]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_app_py_takes_the_serve_flags(capsys, monkeypatch):
    assert run_app_py(monkeypatch, "--help") == 0
    usage = capsys.readouterr().out
    for flag in ("--host", "--port", "--share", "--model", "--allow-local", "--concurrency"):
        assert flag in usage
