"""Sentence pseudo-log-likelihood (Salazar et al. 2020; Kauf & Ivanova 2023) and minimal pairs (also CrowS-Pairs).

Every metric is a plan: which masked copies of a sentence to score and which token each copy predicts. The plans
of many sentences go through `explorer.masked_copies.score_copies` together, in length-sorted batches.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from explorer.encoding import check_token_count
from explorer.errors import ExplorerError, InputError
from explorer.limits import check_characters
from explorer.masked_copies import DEFAULT_MAX_TOKENS, MaskedCopy, score_copies
from explorer.models import LoadedModel

SentenceMetric = Literal["pll", "pll-word-l2r"]
PairMetric = Literal["pll", "pll-word-l2r", "crows"]
PREFERENCES = ("first", "second", "tie")


@dataclass(frozen=True, slots=True)
class EncodedSentence:
    """A sentence as the model reads it: ids, pieces, which are special, and which word each piece belongs to."""

    text: str
    input_ids: tuple[int, ...]
    tokens: tuple[str, ...]
    special: tuple[bool, ...]
    word_ids: tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class SentenceScore:
    """How likely a model finds a sentence: the natural-log probability of each scored token and their sum.

    `scores[i]` belongs to `tokens[i]`; it is None for tokens the metric does not score (special tokens, and for
    `crows` the tokens a pair's sentences do not share). `pseudo_perplexity` is exp(-mean), None when no token
    was scored (a `crows` pair that shares no word).
    """

    text: str
    tokens: tuple[str, ...]
    token_ids: tuple[int, ...]
    scores: tuple[float | None, ...]
    total: float
    mean: float
    pseudo_perplexity: float | None
    metric: str

    @property
    def scored(self) -> int:
        return sum(s is not None for s in self.scores)


@dataclass(frozen=True, slots=True)
class PairScore:
    """One minimal pair: both sentences' scores, `difference` = first - second, and which one the model prefers."""

    first: SentenceScore
    second: SentenceScore
    category: str
    difference: float
    prefers: str  # "first", "second" or "tie"


@dataclass(frozen=True, slots=True)
class CategorySummary:
    name: str
    pairs: int
    first_preferred: float  # share of the pairs whose first sentence the model prefers (ties are not)


@dataclass(frozen=True, slots=True)
class PairsResult:
    """Scores of every pair and the share of pairs where the first sentence wins, overall and per category."""

    model_name: str
    metric: str
    pairs: tuple[PairScore, ...]
    first_preferred: float
    by_category: tuple[CategorySummary, ...]


# A plan: (position, masked positions) per copy; each copy predicts the original token at `position`.
Plan = list[tuple[int, tuple[int, ...]]]


def _plan_pll(sentence: EncodedSentence) -> Plan:
    """Salazar et al.: each non-special token masked alone."""
    return [(pos, (pos,)) for pos, special in enumerate(sentence.special) if not special]


def _plan_word_l2r(sentence: EncodedSentence) -> Plan:
    """Kauf & Ivanova: the token and the pieces of its word to its right masked (words from the tokenizer)."""
    words = sentence.word_ids
    scored = [pos for pos, special in enumerate(sentence.special) if not special]
    plan = []
    for pos in scored:
        later = [k for k in scored if k > pos and words[pos] is not None and words[k] == words[pos]]
        plan.append((pos, (pos, *later)))
    return plan


SENTENCE_METRICS: dict[str, Callable[[EncodedSentence], Plan]] = {
    "pll": _plan_pll,
    "pll-word-l2r": _plan_word_l2r,
}


def align_tokens(first: Sequence[int], second: Sequence[int]) -> list[tuple[int, int]]:
    """The (first position, second position) of every token two id sequences share, as difflib aligns them
    (the CrowS-Pairs script's alignment: `SequenceMatcher` over the ids' strings, its default junk heuristic)."""
    matcher = difflib.SequenceMatcher(None, [str(i) for i in first], [str(i) for i in second])
    shared = []
    for op, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        if op == "equal":
            shared += zip(range(a_start, a_end), range(b_start, b_end), strict=True)
    return shared


def differing_positions(first: SentenceScore, second: SentenceScore) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The positions of each sentence's tokens that the other does not share (by `align_tokens`)."""
    shared = align_tokens(first.token_ids, second.token_ids)
    in_first, in_second = {a for a, _ in shared}, {b for _, b in shared}
    return (tuple(i for i in range(len(first.token_ids)) if i not in in_first),
            tuple(i for i in range(len(second.token_ids)) if i not in in_second))


def _plan_crows(first: EncodedSentence, second: EncodedSentence) -> tuple[Plan, Plan]:
    """Nangia et al. 2020: tokens both sentences share (difflib over ids), masked one at a time; specials skipped."""
    plan_first: Plan = []
    plan_second: Plan = []
    for a, b in align_tokens(first.input_ids, second.input_ids):
        if first.special[a] or second.special[b]:
            continue
        plan_first.append((a, (a,)))
        plan_second.append((b, (b,)))
    return plan_first, plan_second


def _independent(metric: str) -> Callable[[EncodedSentence, EncodedSentence], tuple[Plan, Plan]]:
    plan = SENTENCE_METRICS[metric]
    return lambda first, second: (plan(first), plan(second))


PAIR_METRICS: dict[str, Callable[[EncodedSentence, EncodedSentence], tuple[Plan, Plan]]] = {
    "pll": _independent("pll"),
    "pll-word-l2r": _independent("pll-word-l2r"),
    "crows": _plan_crows,
}
# The CrowS-Pairs script rounds both scores to 3 decimals and counts equal ones as neutral; the others tie only
# when exactly equal.
TIE_DECIMALS: dict[str, int | None] = {"pll": None, "pll-word-l2r": None, "crows": 3}


def check_metric(metric: str, table: dict) -> None:
    """Refuse a metric name the table does not know, naming the ones it does."""
    if not isinstance(metric, str) or metric not in table:
        raise InputError(f"Unknown metric {metric!r}; use one of {', '.join(table)}.")


def encode_sentence(model: LoadedModel, text: str) -> EncodedSentence:
    """Check `text` and tokenise it with the model's special tokens; words come from the tokenizer's word ids.

    Raises:
        InputError: the text is empty, holds a control character, or is longer than the model reads.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError('A sentence is empty; give a sentence such as "The cat sat on the mat."')
    check_characters(text, "sentence")
    tokenizer = model.tokenizer
    batch = tokenizer(text, truncation=False, verbose=False, return_special_tokens_mask=True)
    ids = tuple(int(i) for i in batch["input_ids"])
    check_token_count(model, len(ids), f"The sentence {_preview(text)}", "shorten or split it.")
    try:
        word_ids = tuple(batch.word_ids())
    except (ValueError, AttributeError) as error:  # slow (Python) tokenizers keep no word ids
        raise ExplorerError(f"{model.info.name}'s tokenizer gives no word ids (not a fast tokenizer); "
                            f"word-level scoring needs one.") from error
    special = tuple(bool(s) for s in batch["special_tokens_mask"])
    if all(special):
        raise InputError(f"The sentence {_preview(text)} has no token to score; give a sentence with words.")
    return EncodedSentence(text=text, input_ids=ids, tokens=tuple(tokenizer.convert_ids_to_tokens(list(ids))),
                           special=special, word_ids=word_ids)


def _preview(text: str, width: int = 40) -> str:
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def score_sentences(
    model: LoadedModel,
    texts: Sequence[str],
    metric: SentenceMetric = "pll",
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> tuple[SentenceScore, ...]:
    """The pseudo-log-likelihood of every text, the masked copies of all texts batched together.

    Args:
        model: a model from `load_model`.
        texts: sentences (no mask needed); each is scored on its own.
        metric: "pll" (Salazar et al. 2020) or "pll-word-l2r" (Kauf & Ivanova 2023: the pieces of the same word to
            the right of the masked piece are masked too).
        max_tokens: padded tokens per forward pass.
    Returns:
        One `SentenceScore` per text, in order.
    """
    check_metric(metric, SENTENCE_METRICS)
    if isinstance(texts, str):
        texts = [texts]
    sentences = [encode_sentence(model, text) for text in texts]  # every check before the first pass
    plan = SENTENCE_METRICS[metric]
    return _score_plans(model, sentences, [plan(s) for s in sentences], metric, max_tokens)


def score_pairs(
    model: LoadedModel,
    pairs: Sequence[tuple[str, str] | tuple[str, str, str]],
    metric: PairMetric = "pll",
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> PairsResult:
    """Which sentence of each minimal pair the model finds likelier.

    Args:
        model: a model from `load_model`.
        pairs: (first, second) or (first, second, category); first is e.g. CrowS-Pairs' sent_more or BLiMP's
            sentence_good.
        metric: "pll", "pll-word-l2r" (each sentence scored on its own) or "crows" (Nangia et al. 2020: only the
            tokens both sentences share are masked and scored, one at a time).
        max_tokens: padded tokens per forward pass.
    Returns:
        A `PairsResult` with one `PairScore` per pair and the share of first-preferred pairs, per category too.
    """
    check_metric(metric, PAIR_METRICS)
    checked = [check_pair(pair, number) for number, pair in enumerate(pairs, start=1)]
    encoded = [(encode_sentence(model, a), encode_sentence(model, b)) for a, b, _ in checked]
    plan = PAIR_METRICS[metric]
    sentences, plans = [], []
    for first, second in encoded:
        plan_first, plan_second = plan(first, second)
        sentences += [first, second]
        plans += [plan_first, plan_second]
    scores = _score_plans(model, sentences, plans, metric, max_tokens)
    results = tuple(
        build_pair_score(scores[2 * i], scores[2 * i + 1], category, metric)
        for i, (_, _, category) in enumerate(checked)
    )
    return summarize_pairs(model.info.name, metric, results)


def check_pair(pair: Sequence[str], number: int = 1) -> tuple[str, str, str]:
    """(first, second, category) from a 2- or 3-item pair; an empty side is refused, naming the pair."""
    if isinstance(pair, str) or len(pair) not in (2, 3):
        raise InputError(f"Pair {number} must be two sentences (and optionally a category), not {pair!r}.")
    first, second = pair[0], pair[1]
    category = pair[2] if len(pair) == 3 and pair[2] is not None else ""
    for side, text in (("first", first), ("second", second)):
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"Pair {number} has an empty {side} sentence; give both sentences of every pair.")
    if not isinstance(category, str):
        raise InputError(f"Pair {number}'s category must be text, not {category!r}.")
    return first, second, category


def build_pair_score(first: SentenceScore, second: SentenceScore, category: str, metric: str) -> PairScore:
    """Compare two scored sentences (the to-result step of a pair)."""
    decimals = TIE_DECIMALS[metric]
    a, b = (first.total, second.total) if decimals is None else (round(first.total, decimals),
                                                                 round(second.total, decimals))
    prefers = "tie" if a == b else ("first" if a > b else "second")
    return PairScore(first=first, second=second, category=category, difference=first.total - second.total,
                     prefers=prefers)


def summarize_pairs(model_name: str, metric: str, pairs: Sequence[PairScore]) -> PairsResult:
    """The share of pairs where the first sentence wins, overall and per category (in order of appearance)."""
    first_preferred, by_category = summarize_preferences([(p.category, p.prefers) for p in pairs])
    return PairsResult(model_name=model_name, metric=metric, pairs=tuple(pairs), first_preferred=first_preferred,
                       by_category=by_category)


def summarize_preferences(rows: Sequence[tuple[str, str]]) -> tuple[float, tuple[CategorySummary, ...]]:
    """From (category, prefers) of each pair: the share whose first sentence wins (a tie does not; 0.0 for no
    pairs), and the same per category in order of appearance."""
    groups: dict[str, list[str]] = {}
    for category, prefers in rows:
        groups.setdefault(category, []).append(prefers)

    def share(preferences: Sequence[str]) -> float:
        return sum(p == "first" for p in preferences) / len(preferences) if preferences else 0.0

    return share([p for _, p in rows]), tuple(CategorySummary(n, len(g), share(g)) for n, g in groups.items())


def _score_plans(model: LoadedModel, sentences: Sequence[EncodedSentence], plans: Sequence[Plan], metric: str,
                 max_tokens: int) -> tuple[SentenceScore, ...]:
    copies = [MaskedCopy(s.input_ids, masked, pos) for s, plan in zip(sentences, plans, strict=True)
              for pos, masked in plan]
    values = iter(score_copies(model, copies, max_tokens))
    results = []
    for sentence, plan in zip(sentences, plans, strict=True):
        per_token: list[float | None] = [None] * len(sentence.input_ids)
        for pos, _ in plan:
            per_token[pos] = next(values)
        results.append(build_sentence_score(sentence, per_token, metric))
    return tuple(results)


def build_sentence_score(sentence: EncodedSentence, scores: Sequence[float | None], metric: str) -> SentenceScore:
    """Total, mean and pseudo-perplexity of per-token log-probabilities (None: not scored)."""
    scored = [s for s in scores if s is not None]
    total = math.fsum(scored)
    mean = total / len(scored) if scored else 0.0
    return SentenceScore(
        text=sentence.text,
        tokens=sentence.tokens,
        token_ids=sentence.input_ids,
        scores=tuple(scores),
        total=total,
        mean=mean,
        pseudo_perplexity=math.exp(-mean) if scored else None,
        metric=metric,
    )
