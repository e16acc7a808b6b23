"""minicons' MaskedLMScorer under transformers 5: the independent reference for pseudo-log-likelihoods."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import torch
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

# Our metric names -> minicons' PLL_metric (passed on every call: its constructor's value is ignored).
PLL_METRICS = {"pll": "original", "pll-word-l2r": "within_word_l2r"}


@cache
def minicons_scorer(path: str):
    """minicons' scorer on the folder, loaded by minicons itself (float32, eager attention)."""
    from minicons.scorer import MaskedLMScorer

    if not hasattr(PreTrainedTokenizerBase, "batch_encode_plus"):
        # transformers 5 removed it; minicons 0.3.x still calls it.
        PreTrainedTokenizerBase.batch_encode_plus = lambda self, batch, **kw: self(batch, **kw)
    return MaskedLMScorer(path, "cpu", dtype=torch.float32, attn_implementation="eager")


def minicons_token_scores(path: str, texts: Sequence[str], metric: str) -> list[list[float]]:
    """Per text, minicons' natural-log score of every token but [CLS]/[SEP]/pad, in order."""
    scorer = minicons_scorer(path)
    return scorer.sequence_score(list(texts), reduction=lambda x: x.tolist(), PLL_metric=PLL_METRICS[metric])
