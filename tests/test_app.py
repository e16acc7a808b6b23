"""`python app.py` starts the web app on the address Gradio's environment variables name."""

from __future__ import annotations

import os
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


def test_a_missing_allow_local_folder_is_a_usage_error(capsys, tmp_path):
    from explorer.cli import main as cli_main
    from explorer.ui.app import main as app_main

    missing = str(tmp_path / "missing")
    with pytest.raises(SystemExit) as exit_info:
        app_main(["--allow-local", missing])
    assert exit_info.value.code == 2 and "no such folder" in capsys.readouterr().err
    assert cli_main(["serve", "--allow-local", missing]) == 2
    assert "no such folder" in capsys.readouterr().err
