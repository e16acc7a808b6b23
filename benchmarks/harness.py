"""What the benchmark scripts share: timing, the random bert-base-sized model and masked texts of a given length.

Importing it puts tests/ on `sys.path`, so a script can import `tiny_models` after it. Not a benchmark itself.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from transformers import BertConfig, BertForMaskedLM

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from tiny_models import WORDS, build_tokenizer  # noqa: E402


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    """The median time of `repeats` calls of `fn`, in milliseconds, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def random_bert_base(folder: Path | None = None) -> str:
    """A bert-base-sized masked LM saved to `folder` (default: a new temporary folder); returns the folder.

    `BertConfig()` (110M parameters, the shape of bert-base-uncased) with random weights (seed 0) and the tiny test
    tokenizer, because the Hub is unreachable here: speed does not depend on the weights.
    """
    folder = folder or Path(tempfile.mkdtemp()) / "bert-base-random"
    tokenizer = build_tokenizer("bert")
    tokenizer.model_max_length = 512
    torch.manual_seed(0)
    BertForMaskedLM(BertConfig(vocab_size=30522)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def masked_text(tokens: int) -> str:
    """Words of the tiny test vocabulary with one [MASK] in the middle: `tokens` tokens on the BERT tokenizer,
    [CLS] and [SEP] included."""
    words = [WORDS[i % len(WORDS)] for i in range(tokens - 3)]
    words[len(words) // 2] = "[MASK]"
    return " ".join(words) + "."
