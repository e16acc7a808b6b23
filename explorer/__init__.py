"""MLM Explorer: look inside masked language models (predictions, attention, attributions)."""

from explorer.errors import ExplorerError, InputError, ModelLoadError
from explorer.fill_mask import FillMaskResult, MaskPrediction, Prediction, TargetScore, predict_masks
from explorer.models import LoadedModel, ModelInfo, load_model

__all__ = [
    "ExplorerError",
    "FillMaskResult",
    "InputError",
    "LoadedModel",
    "MaskPrediction",
    "ModelInfo",
    "ModelLoadError",
    "Prediction",
    "TargetScore",
    "load_model",
    "predict_masks",
]
__version__ = "0.1.0"
