"""The app's API for `gradio_client`: /predict, /attention, /attribute and /compare, each returning the CLI's JSON
document for that command as a JSON value.

Type hints are evaluated here (no `from __future__ import annotations`): Gradio reads them to describe the API.
"""

from collections.abc import Callable
from typing import Any

import gradio as gr

from explorer.attribution import DEFAULT_STEPS
from explorer.bundled import default_model
from explorer.compare import compare_models
from explorer.documents import attention_document, attribution_document, compare_document, predict_document
from explorer.errors import InputError
from explorer.rollout import attention_rollout
from explorer.ui.errors import shows_errors
from explorer.ui.layers_api import build_layers_api
from explorer.ui.model_picker import check_model_names
from explorer.ui.page import DEFAULT_TOP_K
from explorer.ui.state import AppState

API_NAMES = ("predict", "attention", "attribute", "compare")


def to_whole_number(value: Any, name: str) -> int:
    """`value` as an int when it is a whole number (JSON clients may send 5.0); otherwise an error naming it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be a whole number, not {value!r}.")
    return value


def build_api(state: AppState) -> None:
    """Register the four API endpoints on the Blocks being built."""
    default = default_model()

    def predict(text: str, model: str = default, top_k: int = DEFAULT_TOP_K) -> dict:
        """Top-k fillers of every mask in `text`: the `mlm-explorer predict --json` document."""
        loaded = state.model(model)
        result = state.analysis(loaded, text, to_whole_number(top_k, "top_k")).fill_mask
        return predict_document(loaded.info, [result])

    def attention(text: str, model: str = default, rollout: bool = False) -> dict:
        """Every head's attention weights for `text` (and, with `rollout`, attention rollout): the
        `mlm-explorer attention --json [--rollout]` document."""
        loaded = state.model(model)
        maps = state.text_pass(loaded, text).attention
        return attention_document(maps, loaded.info, rollout=attention_rollout(maps) if rollout else None)

    def attribute(text: str, model: str = default, mask: int = 0, target: str = "", steps: int = DEFAULT_STEPS,
                  contrast: str = "", method: str = "ig") -> dict:
        """Which input tokens drove the prediction of `target` (empty: the top-1) at mask `mask` (0 = first):
        the `mlm-explorer attribute --json` document."""
        loaded = state.model(model)
        result = state.attribution(loaded, text, to_whole_number(mask, "mask"), target, contrast, method,
                                   to_whole_number(steps, "steps"))
        return attribution_document(result)

    def compare(text: str, models: list[str], top_k: int = DEFAULT_TOP_K) -> dict:
        """2 to 4 models on the same text, side by side with their agreement: the `mlm-explorer compare --json`
        document."""
        loaded = [state.model(name) for name in check_model_names(models)]
        return compare_document(compare_models(loaded, text, top_k=to_whole_number(top_k, "top_k")))

    endpoints: tuple[Callable[..., dict], ...] = (predict, attention, attribute, compare)
    for name, fn in zip(API_NAMES, endpoints, strict=True):
        gr.api(shows_errors(fn), api_name=name)
    build_layers_api(state)  # /layers, /ablate, /head_effects

