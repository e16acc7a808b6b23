"""Masked copies of token sequences, scored in length-sorted padded batches with the MLM head at one position each.

Pseudo-log-likelihood, the CrowS-Pairs metric and whole-word targets all reduce to the same question, asked many
times: with these positions of this sequence masked, what log-probability does the model give the original token
at one of them? This module answers a list of such questions with as few forward passes as memory allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from explorer.forward import narrow_positions
from explorer.models import LoadedModel

# Padded tokens per forward pass: a few hundred already keep a CPU busy; 4096 bounds the attention weights
# (eager: [batch, head, pos, pos]) at ~200 MB for bert-base on 512-token sentences.
DEFAULT_MAX_TOKENS = 4096


@dataclass(frozen=True, slots=True)
class MaskedCopy:
    """One question: `input_ids` with `masked` positions replaced by the mask token; score the original token
    `input_ids[position]` there (`position` is one of `masked`)."""

    input_ids: tuple[int, ...]
    masked: tuple[int, ...]
    position: int


def score_copies(model: LoadedModel, copies: Sequence[MaskedCopy], max_tokens: int = DEFAULT_MAX_TOKENS) -> list[float]:
    """The natural-log probability of each copy's original token at its position.

    Copies are sorted by length and cut into batches of at most `max_tokens` padded tokens (at least one copy),
    so copies of many sentences share a pass; the MLM head runs only at each copy's own position.

    Args:
        model: the loaded model.
        copies: the questions, in any order.
        max_tokens: the padded size [batch * pos] of one forward pass.
    Returns:
        One log-probability per copy, in the order of `copies`.
    """
    order = sorted(range(len(copies)), key=lambda i: len(copies[i].input_ids))
    scores: list[float] = [0.0] * len(copies)
    start = 0
    while start < len(order):
        end = start + 1
        # Sorted ascending, so the last copy taken is the longest of the batch.
        while end < len(order) and (end - start + 1) * len(copies[order[end]].input_ids) <= max_tokens:
            end += 1
        batch = [copies[i] for i in order[start:end]]
        for i, value in zip(order[start:end], _score_batch(model, batch), strict=True):
            scores[i] = value
        start = end
    return scores


def _score_batch(model: LoadedModel, batch: Sequence[MaskedCopy]) -> list[float]:
    """One forward pass over `batch`, right-padded to its longest copy."""
    tokenizer = model.tokenizer
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    width = max(len(c.input_ids) for c in batch)
    device = next(model.model.parameters()).device
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)  # [batch, pos]
    attention_mask = torch.zeros((len(batch), width), dtype=torch.long)  # [batch, pos]
    for row, copy in enumerate(batch):
        input_ids[row, : len(copy.input_ids)] = torch.tensor(copy.input_ids)
        input_ids[row, list(copy.masked)] = tokenizer.mask_token_id
        attention_mask[row, : len(copy.input_ids)] = 1
    positions = torch.tensor([[c.position] for c in batch], dtype=torch.long)  # [batch, 1]
    targets = torch.tensor([c.input_ids[c.position] for c in batch], dtype=torch.long)  # [batch]
    inputs = {"input_ids": input_ids.to(device), "attention_mask": attention_mask.to(device)}
    with torch.inference_mode(), narrow_positions(model.model, positions) as narrowing:
        logits = narrowing.select(model.model(**inputs, return_dict=True).logits)  # [batch, 1, vocab]
        log_probs = logits[:, 0].float().log_softmax(dim=-1)  # [batch, vocab]
        # Only each row's target leaves the device: the whole [batch, vocab] is tens of MB on a GPU.
        return log_probs.gather(1, targets.to(log_probs.device).unsqueeze(1))[:, 0].cpu().tolist()  # [batch]
