"""Several models on one sentence: their top-k side by side and how far they agree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from explorer.encoding import Encoding, encode
from explorer.errors import InputError
from explorer.fill_mask import FillMaskResult, build_fill_mask_result, check_top_k, encode_targets, score_targets
from explorer.forward import run_forward
from explorer.models import LoadedModel

MIN_MODELS = 2
MAX_MODELS = 4
# Spearman's rho over fewer words than this says nothing (at 5 words only |rho| = 1 is significant at 5 %).
MIN_SHARED_WORDS = 5


@dataclass(frozen=True, slots=True)
class CrossProbability:
    """How likely `model` finds the top-1 word of `word_of` at one mask.

    `probability` is None when `model`'s tokenizer splits the word into several pieces; the first piece's
    probability and rank are then given, labelled as such.
    """

    model: str
    word_of: str
    word: str
    probability: float | None
    first_piece_probability: float
    first_piece_rank: int


@dataclass(frozen=True, slots=True)
class MaskAgreement:
    """Agreement of the models at one mask; matrices are indexed [model, model] in the comparison's order.

    Words are compared as `word_key` writes them (without case and surrounding space). `topk_overlap` is the share
    of top-k words two models have in common; `common_words` are the words in every model's top-k (case-folded, in
    the first model's order). `rank_correlation` is Spearman's rho between two models' probabilities over the
    words of either top-k that both can write as one token (`shared_words` of them), None below
    `MIN_SHARED_WORDS` such words.
    """

    mask: int
    top1: tuple[str, ...]
    topk_overlap: tuple[tuple[float, ...], ...]
    cross_probabilities: tuple[CrossProbability, ...]
    rank_correlation: tuple[tuple[float | None, ...], ...]
    shared_words: tuple[tuple[int, ...], ...]
    common_words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two to four models' predictions for the same text (the mask written once, mapped per model)."""

    text: str
    models: tuple[str, ...]
    devices: tuple[str, ...]
    top_k: int
    results: tuple[FillMaskResult, ...]
    agreement: tuple[MaskAgreement, ...]


def compare_models(models: Sequence[LoadedModel], text: str, top_k: int = 5) -> Comparison:
    """Predict every mask of `text` with each model (one forward pass each) and measure their agreement.

    Args:
        models: 2 to 4 different loaded models.
        text: a sentence with one or more masks in any spelling ([MASK], <mask>, ...).
        top_k: fillers per mask and model.
    Returns:
        A `Comparison`; `agreement` has one entry per mask.
    """
    encodings = check_comparison(models, text, top_k)
    logits = [run_forward(model, e).mask_logits for model, e in zip(models, encodings, strict=True)]
    return comparison_from_logits(models, text, encodings, logits, top_k)


def check_comparison(models: Sequence[LoadedModel], text: str, top_k: int) -> list[Encoding]:
    """Everything `compare_models` checks before its forward passes (no model runs).

    Returns:
        Each model's encoding of `text`, in the models' order.
    Raises:
        InputError: not 2 to 4 different models, a top-k out of range, a text without a mask, or models that see
            different numbers of masks.
    """
    names = [m.info.name for m in models]
    if not MIN_MODELS <= len(models) <= MAX_MODELS:
        raise InputError(f"Compare takes {MIN_MODELS} to {MAX_MODELS} models, not {len(models)}; pick them again.")
    if len(set(names)) != len(names):
        raise InputError(f"The same model was chosen twice ({', '.join(names)}); pick different models.")
    for model in models:
        check_top_k(model, top_k)
    encodings = [encode(model, text) for model in models]
    if len({len(e.mask_positions) for e in encodings}) != 1:
        raise InputError("The models see different numbers of masks in this text; write each mask as [MASK].")
    return encodings


def comparison_from_logits(models: Sequence[LoadedModel], text: str, encodings: Sequence[Encoding],
                           logits: Sequence[torch.Tensor], top_k: int) -> Comparison:
    """The comparison from forward passes already run (the web app's cached ones): no model runs.

    Args:
        models: the models, checked by `check_comparison`.
        text: the text they encoded.
        encodings: each model's encoding of `text`.
        logits: each model's logits at the masks, [mask, vocab].
        top_k: fillers per mask and model.
    Returns:
        The `Comparison` that `compare_models(models, text, top_k)` gives.
    """
    names = [m.info.name for m in models]
    results = tuple(
        build_fill_mask_result(model, e, lg, top_k) for model, e, lg in zip(models, encodings, logits, strict=True)
    )
    agreement = []
    for mask in range(len(encodings[0].mask_positions)):
        words = [_words(r.masks[mask].predictions) for r in results]
        union = list({w.casefold(): w for ws in reversed(words) for w in reversed(ws)}.values())
        scores = []  # per model: word -> TargetScore at this mask
        for model, lg in zip(models, logits, strict=True):
            scored = score_targets(_encodable(model, union), lg[mask].float().softmax(dim=-1))
            scores.append({s.word: s for s in scored})
        agreement.append(_agreement(mask, names, words, scores, top_k))
    return Comparison(
        text=text,
        models=tuple(names),
        devices=tuple(m.info.device for m in models),
        top_k=top_k,
        results=results,
        agreement=tuple(agreement),
    )


def word_key(token: str) -> str | None:
    """How a top-k token is compared across models: stripped and case-folded (" Paris" -> "paris").

    None for a token that is no word to compare: blank, with spaces inside, or with unprintable characters.
    """
    word = token.strip()
    if not word or not word.isprintable() or any(c.isspace() for c in word):
        return None
    return word.casefold()


def _words(predictions: Sequence) -> list[str]:
    """Top-k tokens as words without their surrounding space, one per `word_key`; tokens without a key dropped."""
    words: dict[str, str] = {}
    for p in predictions:
        key = word_key(p.token)
        if key is not None:
            words.setdefault(key, p.token.strip())
    return list(words.values())


def _agreement(mask: int, names: list[str], words: list[list[str]], scores: list[dict], top_k: int) -> MaskAgreement:
    n = len(names)
    keys = [[w.casefold() for w in ws] for ws in words]  # word_key of each word
    folded = [set(k) for k in keys]
    overlap = tuple(tuple(len(folded[i] & folded[j]) / top_k for j in range(n)) for i in range(n))
    in_every_topk = tuple(k for k in keys[0] if all(k in f for f in folded))
    top1 = tuple(ws[0] if ws else "" for ws in words)
    cross = []
    for i in range(n):
        for j in range(n):
            key = _lookup(scores[i], top1[j]) if top1[j] else None
            if i == j or key is None:
                continue
            score = scores[i][key]
            cross.append(CrossProbability(
                model=names[i], word_of=names[j], word=top1[j], probability=score.probability,
                first_piece_probability=score.first_piece_probability, first_piece_rank=score.first_piece_rank,
            ))
    correlation: list[list[float | None]] = [[None] * n for _ in range(n)]
    shared: list[list[int]] = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            # Every model scored the same union of top-k words, so each pair compares like with like.
            common = [w for w in scores[i] if w in scores[j] and scores[i][w].single_token
                      and scores[j][w].single_token]
            shared[i][j] = len(common)
            if len(common) >= MIN_SHARED_WORDS:
                correlation[i][j] = spearman([scores[i][w].first_piece_probability for w in common],
                                             [scores[j][w].first_piece_probability for w in common])
    return MaskAgreement(
        mask=mask,
        top1=top1,
        topk_overlap=overlap,
        cross_probabilities=tuple(cross),
        rank_correlation=tuple(tuple(row) for row in correlation),
        shared_words=tuple(tuple(row) for row in shared),
        common_words=in_every_topk,
    )


def _encodable(model: LoadedModel, words: Sequence[str]) -> list:
    """The words this model's tokenizer can write (a few byte-level tokens come out as nothing elsewhere)."""
    encoded = []
    for word in words:
        try:
            encoded.extend(encode_targets(model, [word]))
        except InputError:
            continue
    return encoded


def _lookup(scores: dict, word: str) -> str | None:
    if word in scores:
        return word
    return next((w for w in scores if w.casefold() == word.casefold()), None)


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Spearman's rank correlation (average ranks for ties); None when either side is constant."""
    ra, rb = _ranks(a), _ranks(b)
    n = len(ra)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    if va == 0 or vb == 0:
        return None
    return cov / (va * vb) ** 0.5


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1
        start = end + 1
    return ranks
