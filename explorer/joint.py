"""Joint filling of several masks: one mask at a time, the model re-run with each word filled in, with a beam."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import torch

from explorer.encoding import Encoding, encode
from explorer.errors import InputError
from explorer.fill_mask import Prediction, build_fill_mask_result, unfillable_ids
from explorer.forward import narrow_positions
from explorer.models import LoadedModel

Order = Literal["confidence", "left-to-right"]
MAX_BEAM = 8


def _most_confident(best: dict[int, float]) -> int:
    return max(best, key=lambda mask: (best[mask], -mask))  # ties: the leftmost


def _leftmost(best: dict[int, float]) -> int:
    return min(best)


# Which still-masked mask a hypothesis fills next, from each one's best log-probability {mask: log p}.
ORDERS: dict[str, Callable[[dict[int, float]], int]] = {"confidence": _most_confident, "left-to-right": _leftmost}


@dataclass(frozen=True, slots=True)
class JointStep:
    """One mask filled: `mask` counts from 0 in text order; `probability` is given the words filled before it."""

    mask: int
    position: int
    token_id: int
    token: str
    probability: float


@dataclass(frozen=True, slots=True)
class JointFill:
    """Several masks filled together, beside the independent top-1s of `predict_masks`.

    `steps` are in filling order; `words` and `independent` are in mask order; `differs[i]` is True where mask i's
    joint word is not its independent top-1. `log_probability` (natural log) is the sum of the steps' log
    probabilities; `independent_log_probability` sums the independent top-1s' own (each with every other mask
    still masked), so it is not a joint score. Special tokens never fill a mask here (in either column).
    """

    model_name: str
    text: str
    tokens: tuple[str, ...]
    order: str
    beam: int
    filled_text: str
    steps: tuple[JointStep, ...]
    words: tuple[str, ...]
    log_probability: float
    independent: tuple[Prediction, ...]
    independent_text: str
    independent_log_probability: float
    differs: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class _Hypothesis:
    ids: tuple[int, ...]
    steps: tuple[JointStep, ...]
    log_probability: float
    greedy: bool  # every step took its own top-1: kept in the beam, so a beam never scores below greedy


def check_joint_options(order: str, beam: int) -> None:
    """Refuse an unknown order or a beam that is not a whole number from 1 to MAX_BEAM."""
    if order not in ORDERS:
        raise InputError(f"Unknown order {order!r}; choose {' or '.join(ORDERS)}.")
    if isinstance(beam, bool) or not isinstance(beam, int) or not 1 <= beam <= MAX_BEAM:
        raise InputError(f"beam must be a whole number from 1 to {MAX_BEAM}, not {beam!r}.")


def fill_jointly(model: LoadedModel, text: str, order: Order = "confidence", beam: int = 1) -> JointFill:
    """Fill every mask of `text` one at a time, re-running the model with the words chosen so far.

    Args:
        model: a model from `load_model`.
        text: a sentence with one or more masks.
        order: "confidence" (the mask whose best word is most probable first) or "left-to-right".
        beam: hypotheses kept per step, 1 (greedy) to 8, ranked by joint log-probability; the greedy hypothesis
            is always kept, so the result never scores below beam=1.
    Returns:
        A `JointFill`; one forward pass per mask, each over at most `beam` hypotheses.
    """
    check_joint_options(order, beam)
    encoding = encode(model, text)
    excluded = torch.tensor(unfillable_ids(model.tokenizer, model.info.vocab_size), dtype=torch.long)
    hypotheses = [_Hypothesis(ids=encoding.input_ids, steps=(), log_probability=0.0, greedy=True)]
    independent = None
    for _ in encoding.mask_positions:
        logits = _mask_logits(model, encoding, [h.ids for h in hypotheses])  # [hypothesis, mask, vocab]
        if independent is None:  # the first pass is predict_masks' own: every mask still masked
            independent = build_fill_mask_result(model, encoding, logits[0], 1, skip_special_tokens=True)
        # The model's own probabilities (as predict_masks'); special tokens are only never chosen.
        log_probs = logits.log_softmax(dim=-1).index_fill(-1, excluded, -math.inf)  # [hypothesis, mask, vocab]
        hypotheses = _extend(model, encoding, hypotheses, log_probs, ORDERS[order], beam)
    best = max(hypotheses, key=lambda h: h.log_probability)
    by_mask = sorted(best.steps, key=lambda s: s.mask)
    top1 = tuple(m.predictions[0] for m in independent.masks)
    tokenizer = model.tokenizer
    return JointFill(
        model_name=model.info.name,
        text=encoding.text,
        tokens=encoding.tokens,
        order=order,
        beam=beam,
        filled_text=tokenizer.decode(list(best.ids), skip_special_tokens=True).strip(),
        steps=best.steps,
        words=tuple(s.token for s in by_mask),
        log_probability=best.log_probability,
        independent=top1,
        independent_text=independent.filled_text,
        independent_log_probability=float(sum(math.log(p.score) for p in top1)),
        differs=tuple(s.token_id != p.token_id for s, p in zip(by_mask, top1, strict=True)),
    )


def _mask_logits(model: LoadedModel, encoding: Encoding, rows: Sequence[tuple[int, ...]]) -> torch.Tensor:
    """One forward pass over the hypotheses' ids [hypothesis, pos]; logits at the original masks, float32 CPU."""
    device = next(model.model.parameters()).device
    inputs = {name: torch.tensor([values] * len(rows), device=device)
              for name, values in encoding.model_inputs.items()}  # [hypothesis, pos] each
    inputs["input_ids"] = torch.tensor(list(rows), device=device)  # [hypothesis, pos]
    positions = list(encoding.mask_positions)
    with torch.inference_mode(), narrow_positions(model.model, positions) as narrowing:
        logits = model.model(**inputs, return_dict=True).logits
        return narrowing.select(logits).float().cpu()  # [hypothesis, mask, vocab]


def _extend(model: LoadedModel, encoding: Encoding, hypotheses: Sequence[_Hypothesis], log_probs: torch.Tensor,
            choose: Callable[[dict[int, float]], int], beam: int) -> list[_Hypothesis]:
    """Every hypothesis's next mask filled with each of its `beam` best words; the best `beam` distinct kept."""
    mask_id = model.tokenizer.mask_token_id
    candidates: list[_Hypothesis] = []
    for row, hypothesis in enumerate(hypotheses):
        open_masks = {m: p for m, p in enumerate(encoding.mask_positions) if hypothesis.ids[p] == mask_id}
        mask = choose({m: float(log_probs[row, m].max()) for m in open_masks})
        position = open_masks[mask]
        values, ids = log_probs[row, mask].topk(beam)  # [beam]
        for rank, (value, token_id) in enumerate(zip(values.tolist(), ids.tolist(), strict=True)):
            if value == -math.inf:
                break
            filled = list(hypothesis.ids)
            filled[position] = token_id
            step = JointStep(mask=mask, position=position, token_id=token_id,
                             token=model.tokenizer.decode([token_id]), probability=math.exp(value))
            candidates.append(_Hypothesis(ids=tuple(filled), steps=(*hypothesis.steps, step),
                                          log_probability=hypothesis.log_probability + value,
                                          greedy=hypothesis.greedy and rank == 0))
    # Filling A then B and B then A reach the same words: keep the better path once.
    # A path that reaches the greedy words at least as well as greedy did is protected in its place.
    distinct: dict[tuple[int, ...], _Hypothesis] = {}
    for candidate in sorted(candidates, key=lambda h: -h.log_probability):
        kept_one = distinct.setdefault(candidate.ids, candidate)
        if candidate.greedy and not kept_one.greedy:
            distinct[candidate.ids] = replace(kept_one, greedy=True)
    kept = list(distinct.values())[:beam]
    greedy = next((c for c in candidates if c.greedy), None)
    if greedy is not None and all(not h.greedy for h in kept) and greedy.ids not in {h.ids for h in kept}:
        kept[-1] = greedy
    return kept
