"""The layers view's results through the app's bounded cache: one computation per (model, text, options)."""

from __future__ import annotations

from explorer.ablation import (
    AblationResult,
    HeadEffects,
    ablate_heads,
    check_mode,
    head_counts,
    head_effects,
    parse_heads,
)
from explorer.fill_mask import check_top_k
from explorer.joint import JointFill, check_joint_options, fill_jointly
from explorer.layers import LayerPredictions, layer_predictions
from explorer.models import LoadedModel
from explorer.ui.state import AppState, model_key


def cached_layers(state: AppState, model: LoadedModel, text: str, top_k: int) -> LayerPredictions:
    """`layer_predictions` through the app's cache."""
    check_top_k(model, top_k)
    return state.inspections.get(("layers", model_key(model), text, top_k),
                                 lambda: layer_predictions(model, text, top_k=top_k))


def cached_ablation(state: AppState, model: LoadedModel, text: str, heads: str, mode: str,
                    top_k: int) -> AblationResult:
    """`ablate_heads` through the app's cache; the heads are checked (and put in order) before the key is made."""
    check_top_k(model, top_k)
    check_mode(mode)
    chosen = parse_heads(heads or "", *head_counts(model))
    return state.inspections.get(("ablate", model_key(model), text, chosen, mode, top_k),
                                 lambda: ablate_heads(model, text, chosen, mode=mode, top_k=top_k))


def cached_effects(state: AppState, model: LoadedModel, text: str, mask: int, target: str,
                   mode: str) -> HeadEffects:
    """`head_effects` through the app's cache; an empty target means the top-1."""
    word = (target or "").strip() or None
    return state.inspections.get(("effects", model_key(model), text, mask, word, mode),
                                 lambda: head_effects(model, text, mask=mask, target=word, mode=mode))


def cached_joint(state: AppState, model: LoadedModel, text: str, order: str, beam: int) -> JointFill:
    """`fill_jointly` through the app's cache."""
    check_joint_options(order, beam)
    return state.inspections.get(("joint", model_key(model), text, order, beam),
                                 lambda: fill_jointly(model, text, order=order, beam=beam))
