"""JSON documents of results, shared by the CLI's --json output and the web API (one schema for both)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from explorer.ablation import AblationResult, HeadEffects
from explorer.attention import AttentionMaps
from explorer.attribution import AttributedToken, TokenAttribution
from explorer.compare import Comparison
from explorer.fill_mask import FillMaskResult, TargetScore
from explorer.joint import JointFill
from explorer.layers import LayerPredictions
from explorer.models import ModelInfo
from explorer.rollout import Rollout
from explorer.scoring import PairScore, PairsResult, SentenceScore, summarize_preferences

if TYPE_CHECKING:  # the catalog imports transformers' model tables: not needed to build the documents
    from explorer.catalog import ModelEntry


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
    """A target word's score: `probability` and `log_probability` of the whole word (several pieces: the chain
    rule left to right, `method` "chain-rule-l2r"), each piece's log-probability, and the first piece's own."""
    return {
        "word": target.word,
        "token_ids": list(target.token_ids),
        "pieces": list(target.pieces),
        "single_token": target.single_token,
        "probability": target.probability,
        "first_piece_probability": target.first_piece_probability,
        "first_piece_rank": target.first_piece_rank,
        "log_probability": target.log_probability,
        "piece_log_probabilities": list(target.piece_log_probabilities),
        "method": target.method,
    }


def predict_document(info: ModelInfo, results: Sequence[FillMaskResult]) -> dict[str, Any]:
    """The `mlm-explorer predict --json` document for one model and one or more texts."""
    return _model_results(info.name, info.device, results)


def _model_results(name: str, device: str, results: Sequence[FillMaskResult]) -> dict[str, Any]:
    """{"model", "device", "results"}: a predict document, also one entry of a compare document."""
    return {"model": name, "device": device, "results": [fill_mask_document(r) for r in results]}


def compare_document(comparison: Comparison) -> dict[str, Any]:
    """The `mlm-explorer compare --json` document: one predict document per model, then their agreement."""
    results = [
        _model_results(name, device, [result])
        for name, device, result in zip(comparison.models, comparison.devices, comparison.results, strict=True)
    ]
    masks = [
        {
            "mask": a.mask,
            "top1": dict(zip(comparison.models, a.top1, strict=True)),
            "topk_overlap": [list(row) for row in a.topk_overlap],
            "rank_correlation": [list(row) for row in a.rank_correlation],
            "shared_words": [list(row) for row in a.shared_words],
            "common_words": list(a.common_words),
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


def attention_document(
    maps: AttentionMaps, info: ModelInfo | None = None, *, rollout: Rollout | None = None
) -> dict[str, Any]:
    """The `mlm-explorer attention --json` document.

    {"model", "tokens", "layers", "heads", "attention": [layer][head][query][key], "rollout": [query][key]};
    "rollout" only when `rollout` is given. `info` (optional) names the model; by default the maps' own name.
    """
    document: dict[str, Any] = {
        "model": info.name if info is not None else maps.model_name,
        "tokens": list(maps.tokens),
        "layers": maps.layers,
        "heads": maps.heads,
        "attention": maps.array().tolist(),  # float32 values, exactly
    }
    if rollout is not None:
        document["rollout"] = [list(row) for row in rollout.matrix]
    return document


def attention_arrays(
    maps: AttentionMaps, info: ModelInfo | None = None, *, rollout: Rollout | None = None
) -> dict[str, np.ndarray]:
    """The arrays of `attention_document` for `np.savez` (`mlm-explorer attention --out FILE.npz`).

    Same keys; "attention" is float32 [layer, head, query_pos, key_pos], "rollout" float64 [query_pos, key_pos],
    "tokens" a unicode array, so `np.load(path)` needs no pickle.
    """
    arrays = {
        "model": np.array(info.name if info is not None else maps.model_name),
        "tokens": np.array(maps.tokens, dtype=str),
        "layers": np.array(maps.layers),
        "heads": np.array(maps.heads),
        "attention": maps.array(),  # [layer, head, query_pos, key_pos]
    }
    if rollout is not None:
        arrays["rollout"] = rollout.array()  # [query_pos, key_pos]
    return arrays


def attribution_document(result: TokenAttribution) -> dict[str, Any]:
    """The `mlm-explorer attribute --json` document.

    {"model", "tokens", "mask_position", "target": {"token_id", "token", "probability"}, "attributed",
    "score_input", "score_baseline", "attributions": [one float per token], "delta", "method", "steps"};
    "contrast" (shaped like "target") only when a contrast word was given. "delta" and "steps" are null for
    methods without them.
    """
    document: dict[str, Any] = {
        "model": result.model_name,
        "tokens": list(result.tokens),
        "mask_position": result.mask_position,
        "target": _attributed_token_document(result.target),
        "attributed": result.attributed,
        "score_input": result.score_input,
        "score_baseline": result.score_baseline,
        "attributions": list(result.scores),
        "delta": result.delta,
        "method": result.method,
        "steps": result.steps,
    }
    if result.contrast is not None:
        document["contrast"] = _attributed_token_document(result.contrast)
    return document


def _attributed_token_document(token: AttributedToken) -> dict[str, Any]:
    return {"token_id": token.token_id, "token": token.token, "probability": token.probability}


def catalog_document(entries: Sequence[ModelEntry]) -> dict[str, Any]:
    """The `mlm-explorer models --json` document: {"models": [{"name", "bundled", "path", "architecture",
    "parameters", "description"}]}, bundled models first."""
    return {
        "models": [
            {
                "name": e.name,
                "bundled": e.bundled,
                "path": e.path,
                "architecture": e.architecture,
                "parameters": e.parameters,
                "description": e.description,
            }
            for e in entries
        ]
    }


def layers_document(result: LayerPredictions) -> dict[str, Any]:
    """The `mlm-explorer layers --json` document: {"model", "tokens", "layers", "masks": [{"position", "layers":
    [{"layer", "predictions": [{"token_id", "token", "score"}], "final_top1": {"token_id", "token", "rank",
    "score"}}]}]}; layer 0 is the embedding output, "layers" the number of transformer layers."""
    return {
        "model": result.model_name,
        "tokens": list(result.tokens),
        "layers": result.layers,
        "masks": [
            {
                "position": mask.position,
                "layers": [
                    {
                        "layer": entry.layer,
                        "predictions": [
                            {"token_id": p.token_id, "token": p.token, "score": p.score} for p in entry.predictions
                        ],
                        "final_top1": {
                            "token_id": entry.final_top1.token_id,
                            "token": entry.final_top1.token,
                            "rank": entry.final_top1.rank,
                            "score": entry.final_top1.score,
                        },
                    }
                    for entry in mask.layers
                ],
            }
            for mask in result.masks
        ],
    }


def ablation_document(info: ModelInfo, result: AblationResult) -> dict[str, Any]:
    """The `mlm-explorer ablate --heads ... --json` document: the predict document of the ablated model plus
    "ablated": [[layer, head], ...] and "mode" ("zero" or "mean")."""
    document = predict_document(info, [result.fill_mask])
    document["ablated"] = [[layer, head] for layer, head in result.ablated]
    document["mode"] = result.mode
    return document


def head_effects_document(effects: HeadEffects) -> dict[str, Any]:
    """The `mlm-explorer ablate --scan --json` document: {"model", "tokens", "mask_position", "target", "target_id",
    "baseline", "effects": [[float per head] per layer], "mode"}; effect = probability with the head removed −
    baseline."""
    return {
        "model": effects.model_name,
        "tokens": list(effects.tokens),
        "mask_position": effects.mask_position,
        "target": effects.target,
        "target_id": effects.target_id,
        "baseline": effects.baseline,
        "effects": [list(row) for row in effects.effects],
        "mode": effects.mode,
    }


def joint_document(joint: JointFill) -> dict[str, Any]:
    """One text's joint filling (the "joint" entry of `mlm-explorer predict --joint --json`'s results):
    {"order", "beam", "filled_text", "steps": [{"mask", "position", "token_id", "token", "probability"}] in filling
    order, "words" in mask order, "log_probability", "independent": [{"token_id", "token", "score"}],
    "independent_text", "independent_log_probability", "differs": [bool per mask]}."""
    return {
        "order": joint.order,
        "beam": joint.beam,
        "filled_text": joint.filled_text,
        "steps": [
            {"mask": s.mask, "position": s.position, "token_id": s.token_id, "token": s.token,
             "probability": s.probability}
            for s in joint.steps
        ],
        "words": list(joint.words),
        "log_probability": joint.log_probability,
        "independent": [{"token_id": p.token_id, "token": p.token, "score": p.score} for p in joint.independent],
        "independent_text": joint.independent_text,
        "independent_log_probability": joint.independent_log_probability,
        "differs": list(joint.differs),
    }


def predict_joint_document(info: ModelInfo, results: Sequence[FillMaskResult],
                           joints: Sequence[JointFill]) -> dict[str, Any]:
    """`mlm-explorer predict --joint --json`: the predict document with a "joint" entry in every result."""
    document = predict_document(info, results)
    for entry, joint in zip(document["results"], joints, strict=True):
        entry["joint"] = joint_document(joint)
    return document


def sentence_score_document(score: SentenceScore) -> dict[str, Any]:
    """One scored sentence: {"text", "tokens", "scores", "total", "mean", "pseudo_perplexity"}; `scores[i]` is the
    natural-log probability of `tokens[i]`, null where not scored (special tokens)."""
    return {
        "text": score.text,
        "tokens": list(score.tokens),
        "scores": list(score.scores),
        "total": score.total,
        "mean": score.mean,
        "pseudo_perplexity": score.pseudo_perplexity,
    }


def score_document(model: str, metric: str, scores: Sequence[SentenceScore | dict[str, Any]]) -> dict[str, Any]:
    """The `mlm-explorer score --json` document: {"model", "metric", "results": [sentence documents]}.

    `scores` are `SentenceScore`s or their documents (lines read back from a --output file)."""
    results = [s if isinstance(s, dict) else sentence_score_document(s) for s in scores]
    return {"model": model, "metric": metric, "results": results}


def pair_score_document(pair: PairScore) -> dict[str, Any]:
    """One pair: {"first", "second", "category", "first_score", "second_score", "difference", "prefers"}."""
    return {
        "first": pair.first.text,
        "second": pair.second.text,
        "category": pair.category,
        "first_score": pair.first.total,
        "second_score": pair.second.total,
        "difference": pair.difference,
        "prefers": pair.prefers,
    }


def pairs_document(model: str, metric: str, pairs: PairsResult | Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The `mlm-explorer pairs --json` document: {"model", "metric", "pairs", "summary": {"pairs",
    "first_preferred", "by_category": {name: {"pairs", "first_preferred"}}}}; `first_preferred` is the share of
    pairs (0 to 1) whose first sentence the model prefers (a tie is not preferred).

    `pairs` is a `PairsResult` or pair documents (lines read back from a --output file)."""
    if isinstance(pairs, PairsResult):
        entries = [pair_score_document(p) for p in pairs.pairs]
        first_preferred, by_category = pairs.first_preferred, pairs.by_category
    else:
        entries = list(pairs)
        first_preferred, by_category = summarize_preferences([(e["category"], e["prefers"]) for e in entries])
    return {
        "model": model,
        "metric": metric,
        "pairs": entries,
        "summary": {
            "pairs": len(entries),
            "first_preferred": first_preferred,
            "by_category": {c.name: {"pairs": c.pairs, "first_preferred": c.first_preferred} for c in by_category},
        },
    }
