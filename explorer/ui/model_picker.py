"""The model picker: which names a web request may load, the choices offered, and what the page says about a model."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from explorer.bundled import BUNDLED_MODELS, available_bundled, is_bundled_alias
from explorer.compare import MAX_MODELS, MIN_MODELS
from explorer.errors import InputError
from explorer.models import ModelInfo, is_hub_id
from explorer.ui.errors import hide_paths

# Offered after the bundled models; any other hub id can be typed.
WELL_KNOWN_HUB_MODELS: tuple[str, ...] = (
    "bert-base-uncased",
    "distilbert-base-uncased",
    "roberta-base",
    "albert-base-v2",
    "google/electra-small-generator",
    "xlm-roberta-base",
    "answerdotai/ModernBERT-base",
)



def check_model_name(name: str, allowed_dirs: Sequence[str | Path] = (), *, models: Sequence[str] | None = None,
                     hub: bool = True) -> str:
    """The name to hand to `load_model` for a model named in a web request, or an error saying why not
    (`classify_model_name` without the form)."""
    return classify_model_name(name, allowed_dirs, models=models, hub=hub)[0]


def classify_model_name(name: str, allowed_dirs: Sequence[str | Path] = (), *,
                        models: Sequence[str] | None = None, hub: bool = True) -> tuple[str, str]:
    """(name to load, its form: "bundled", "hub" or "local") for a model named in a web request.

    A name is a bundled alias, a Hugging Face hub id, or a path (starting with "/", "." or "~") inside one of
    `allowed_dirs` (the operator's `--allow-local` folders; none by default) — decided by its form alone, never
    by what exists in the server's working directory, and no message names a server folder. Symbolic links are
    resolved before the allow-list check.

    Args:
        name: what the person typed or picked.
        allowed_dirs: folders under which local models may be opened.
        models: the operator's `--models` list: when given, only these names.
        hub: False (`--no-hub`) refuses hub ids.
    Returns:
        A bundled alias, a hub id, or the absolute path of an allowed folder, with its form.
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError('No model given; pick one from the list, e.g. "mini-bert".')
    name = name.strip()
    if models is not None and name not in models:
        raise InputError(f"{name!r} is not offered on this server; pick one of {', '.join(models)}.")
    if is_bundled_alias(name):
        return name, "bundled"  # load_model says so if its files are missing; it never sends an alias to the Hub
    if name.startswith(("/", ".", "~")):
        return str(_allowed_folder(name, allowed_dirs)), "local"
    if not is_hub_id(name):
        raise InputError(
            f"{name!r} is not a model name this page can load; give a bundled alias (mini-bert), a hub id "
            f"such as bert-base-uncased or google/electra-small-generator, or a folder the server allows."
        )
    if not hub:
        raise InputError(f"{name!r} would come from the Hugging Face Hub, and this server loads no Hub models; "
                         f"pick one of the models in the list.")
    return name, "hub"


def _allowed_folder(name: str, allowed_dirs: Sequence[str | Path]) -> Path:
    if not allowed_dirs:
        raise InputError(
            f"{name!r} is a path, and this server opens no local folders; the operator can allow some with "
            f"--allow-local DIR. Pick a bundled or hub model instead."
        )
    try:
        folder = Path(name).expanduser().resolve()
    except (OSError, RuntimeError):
        raise InputError(f"No folder {name!r} on the server; check the path.") from None
    roots = [Path(d).expanduser().resolve() for d in allowed_dirs]
    # The allow-list is checked before existence so that the page never tells whether a path outside it exists.
    if not any(folder == root or folder.is_relative_to(root) for root in roots):
        raise InputError(f"{name!r} is outside the folders this server allows; pick a model there.")
    if not folder.exists():
        raise InputError(f"No folder {name!r} on the server; check the path.")
    if not folder.is_dir():
        raise InputError(f"{name!r} is not a folder; give the folder that holds config.json.")
    return folder


def model_choices(models: Sequence[str] | None = None, hub: bool = True) -> list[tuple[str, str]]:
    """(label, name) pairs for the picker: installed bundled models first, then well-known hub models.

    With the operator's `models` list, exactly those; with `hub` False, no hub models.
    """
    if models is not None:
        return [(f"{name} (bundled)" if is_bundled_alias(name) else name, name) for name in models]
    installed = available_bundled() or BUNDLED_MODELS
    bundled = [(f"{m.alias} (bundled)", m.alias) for m in installed]
    hub_models = [(f"{name} (Hugging Face Hub)", name) for name in WELL_KNOWN_HUB_MODELS]
    return bundled + (hub_models if hub else [])


def default_compare_models(models: Sequence[str] | None = None) -> list[str]:
    """The models selected in Compare when the page opens: the first two bundled ones (or of `models`)."""
    if models is not None:
        return list(models[:2])
    installed = [m.alias for m in available_bundled()]
    return (installed or [m.alias for m in BUNDLED_MODELS])[:2]


def build_model_picker(value: str, models: Sequence[str] | None = None, hub: bool = True) -> gr.Dropdown:
    """The picker: a dropdown of known models that also takes any typed hub id (only `models` when given)."""
    return gr.Dropdown(
        choices=model_choices(models, hub),
        value=value,
        allow_custom_value=models is None,
        label="Model",
        info="A bundled model, a Hugging Face hub id (e.g. bert-base-cased), or a folder the server allows.",
        elem_id="model-picker",
        scale=3,
    )


def render_model_info(info: ModelInfo) -> str:
    """One line of HTML about a loaded model: architecture, device, dtype, layers, heads, parameters."""
    source = "bundled" if info.bundled else html.escape(info.source)
    facts = [
        html.escape(info.architecture),
        f"device <b>{html.escape(info.device)}</b>",
        f"dtype <b>{html.escape(info.dtype)}</b>",
        f"<b>{info.layers}</b> layers × <b>{info.heads}</b> heads",
        f"<b>{_count(info.parameters)}</b> parameters",
        f"vocabulary {info.vocab_size:,}",
        f"mask token <code>{html.escape(info.mask_token)}</code>",
    ]
    note = (
        "<br><span class='muted'>A small demo model trained offline on a few million words, far weaker than "
        "bert-base: use it to learn the tool, and for real work type a Hugging Face model such as "
        "<code>bert-base-uncased</code> in the Model box.</span>"
        if info.bundled
        else ""
    )
    return (f"<div class='model-info'><b>{html.escape(info.name)}</b> <span class='muted'>({source})</span>: "
            + " · ".join(facts) + note + "</div>")


def render_model_problem(message: str) -> str:
    """The model-facts line saying why the model cannot be shown (said in place, not as a pop-up error); no
    server folder in it, escaped."""
    return f"<div class='model-info'>⚠ {html.escape(hide_paths(message))}</div>"


def _count(n: int) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.2f} B"
    if n >= 1e6:
        return f"{n / 1e6:.1f} M"
    return f"{n / 1e3:.0f} k"


def check_model_names(names: Sequence[str] | str | None) -> list[str]:
    """The models picked for Compare, without blanks and repeats, 2 to 4 of them (or an error saying so)."""
    if isinstance(names, str):
        names = [names]
    if names is not None and (not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names)):
        shown = repr(names)[:40]
        raise InputError(f"models must be a list of strings, not {type(names).__name__} {shown}.")
    picked = list(dict.fromkeys(n.strip() for n in names or () if n and n.strip()))
    if not MIN_MODELS <= len(picked) <= MAX_MODELS:
        raise InputError(f"Compare needs {MIN_MODELS} to {MAX_MODELS} different models; {len(picked)} "
                         f"picked. Choose them in the box above the Compare button.")
    return picked
