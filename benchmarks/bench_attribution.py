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
import time

import torch
from harness import masked_text, random_bert_base

from explorer import load_model, predict_masks
from explorer.attribution import TOKEN_BUDGET, attribute_tokens
from explorer.encoding import encode

SHORT = "paris is the [MASK] of france."
STEPS = (16, 32, 50, 100)


def timed(fn, repeats: int):
    """(median seconds, last result) of `repeats` calls (at least one), no warm-up: unlike `harness.median_ms`,
    which discards a first call, each row here is slow enough that a warm-up would double its cost."""
    times, result = [], None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    parser.add_argument("--tokens", type=int, default=128, help="length of the long text in tokens, specials included")
    parser.add_argument("--repeats", type=int, default=1, help="timed calls per row (median)")
    parser.add_argument("--model", default=None, help="a model folder or alias instead of the random bert-base")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    model = load_model(args.model or random_bert_base(), device="cpu")
    long_text = masked_text(args.tokens)
    texts = {"short": SHORT, "long": long_text}
    lengths = {name: len(encode(model, text).input_ids) for name, text in texts.items()}
    print(f"{model.info.name}: {model.info.architecture}, {model.info.parameters / 1e6:.0f}M parameters, "
          f"{torch.get_num_threads()} torch threads; texts: short {lengths['short']} tokens, "
          f"long {lengths['long']} tokens; median of {args.repeats}")

    # The machine may be shared: a plain prediction timed in the same run turns seconds into comparable ratios.
    predict_masks(model, SHORT)  # warm-up
    forward = {name: timed(lambda t=text: predict_masks(model, t), args.repeats)[0] for name, text in texts.items()}
    print("one predict_masks call (a single inference forward): "
          + ", ".join(f"{name} {seconds:.3f}s" for name, seconds in forward.items()))

    attribute_tokens(model, SHORT, n_steps=4)  # warm-up
    print("\nintegrated gradients, convergence (top-1 target, mask baseline)")
    print(f"  {'text':<6} {'attributed':<12} {'steps':>5} {'f(x)-f(x_)':>12} {'|delta|':>10} {'relative':>9} "
          f"{'time':>8} {'/ predict':>9}")
    runs = [("short", "probability"), ("short", "logit"), ("long", "probability")]
    for name, attributed in runs:
        for steps in STEPS:
            seconds, r = timed(lambda t=texts[name], s=steps, a=attributed: attribute_tokens(model, t, n_steps=s,
                                                                                            attributed=a),
                               args.repeats)
            print(f"  {name:<6} {attributed:<12} {steps:>5} {r.change:>12.4g} {abs(r.delta):>10.2g} "
                  f"{r.relative_delta:>9.1e} {seconds:7.2f}s {seconds / forward[name]:8.0f}x")

    print("\ntime per call of the other methods (ig: the 50-step rows above)")
    for name, text in texts.items():
        for method in ("grad-x-input", "occlusion"):
            seconds, _ = timed(lambda t=text, m=method: attribute_tokens(model, t, method=m), args.repeats)
            print(f"  {name:<6} {method:<13} {seconds:7.2f}s {seconds / forward[name]:6.0f}x predict_masks")

    auto = max(1, TOKEN_BUDGET // lengths["long"])
    print(f"\nintegrated gradients, 50 steps, long text: time by internal batch size (auto = {auto})")
    for batch in sorted({auto, 16, 50}):
        seconds, _ = timed(lambda b=batch: attribute_tokens(model, long_text, internal_batch_size=b), args.repeats)
        print(f"  batch {batch:>3}: {seconds:7.2f}s {seconds / forward['long']:6.0f}x predict_masks")


if __name__ == "__main__":
    main()
