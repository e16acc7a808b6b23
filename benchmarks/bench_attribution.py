"""Benchmark: attribute_tokens on a bert-base-sized model — convergence delta against steps, and time per call.

Prints |delta| (absolute and relative to f(x) − f(x')) for 16, 32, 50 and 100 integration steps, the time of one
call for each method, and the time of integrated gradients at several internal batch sizes; never run as a test.
The model is randomly initialised from `BertConfig()` (110M parameters, the shape of bert-base-uncased) because the
Hub is unreachable here: its deltas say how well the integral converges on a model of that size, not on a trained
one. Usage: `python benchmarks/bench_attribution.py [--threads N] [--tokens 128] [--repeats 3] [--model PATH]`
(`--model` measures a real checkpoint instead, e.g. the bundled mini-bert once it is trained).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from transformers import BertConfig, BertForMaskedLM

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from tiny_models import WORDS, build_tokenizer  # noqa: E402

from explorer import load_model  # noqa: E402
from explorer.attribution import TOKEN_BUDGET, attribute_tokens  # noqa: E402
from explorer.encoding import encode  # noqa: E402

SHORT = "paris is the [MASK] of france."
STEPS = (16, 32, 50, 100)


def timed(fn, repeats: int):
    """(median seconds, last result) of `repeats` calls after one warm-up call."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def random_bert_base() -> str:
    folder = Path(tempfile.mkdtemp()) / "bert-base-random"
    tokenizer = build_tokenizer("bert")
    tokenizer.model_max_length = 512
    torch.manual_seed(0)
    BertForMaskedLM(BertConfig(vocab_size=30522)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    parser.add_argument("--tokens", type=int, default=128, help="length of the long text in tokens, specials included")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default=None, help="a model folder or alias instead of the random bert-base")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    model = load_model(args.model or random_bert_base(), device="cpu")
    words = [WORDS[i % len(WORDS)] for i in range(args.tokens - 3)]
    words[len(words) // 2] = "[MASK]"
    long_text = " ".join(words) + "."
    texts = {"short": SHORT, "long": long_text}
    lengths = {name: len(encode(model, text).input_ids) for name, text in texts.items()}
    print(f"{model.info.name}: {model.info.architecture}, {model.info.parameters / 1e6:.0f}M parameters, "
          f"{torch.get_num_threads()} torch threads; texts: short {lengths['short']} tokens, "
          f"long {lengths['long']} tokens; median of {args.repeats} after a warm-up")

    print("\nintegrated gradients, convergence (top-1 target, mask baseline)")
    print(f"  {'text':<6} {'attributed':<12} {'steps':>5} {'f(x)-f(x_)':>12} {'|delta|':>10} {'relative':>9} "
          f"{'time':>8}")
    for name, text in texts.items():
        for attributed in ("probability", "logit"):
            for steps in STEPS:
                repeats = args.repeats if attributed == "probability" else 0
                seconds, r = timed(lambda t=text, s=steps, a=attributed: attribute_tokens(model, t, n_steps=s,
                                                                                         attributed=a), repeats)
                shown = f"{seconds:7.2f}s" if repeats else "       -"
                print(f"  {name:<6} {attributed:<12} {steps:>5} {r.change:>12.4g} {abs(r.delta):>10.2g} "
                      f"{r.relative_delta:>9.1e} {shown}")

    print("\ntime per call by method (50 steps for ig)")
    for name, text in texts.items():
        for method in ("ig", "grad-x-input", "occlusion"):
            seconds, _ = timed(lambda t=text, m=method: attribute_tokens(model, t, method=m), args.repeats)
            print(f"  {name:<6} {method:<13} {seconds:7.2f}s")

    print(f"\nintegrated gradients, 50 steps, long text: time by internal batch size (auto = "
          f"{max(1, TOKEN_BUDGET // lengths['long'])})")
    for batch in (4, 16, 50):
        seconds, _ = timed(lambda b=batch: attribute_tokens(model, long_text, internal_batch_size=b), args.repeats)
        print(f"  batch {batch:>3}: {seconds:7.2f}s")


if __name__ == "__main__":
    main()
