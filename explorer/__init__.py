"""MLM Explorer: look inside masked language models (predictions, attention, attributions).

The public names load lazily (PEP 562), so `mlm-explorer --help` and the error types don't import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from explorer.errors import ExplorerError, InputError, ModelLoadError

_LAZY = {
    "Analysis": "explorer.attention",
    "AttentionMaps": "explorer.attention",
    "analyze_text": "explorer.attention",
    "extract_attention": "explorer.attention",
    "AttributedToken": "explorer.attribution",
    "TokenAttribution": "explorer.attribution",
    "attribute_tokens": "explorer.attribution",
    "Comparison": "explorer.compare",
    "compare_models": "explorer.compare",
    "FillMaskResult": "explorer.fill_mask",
    "MaskPrediction": "explorer.fill_mask",
    "Prediction": "explorer.fill_mask",
    "TargetScore": "explorer.fill_mask",
    "predict_masks": "explorer.fill_mask",
    "LoadedModel": "explorer.models",
    "ModelInfo": "explorer.models",
    "load_model": "explorer.models",
    "PairsResult": "explorer.scoring",
    "SentenceScore": "explorer.scoring",
    "score_pairs": "explorer.scoring",
    "score_sentences": "explorer.scoring",
    "Rollout": "explorer.rollout",
    "attention_rollout": "explorer.rollout",
}

if TYPE_CHECKING:
    from explorer.attention import Analysis, AttentionMaps, analyze_text, extract_attention
    from explorer.attribution import AttributedToken, TokenAttribution, attribute_tokens
    from explorer.compare import Comparison, compare_models
    from explorer.fill_mask import FillMaskResult, MaskPrediction, Prediction, TargetScore, predict_masks
    from explorer.models import LoadedModel, ModelInfo, load_model
    from explorer.rollout import Rollout, attention_rollout
    from explorer.scoring import PairsResult, SentenceScore, score_pairs, score_sentences


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'explorer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "ExplorerError",
    "InputError",
    "ModelLoadError",
    "Analysis",
    "AttentionMaps",
    "analyze_text",
    "extract_attention",
    "AttributedToken",
    "TokenAttribution",
    "attribute_tokens",
    "Comparison",
    "compare_models",
    "FillMaskResult",
    "MaskPrediction",
    "Prediction",
    "TargetScore",
    "predict_masks",
    "LoadedModel",
    "ModelInfo",
    "load_model",
    "Rollout",
    "attention_rollout",
    "PairsResult",
    "SentenceScore",
    "score_pairs",
    "score_sentences",
]
__version__ = "0.1.0"
