"""Packaging hook (the project is declared in pyproject.toml): ship the bundled models in every wheel and sdist.

The models live in the repository's top-level `assets/models/` (the design keeps them out of the code folder); a
wheel carries them as `explorer/assets/models/`, where `explorer.bundled.assets_dir()` looks first. An editable
install reads `assets/` in place and copies nothing.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MODELS = Path(__file__).resolve().parent / "assets" / "models"


class BuildPyWithModels(build_py):
    """`build_py` that also copies `assets/models/` to `<build>/explorer/assets/models/`."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False) or not MODELS.is_dir():
            return
        target = Path(self.build_lib) / "explorer" / "assets" / "models"
        shutil.rmtree(target, ignore_errors=True)
        # Model folders only: no training checkpoints or editor files that might sit beside them.
        shutil.copytree(MODELS, target, ignore=shutil.ignore_patterns("*.pt", "*.bin", "*.tmp", ".*"))

    def get_outputs(self, include_bytecode: bool = True) -> list:
        outputs = list(super().get_outputs(include_bytecode))
        target = Path(self.build_lib) / "explorer" / "assets" / "models"
        if target.is_dir():
            outputs.extend(str(p) for p in target.rglob("*") if p.is_file())
        return outputs


setup(cmdclass={"build_py": BuildPyWithModels})
