"""Benchmark: score_sentences against minicons' MaskedLMScorer, same sentences, single thread, identical numbers.

Prints sentences/s of both and their ratio; never run as a test. Models: a bert-base-sized BertForMaskedLM with
random weights (`BertConfig()`, no download; speed does not depend on the weights) and the bundled mini-bert.
minicons gets its input in chunks (`--minicons-chunk` sentences a call): it runs all masked copies of one call in
a single batch, so whole datasets at once would not fit in memory. Each side runs `--repeats` times, interleaved,
and its best time counts. Usage: `python benchmarks/bench_scoring.py [--sentences 40] [--repeats 2]`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import torch
from harness import random_bert_base
from tiny_models import BPE_CORPUS
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from explorer import load_model
from explorer.bundled import bundled_path
from explorer.scoring import score_sentences

PLL_METRICS = {"pll": "original", "pll-word-l2r": "within_word_l2r"}


def sentences(count: int) -> list[str]:
    """`count` everyday sentences (the tiny tokenizers' training sentences, then two of a minimal pair)."""
    unique = list(dict.fromkeys(BPE_CORPUS))
    extra = ["The doctor said that he would be late.", "The doctor said that she would be late."]
    pool = unique + extra
    return [pool[i % len(pool)] for i in range(count)]


def best_seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(label: str, folder: str, texts: Sequence[str], metric: str, chunk: int, repeats: int) -> dict:
    from minicons.scorer import MaskedLMScorer

    if not hasattr(PreTrainedTokenizerBase, "batch_encode_plus"):  # transformers 5 removed what minicons calls
        PreTrainedTokenizerBase.batch_encode_plus = lambda self, batch, **kw: self(batch, **kw)
    model = load_model(folder, device="cpu")
    scorer = MaskedLMScorer(folder, "cpu", dtype=torch.float32, attn_implementation="eager")

    def ours() -> list:
        return list(score_sentences(model, texts, metric))

    def theirs() -> list:
        out = []
        for start in range(0, len(texts), chunk):
            out += scorer.sequence_score(list(texts[start:start + chunk]), reduction=lambda x: x.tolist(),
                                         PLL_metric=PLL_METRICS[metric])
        return out

    ours_result, theirs_result = ours(), theirs()  # also the warm-up
    difference = max(abs(a - b) for score, ref in zip(ours_result, theirs_result, strict=True)
                     for a, b in zip([s for s in score.scores if s is not None], ref, strict=True))
    ours_s, theirs_s = float("inf"), float("inf")
    for _ in range(repeats):
        ours_s = min(ours_s, best_seconds(ours))
        theirs_s = min(theirs_s, best_seconds(theirs))
    tokens = sum(s.scored for s in ours_result)
    row = {"model": label, "metric": metric, "sentences": len(texts), "scored tokens": tokens,
           "ours": len(texts) / ours_s, "minicons": len(texts) / theirs_s, "ratio": theirs_s / ours_s,
           "max |diff|": difference}
    print(f"{label:<28} {metric:<13} {len(texts):>4} sent {tokens:>5} tok  explorer {row['ours']:7.2f} sent/s  "
          f"minicons {row['minicons']:7.2f} sent/s  ratio {row['ratio']:5.2f}x  max |diff| {difference:.1e}",
          flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--minicons-chunk", type=int, default=8, help="sentences per minicons call (default 8)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    texts = sentences(args.sentences)
    print(f"torch {torch.__version__}, {args.threads} thread(s), best of {args.repeats}, minicons "
          f"{args.minicons_chunk} sentences a call")
    compare("mini-bert (bundled)", str(bundled_path("mini-bert")), texts, "pll", args.minicons_chunk, args.repeats)
    compare("mini-bert (bundled)", str(bundled_path("mini-bert")), texts, "pll-word-l2r", args.minicons_chunk,
            args.repeats)
    compare("bert-base-sized (random)", random_bert_base(), texts, "pll", args.minicons_chunk, args.repeats)


if __name__ == "__main__":
    main()
