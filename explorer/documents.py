"""JSON documents of results, shared by the CLI's --json output and the web API (one schema for both)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from explorer.compare import Comparison
from explorer.fill_mask import FillMaskResult, TargetScore
from explorer.models import ModelInfo


def fill_mask_document(result: FillMaskResult) -> dict[str, Any]:
    """One text's predictions: {"text", "tokens", "masks": [{"position", "predictions": [...]}]}."""
    masks = []
    for mask in result.masks:
        entry: dict[str, Any] = {
            "position": mask.position,
            "predictions": [
                {"token_id": p.token_id, "token": p.token, "score": p.score} for p in mask.predictions
            ],
        }
        if mask.targets:
            entry["targets"] = [target_document(t) for t in mask.targets]
        masks.append(entry)
    return {"text": result.text, "tokens": list(result.tokens), "masks": masks}


def target_document(target: TargetScore) -> dict[str, Any]:
    """A target word's score; `probability` is null when the word is several pieces."""
    return {
        "word": target.word,
        "token_ids": list(target.token_ids),
        "pieces": list(target.pieces),
        "single_token": target.single_token,
        "probability": target.probability,
        "first_piece_probability": target.first_piece_probability,
        "first_piece_rank": target.first_piece_rank,
    }


def predict_document(info: ModelInfo, results: Sequence[FillMaskResult]) -> dict[str, Any]:
    """The `mlm-explorer predict --json` document for one model and one or more texts."""
    return {"model": info.name, "device": info.device, "results": [fill_mask_document(r) for r in results]}


def compare_document(comparison: Comparison) -> dict[str, Any]:
    """The `mlm-explorer compare --json` document: one predict document per model, then their agreement."""
    results = [
        {"model": name, "device": device, "results": [fill_mask_document(result)]}
        for name, device, result in zip(comparison.models, comparison.devices, comparison.results, strict=True)
    ]
    masks = [
        {
            "mask": a.mask,
            "top1": dict(zip(comparison.models, a.top1, strict=True)),
            "topk_overlap": [list(row) for row in a.topk_overlap],
            "rank_correlation": [list(row) for row in a.rank_correlation],
            "shared_words": [list(row) for row in a.shared_words],
            "cross_probabilities": [
                {
                    "model": c.model,
                    "word_of": c.word_of,
                    "word": c.word,
                    "probability": c.probability,
                    "first_piece_probability": c.first_piece_probability,
                    "first_piece_rank": c.first_piece_rank,
                }
                for c in a.cross_probabilities
            ],
        }
        for a in comparison.agreement
    ]
    return {
        "models": list(comparison.models),
        "text": comparison.text,
        "top_k": comparison.top_k,
        "results": results,
        "agreement": {"masks": masks},
    }
