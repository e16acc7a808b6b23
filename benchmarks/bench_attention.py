"""Benchmark: extract_attention / analyze_text on a bert-base-sized model and the biggest tiny test model.

Prints median times, ratios against the bare forward pass, and the size of every attention view; never run as a
test. The bert-base-sized model is randomly initialised from `BertConfig()` (110M parameters, the shape of
bert-base-uncased) because the Hub is unreachable here; speed does not depend on the weights.
Usage: `python benchmarks/bench_attention.py [--threads 1] [--tokens 32 128] [--repeats 7]`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch
from harness import masked_text, median_ms, random_bert_base  # puts tests/ on sys.path for tiny_models
from tiny_models import ARCHITECTURES, SENTENCES, build_tiny_model

from explorer import analyze_text, attention_rollout, extract_attention, load_model, predict_masks  # noqa: E402
from explorer.documents import attention_document  # noqa: E402
from explorer.encoding import encode  # noqa: E402
from explorer.figures.attention import plot_head, plot_heads_overview, plot_mask_attention  # noqa: E402
from explorer.figures.bertviz_view import head_view_html, model_view_html  # noqa: E402
from explorer.forward import model_inputs  # noqa: E402


def report(label: str, model, text: str, repeats: int) -> None:
    encoding = encode(model, text)
    inputs = model_inputs(model, encoding)

    def bare_forward() -> None:
        with torch.inference_mode():
            model.model(**inputs, output_attentions=True)

    bare = median_ms(bare_forward, repeats)
    extract = median_ms(lambda: extract_attention(model, text), repeats)
    predict = median_ms(lambda: predict_masks(model, text), repeats)
    analyze = median_ms(lambda: analyze_text(model, text), repeats)
    maps = extract_attention(model, text)
    rollout = median_ms(lambda: attention_rollout(maps), repeats)
    nested = median_ms(lambda: tuple(tuple(tuple(tuple(r) for r in h) for h in layer)
                                     for layer in maps.array().tolist()), 3)
    print(f"\n{label}: {model.info.parameters / 1e6:.1f}M parameters, {maps.layers} layers x {maps.heads} heads, "
          f"{len(maps.tokens)} tokens, {torch.get_num_threads()} thread(s)")
    print(f"  bare forward with output_attentions  {bare:9.1f} ms")
    print(f"  extract_attention                    {extract:9.1f} ms  ({extract / bare:.2f}x the bare forward)")
    print(f"  predict_masks (no attentions)        {predict:9.1f} ms")
    print(f"  analyze_text (both, one pass)        {analyze:9.1f} ms  ({analyze / (extract + predict):.2f}x "
          f"predict_masks + extract_attention)")
    print(f"  attention_rollout                    {rollout:9.1f} ms")
    print(f"  (nested tuples of the weights would cost {nested:.0f} ms more per text and about "
          f"{maps.array().size * 24 / 1e6:.0f} MB instead of {len(maps.weights) / 1e6:.1f} MB)")
    for name, make in (("head view", lambda: head_view_html(maps)), ("model view", lambda: model_view_html(maps))):
        html_ms = median_ms(make, 3)
        print(f"  {name:<10} iframe HTML {len(make().encode()) / 1e6:7.2f} MB, built in {html_ms:7.1f} ms")
    for name, make in (("head heatmap", lambda: plot_head(maps, 0, 0)), ("overview", lambda: plot_heads_overview(maps)),
                       ("mask view", lambda: plot_mask_attention(maps))):
        print(f"  plotly {name:<13} {len(make().to_json()) / 1e6:7.2f} MB JSON")
    size = len(json.dumps(attention_document(maps), ensure_ascii=False).encode())
    print(f"  --json document                      {size / 1e6:7.2f} MB (NPZ: {len(maps.weights) / 1e6:.2f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tokens", type=int, nargs="+", default=[32, 128], help="text lengths, specials included")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp())

    tiny = {arch: load_model(str(build_tiny_model(arch, root / arch))) for arch in ARCHITECTURES}
    biggest = max(tiny, key=lambda arch: tiny[arch].info.parameters)
    report(f"biggest tiny test model ({biggest})", tiny[biggest], SENTENCES[3], args.repeats)

    model = load_model(random_bert_base(root / "bert-base-random"))
    for tokens in args.tokens:
        report("bert-base-sized (random BertConfig())", model, masked_text(tokens), args.repeats)


if __name__ == "__main__":
    main()
