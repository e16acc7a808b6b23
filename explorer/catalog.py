"""What models can be used here without a download: the bundled ones, then masked LMs in the Hugging Face cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForMaskedLM
from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING

from explorer.bundled import available_bundled, bundled_path


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One usable model; `path` is its folder (bundled) or cache snapshot (hub), None when unknown."""

    name: str
    bundled: bool
    path: str | None
    architecture: str
    parameters: int
    description: str


def list_models() -> tuple[ModelEntry, ...]:
    """Bundled models first (default first), then every masked LM found in the local Hugging Face cache."""
    entries = []
    for model in available_bundled():
        folder = bundled_path(model.alias)
        entry = _describe_folder(model.alias, folder, bundled=True, description=model.description)
        if entry is not None:
            entries.append(entry)
    entries.extend(_cached_hub_models())
    return tuple(entries)


def _describe_folder(name: str, folder: Path, *, bundled: bool, description: str) -> ModelEntry | None:
    try:
        config = AutoConfig.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError):
        return None
    if type(config) not in MODEL_FOR_MASKED_LM_MAPPING:
        return None
    # Building on the meta device allocates nothing, yet counts parameters exactly (tied weights once).
    with torch.device("meta"):
        model = AutoModelForMaskedLM.from_config(config)
    architecture = type(model).__name__
    return ModelEntry(
        name=name,
        bundled=bundled,
        path=str(folder),
        architecture=architecture,
        parameters=sum(p.numel() for p in model.parameters()),
        description=description or f"{architecture} from the Hugging Face cache",
    )


def _cached_hub_models() -> list[ModelEntry]:
    try:
        from huggingface_hub import scan_cache_dir

        cache = scan_cache_dir()
    except Exception:  # no cache folder yet, or an unreadable one: nothing cached to offer
        return []
    entries = []
    for repo in sorted(cache.repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model" or not repo.revisions:
            continue
        snapshot = max(repo.revisions, key=lambda r: r.last_modified).snapshot_path
        if not (snapshot / "config.json").is_file():
            continue
        entry = _describe_folder(repo.repo_id, snapshot, bundled=False, description="")
        if entry is not None:
            entries.append(entry)
    return entries

