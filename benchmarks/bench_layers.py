"""Benchmark: layer_predictions, ablate_heads, head_effects and fill_jointly on the bundled mini-bert and a
bert-base-sized model, then what the views show on the bundled model for two sentences.

Prints median times per call and ratios against predict_masks (one forward pass); never run as a test. The
bert-base-sized model is randomly initialised from `BertConfig()` (110M parameters) because the Hub is unreachable
here; speed does not depend on the weights. head_effects is also compared with one ablate_heads call per head.
Usage: `python benchmarks/bench_layers.py [--threads 1] [--repeats 5]`.
"""

from __future__ import annotations

import argparse
import time

import torch
from harness import median_ms, random_bert_base  # puts tests/ on sys.path

from explorer import load_model, predict_masks  # noqa: E402
from explorer.ablation import ablate_heads, head_effects  # noqa: E402
from explorer.figures.labels import token_label  # noqa: E402
from explorer.joint import fill_jointly  # noqa: E402
from explorer.layers import layer_predictions  # noqa: E402

ONE_MASK = "Paris is the [MASK] of France."
TWO_MASKS = "The [MASK] was cold and the [MASK] was hot."


def report(label: str, model, repeats: int) -> None:
    config = model.model.config
    layers, heads = config.num_hidden_layers, config.num_attention_heads
    print(f"\n{label}: {model.info.parameters / 1e6:.1f}M parameters, {layers} layers x {heads} heads, "
          f"{torch.get_num_threads()} thread(s)")
    for text in (ONE_MASK, TWO_MASKS):
        time_text(model, text, repeats, layers, heads)


def time_text(model, text: str, repeats: int, layers: int, heads: int) -> None:
    base = median_ms(lambda: predict_masks(model, text), repeats)
    rows = [
        ("layer_predictions", median_ms(lambda: layer_predictions(model, text), repeats)),
        ("ablate_heads (2 heads)", median_ms(lambda: ablate_heads(model, text, "0:0,1:1"), repeats)),
        (f"head_effects ({layers * heads} ablations)", median_ms(lambda: head_effects(model, text), repeats)),
        ("fill_jointly beam 1", median_ms(lambda: fill_jointly(model, text), repeats)),
        ("fill_jointly beam 4", median_ms(lambda: fill_jointly(model, text, beam=4), repeats)),
    ]
    start = time.perf_counter()
    for layer in range(layers):
        for head in range(heads):
            ablate_heads(model, text, [(layer, head)])
    one_by_one = (time.perf_counter() - start) * 1000
    print(f"  {text!r}: predict_masks {base:.1f} ms")
    for name, ms in rows:
        print(f"    {name:<32} {ms:9.1f} ms  ({ms / base:5.1f}x predict_masks)")
    effects = next(ms for name, ms in rows if name.startswith("head_effects"))
    print(f"    {'one ablate_heads per head':<32} {one_by_one:9.1f} ms  (head_effects is "
          f"{one_by_one / effects:.1f}x faster)")


def describe(model) -> None:
    """What the Layers view and joint filling show on `model` for the two sentences."""
    for text in (ONE_MASK, TWO_MASKS):
        print(f"\n{model.info.name}: {text}")
        lens = layer_predictions(model, text, top_k=3)
        for number, mask in enumerate(lens.masks):
            final = mask.layers[-1].final_top1
            print(f"  mask {number + 1} (token {mask.position}), final top-1 {token_label(final.token)!r}:")
            for entry in mask.layers:
                words = ", ".join(f"{token_label(p.token)} {p.score:.3f}" for p in entry.predictions)
                print(f"    layer {entry.layer}: {words}   | final word rank {entry.final_top1.rank}, "
                      f"p={entry.final_top1.score:.4f}")
            effects = head_effects(model, text, mask=number)
            ranked = sorted(((v, la, h) for la, row in enumerate(effects.effects) for h, v in enumerate(row)),
                            key=lambda item: item[0])
            print(f"    removing one head, p({token_label(effects.target)!r}) = {effects.baseline:.4f} changes most "
                  f"for: " + ", ".join(f"{la}:{h} {v:+.4f}" for v, la, h in ranked[:3])
                  + "; rises most for: " + ", ".join(f"{la}:{h} {v:+.4f}" for v, la, h in ranked[::-1][:2]))
        for order in ("confidence", "left-to-right"):
            for beam in (1, 4):
                joint = fill_jointly(model, text, order=order, beam=beam)
                steps = ", ".join(f"mask {s.mask + 1}={token_label(s.token)} ({s.probability:.3f})"
                                  for s in joint.steps)
                print(f"  joint {order}, beam {beam}: {joint.filled_text!r} log p {joint.log_probability:.3f} "
                      f"[{steps}]; independent: {joint.independent_text!r}; differs {list(joint.differs)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bundled = load_model("mini-bert", device="cpu")
    report("mini-bert (bundled)", bundled, args.repeats)
    report("bert-base-sized, random weights", load_model(random_bert_base(), device="cpu"), args.repeats)
    describe(bundled)


if __name__ == "__main__":
    main()
