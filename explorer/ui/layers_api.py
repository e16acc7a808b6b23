"""The layers view's API for `gradio_client`: /layers, /ablate and /head_effects, each returning the CLI's document.

Type hints are evaluated here (no `from __future__ import annotations`): Gradio reads them to describe the API.
"""

import gradio as gr

from explorer.bundled import default_model
from explorer.documents import ablation_document, head_effects_document, layers_document
from explorer.ui.errors import shows_errors
from explorer.ui.layers_state import cached_ablation, cached_effects, cached_layers
from explorer.ui.page import DEFAULT_TOP_K
from explorer.ui.state import AppState

LAYERS_API_NAMES = ("layers", "ablate", "head_effects")


def build_layers_api(state: AppState) -> dict:
    """Register /layers, /ablate and /head_effects on the Blocks being built; returns them by name."""
    default = default_model()

    def layers(text: str, model: str = default, top_k: int = DEFAULT_TOP_K) -> dict:
        """The MLM head's top-k at every mask after every layer (0 = embeddings): the `mlm-explorer layers --json`
        document."""
        args = state.limits.check_request(text=text, model=model, top_k=top_k)  # types and sizes, before any work
        loaded = state.model(args["model"])
        return layers_document(cached_layers(state, loaded, args["text"], args["top_k"]))

    def ablate(text: str, model: str = default, heads: str = "", mode: str = "zero") -> dict:
        """Predictions with attention heads removed ("2:5,3:7", "L:*" = all of layer L; mode zero or mean): the
        `mlm-explorer ablate --heads ... --json` document."""
        args = state.limits.check_request(text=text, model=model, heads=heads, method=mode)
        loaded = state.model(args["model"])
        return ablation_document(loaded.info, cached_ablation(state, loaded, args["text"], args["heads"],
                                                              args["method"], DEFAULT_TOP_K))

    def head_effects(text: str, model: str = default, mask: int = 0, target: str = "", mode: str = "zero") -> dict:
        """How the target's probability at mask `mask` (0 = first) changes when each head alone is removed (empty
        target: the top-1): the `mlm-explorer ablate --scan --json` document."""
        args = state.limits.check_request(text=text, model=model, mask=mask, target=target, method=mode)
        loaded = state.model(args["model"])
        return head_effects_document(cached_effects(state, loaded, args["text"], args["mask"], args["target"],
                                                    args["method"]))

    published = {}
    for name, fn in zip(LAYERS_API_NAMES, (layers, ablate, head_effects), strict=True):
        published[name] = shows_errors(fn, endpoint=f"/{name}")
        gr.api(published[name], api_name=name)
    return published
