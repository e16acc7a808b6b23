"""The bundled models for tests of the app: the real ones under assets/ when both are there, else tiny stand-ins.

The app's bundled aliases (mini-bert, mini-roberta) resolve under `$MLM_EXPLORER_ASSETS/models/`. While the real
models are not in the repository yet, the tests build a temporary assets folder with the tiny random "bert" model
as mini-bert and the tiny "roberta" model as mini-roberta, so the same tests switch to the real models on their
own once those land.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from explorer.bundled import BUNDLED_MODELS

REPO_ASSETS = Path(__file__).resolve().parent.parent / "assets"
# Which tiny architecture stands in for which bundled alias.
STAND_INS = {"mini-bert": "bert", "mini-roberta": "roberta"}


def real_assets_present(assets: Path = REPO_ASSETS) -> bool:
    """Whether every bundled model has a config.json under `assets/models/`."""
    return all((assets / "models" / m.alias / "config.json").is_file() for m in BUNDLED_MODELS)


def build_stand_in_assets(root: Path, tiny_model_dirs: Mapping[str, Path]) -> Path:
    """An assets folder under `root` whose bundled aliases are copies of tiny models; returns the folder."""
    for alias, arch in STAND_INS.items():
        target = root / "models" / alias
        if not target.exists():
            shutil.copytree(tiny_model_dirs[arch], target)
    return root
