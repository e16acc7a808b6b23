"""The masked language models that ship with MLM Explorer under `assets/models/`, found by short aliases."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL_ENV = "MLM_EXPLORER_MODEL"
ASSETS_ENV = "MLM_EXPLORER_ASSETS"


@dataclass(frozen=True, slots=True)
class BundledModel:
    """One bundled model: its alias, folder name under `assets/models/` and a one-line description."""

    alias: str
    description: str


BUNDLED_MODELS: tuple[BundledModel, ...] = (
    BundledModel(
        alias="mini-bert",
        description="Small demo BERT (6 layers, WordPiece), MiniLM encoder with an MLM head trained here",
    ),
    BundledModel(
        alias="mini-roberta",
        description="Small demo RoBERTa-style model with its own byte-level BPE vocabulary, trained here",
    ),
)


def assets_dir() -> Path:
    """Folder holding the bundled models: `$MLM_EXPLORER_ASSETS`; else `explorer/assets/` in an installed wheel
    (setup.py copies the models there); else the checkout's top-level `assets/`."""
    override = os.environ.get(ASSETS_ENV)
    if override:
        return Path(override)
    package = Path(__file__).resolve().parent
    installed = package / "assets"
    if (installed / "models").is_dir():
        return installed
    return package.parent / "assets"


def is_bundled_alias(name: str) -> bool:
    """Whether `name` is the alias of a bundled model, installed or not."""
    return any(m.alias == name for m in BUNDLED_MODELS)


def bundled_path(alias: str) -> Path | None:
    """Folder of the bundled model called `alias`, or None when no such model is present on disk."""
    if not is_bundled_alias(alias):
        return None
    folder = assets_dir() / "models" / alias
    return folder if (folder / "config.json").is_file() else None


def available_bundled() -> tuple[BundledModel, ...]:
    """The bundled models whose weights are present, default first."""
    return tuple(m for m in BUNDLED_MODELS if bundled_path(m.alias) is not None)


def default_model() -> str:
    """Name of the model used when none is given: `$MLM_EXPLORER_MODEL`, else the first bundled model."""
    return os.environ.get(DEFAULT_MODEL_ENV) or BUNDLED_MODELS[0].alias
