"""Benchmark: predict_masks against the transformers fill-mask pipeline on a bert-base-sized model.

Prints median times and ratios; never run as a test. The model is randomly initialised from `BertConfig()`
(110M parameters, the shape of bert-base-uncased) because the Hub is unreachable here; speed does not depend on
the weights. Usage: `python benchmarks/bench_fill_mask.py [--threads 1] [--tokens 128] [--repeats 15]`.
"""

from __future__ import annotations

import argparse

import torch
from harness import masked_text, median_ms, random_bert_base
from transformers import pipeline

from explorer import load_model, predict_masks
from explorer.encoding import encode
from explorer.forward import model_inputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=128, help="sentence length in tokens, specials included")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    folder = random_bert_base()
    text = masked_text(args.tokens)
    model = load_model(folder)
    encoding = encode(model, text)
    assert len(encoding.input_ids) == args.tokens, len(encoding.input_ids)
    pipe = pipeline("fill-mask", model=folder, device="cpu")
    inputs = model_inputs(model, encoding)

    def full_forward() -> None:
        with torch.inference_mode():
            model.model(**inputs)

    ours = median_ms(lambda: predict_masks(model, text), args.repeats)
    theirs = median_ms(lambda: pipe(text), args.repeats)
    forward = median_ms(full_forward, args.repeats)
    print(f"bert-base-sized (random weights), {args.tokens} tokens, 1 mask, {args.threads} thread(s), "
          f"median of {args.repeats}")
    print(f"  eager forward, head on every position : {forward:8.1f} ms")
    print(f"  transformers fill-mask pipeline       : {theirs:8.1f} ms")
    print(f"  explorer.predict_masks                : {ours:8.1f} ms")
    print(f"  ratio predict_masks / pipeline        : {ours / theirs:8.2f}")
    print(f"  ratio predict_masks / full forward    : {ours / forward:8.2f}")


if __name__ == "__main__":
    main()
