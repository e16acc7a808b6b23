"""The app's API for `gradio_client`: /predict, /attention, /attribute, /compare, /score and /pairs, each returning
the CLI's JSON document for that command as a JSON value.

Type hints are evaluated here (no `from __future__ import annotations`): Gradio reads them to describe the API.
"""

from collections.abc import Callable

import gradio as gr

from explorer.attribution import DEFAULT_STEPS
from explorer.bundled import default_model
from explorer.documents import attention_document, attribution_document, compare_document, predict_document
from explorer.rollout import attention_rollout
from explorer.ui.errors import shows_errors
from explorer.ui.layers_api import build_layers_api
from explorer.ui.model_picker import check_model_names
from explorer.ui.page import DEFAULT_TOP_K
from explorer.ui.score_tab import pairs_request, score_request
from explorer.ui.state import AppState

API_NAMES = ("predict", "attention", "attribute", "compare", "score", "pairs")


def build_api(state: AppState) -> dict[str, Callable[..., dict]]:
    """Register the API endpoints (`API_NAMES`) on the Blocks being built; returns them by name, as Gradio calls
    them."""
    default = default_model()

    limits = state.limits

    def predict(text: str, model: str = default, top_k: int = DEFAULT_TOP_K) -> dict:
        """Top-k fillers of every mask in `text`: the `mlm-explorer predict --json` document."""
        args = limits.check_request(text=text, model=model, top_k=top_k)  # before any tokenising
        loaded = state.model(args["model"])
        analysis = state.analysis(loaded, args["text"], args["top_k"])
        return predict_document(loaded.info, [analysis.fill_mask])

    def attention(text: str, model: str = default, rollout: bool = False) -> dict:
        """Every head's attention weights for `text` (and, with `rollout`, attention rollout): the
        `mlm-explorer attention --json [--rollout]` document."""
        args = limits.check_request(text=text, model=model, rollout=rollout)
        loaded = state.model(args["model"])
        maps = state.attention(loaded, args["text"])
        rollout = args["rollout"]
        return attention_document(maps, loaded.info, rollout=attention_rollout(maps) if rollout else None)

    def attribute(text: str, model: str = default, mask: int = 0, target: str = "", steps: int = DEFAULT_STEPS,
                  contrast: str = "", method: str = "ig") -> dict:
        """Which input tokens drove the prediction of `target` (empty: the top-1) at mask `mask` (0 = first):
        the `mlm-explorer attribute --json` document."""
        args = limits.check_request(text=text, model=model, mask=mask, target=target, steps=steps,
                                    contrast=contrast, method=method)
        loaded = state.model(args["model"])
        result = state.attribution(loaded, args["text"], args["mask"], args["target"], args["contrast"],
                                   args["method"], args["steps"])
        return attribution_document(result)

    def compare(text: str, models: list[str], top_k: int = DEFAULT_TOP_K) -> dict:
        """2 to 4 models on the same text, side by side with their agreement: the `mlm-explorer compare --json`
        document."""
        args = limits.check_request(text=text, models=models, top_k=top_k)
        names = check_model_names(args["models"])
        loaded = [state.model(name) for name in names]
        return compare_document(state.comparison(loaded, args["text"], args["top_k"]))

    def score(texts: list[str], model: str = default, metric: str = "pll") -> dict:
        """The pseudo-log-likelihood of each sentence (metric "pll" or "pll-word-l2r"): the `mlm-explorer score
        --json` document."""
        args = limits.check_request(texts=texts, model=model, method=metric)  # before any tokenising
        return score_request(state, args["texts"], args["model"], args["method"])

    def pairs(pairs: list[list[str]], model: str = default, metric: str = "pll") -> dict:
        """Which sentence of each pair ([first, second] or [first, second, category]) the model prefers (metric
        "pll", "pll-word-l2r" or "crows"): the `mlm-explorer pairs --json` document."""
        args = limits.check_request(items=pairs, model=model, method=metric)
        checked = [[limits.check_text(side, "a pair's sentence") for side in pair] if isinstance(pair, list)
                   else pair for pair in args["items"]]
        return pairs_request(state, checked, args["model"], args["method"])

    endpoints: tuple[Callable[..., dict], ...] = (predict, attention, attribute, compare, score, pairs)
    published = {}
    for name, fn in zip(API_NAMES, endpoints, strict=True):
        published[name] = shows_errors(fn, endpoint=f"/{name}")
        gr.api(published[name], api_name=name)
    published.update(build_layers_api(state))  # /layers, /ablate, /head_effects
    return published

