"""Shared fixtures: tiny masked language models saved to folders, built once per test session."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from tiny_models import ARCHITECTURES, build_tiny_model


class TinyModelDirs(Mapping[str, Path]):
    """``arch -> folder`` for every architecture in ``ARCHITECTURES``; each model is built on first access."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._built: dict[str, Path] = {}

    def __getitem__(self, arch: str) -> Path:
        if arch not in ARCHITECTURES:
            raise KeyError(arch)
        if arch not in self._built:
            self._built[arch] = build_tiny_model(arch, self._root / arch)
        return self._built[arch]

    def __iter__(self) -> Iterator[str]:
        return iter(ARCHITECTURES)

    def __len__(self) -> int:
        return len(ARCHITECTURES)


@pytest.fixture(scope="session")
def tiny_model_dirs(tmp_path_factory: pytest.TempPathFactory) -> TinyModelDirs:
    """All tiny models by architecture name, built lazily and cached for the session."""
    return TinyModelDirs(tmp_path_factory.mktemp("tiny_models"))


@pytest.fixture(scope="session", params=ARCHITECTURES, ids=ARCHITECTURES)
def tiny_model_dir(request: pytest.FixtureRequest, tiny_model_dirs: TinyModelDirs) -> Path:
    """The folder of one tiny model (model + tokenizer), named after its architecture; tests using it run once
    per architecture."""
    return tiny_model_dirs[request.param]


@pytest.fixture(scope="session")
def bundled_assets_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dirs: TinyModelDirs) -> Path:
    """An assets folder holding both bundled models: the repository's when they are there, else tiny stand-ins
    (tests/bundled_assets.py). Point $MLM_EXPLORER_ASSETS at it with the `bundled_assets` fixture."""
    from bundled_assets import REPO_ASSETS, build_stand_in_assets, real_assets_present

    if real_assets_present():
        return REPO_ASSETS
    return build_stand_in_assets(tmp_path_factory.mktemp("assets"), tiny_model_dirs)


@pytest.fixture(scope="module")
def bundled_assets(bundled_assets_dir: Path) -> Iterator[Path]:
    """$MLM_EXPLORER_ASSETS set to `bundled_assets_dir` for one test module (restored after it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLM_EXPLORER_ASSETS", str(bundled_assets_dir))
        yield bundled_assets_dir
