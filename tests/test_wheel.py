"""The package as a user installs it: a wheel built from this checkout, installed into a fresh venv (no -e), finds
and runs the bundled default model with the network blocked.

The fresh venv borrows this interpreter's installed libraries (torch, transformers, ...) through a `.pth` line, so
nothing is downloaded; the checkout itself is never on its path. Build and install take ~15 s on 2 cores (the wheel
carries ~60 MB of models); `-m "not wheel"` leaves it out of a local run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from explorer.bundled import BUNDLED_MODELS

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.wheel


def offline_env(home: Path) -> dict[str, str]:
    """The environment of a user with no network and none of this checkout's settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "MLM_EXPLORER_ASSETS", "MLM_EXPLORER_MODEL", "VIRTUAL_ENV")}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(home / "hf"), NO_PROXY="", no_proxy="",
               https_proxy="http://127.0.0.1:9", http_proxy="http://127.0.0.1:9",  # a dead proxy
               HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", PIP_NO_INDEX="1")
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the wheel of this checkout installed; returns the venv folder."""
    root = tmp_path_factory.mktemp("wheel")
    env = offline_env(root)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(root / "dist"),
         str(REPO)], capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    wheels = list((root / "dist").glob("mlm_explorer-*.whl"))
    assert len(wheels) == 1, wheels
    names = zipfile.ZipFile(wheels[0]).namelist()
    for model in BUNDLED_MODELS:
        assert f"explorer/assets/models/{model.alias}/model.safetensors" in names
        assert f"explorer/assets/models/{model.alias}/tokenizer.json" in names
    assert not [n for n in names if n.startswith(("assets/", "tests/", "scripts/"))]

    target = root / "venv"
    venv.create(target, with_pip=False)
    python = target / "bin" / "python"
    where_site = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.check_output([str(python), "-c", where_site], text=True, env=env).strip())
    # This interpreter's libraries, as a plain path line: its own .pth files (an editable install of the
    # checkout among them) are not read from there.
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "borrowed-libraries.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
         str(wheels[0])], capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    return target


def test_the_installed_wheel_predicts_with_the_default_model_offline(installed, tmp_path):
    env = offline_env(tmp_path)
    command = [str(installed / "bin" / "mlm-explorer"), "predict", "--json", "Paris is the [MASK] of France."]
    run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["model"] == BUNDLED_MODELS[0].alias
    assert len(document["results"][0]["masks"][0]["predictions"]) == 5

    where = subprocess.run([str(installed / "bin" / "python"), "-c",
                            "import explorer, explorer.bundled as b; print(explorer.__file__); print(b.assets_dir())"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert where.returncode == 0, where.stderr
    package, assets = (Path(line) for line in where.stdout.split())
    assert package.is_relative_to(installed), f"explorer imported from {package}, not the installed wheel"
    assert assets == package.parent / "assets" and not assets.is_relative_to(REPO)
