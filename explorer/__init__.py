"""MLM Explorer: look inside masked language models (predictions, attention, attributions)."""

from explorer.attention import Analysis, AttentionMaps, analyze_text, extract_attention
from explorer.attribution import AttributedToken, TokenAttribution, attribute_tokens
from explorer.errors import ExplorerError, InputError, ModelLoadError
from explorer.fill_mask import FillMaskResult, MaskPrediction, Prediction, TargetScore, predict_masks
from explorer.models import LoadedModel, ModelInfo, load_model
from explorer.rollout import Rollout, attention_rollout

__all__ = [
    "Analysis",
    "AttentionMaps",
    "AttributedToken",
    "ExplorerError",
    "FillMaskResult",
    "InputError",
    "LoadedModel",
    "MaskPrediction",
    "ModelInfo",
    "ModelLoadError",
    "Prediction",
    "Rollout",
    "TargetScore",
    "TokenAttribution",
    "analyze_text",
    "attention_rollout",
    "attribute_tokens",
    "extract_attention",
    "load_model",
    "predict_masks",
]
__version__ = "0.1.0"
