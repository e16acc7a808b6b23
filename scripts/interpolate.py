"""Mix a trained mini-bert back towards its pretrained all-MiniLM-L6-v2 encoder (WiSE-FT weight interpolation).

Every encoder and embedding weight becomes ``alpha * trained + (1 - alpha) * pretrained``; the MLM head (new in
training, with no pretrained counterpart) is kept as trained. The corpus is dictionary-heavy and archaic, and the
longer the encoder trains on it the more it trades MiniLM's everyday English for that register; interpolation
(Wortsman et al. 2022, "Robust fine-tuning of zero-shot models") keeps part of both.

``alpha`` is chosen by a rule fixed in advance, on data that is not the reported evaluation: the largest number of
top-5 hits on the development cloze set (``cloze_dev.txt``) among the alphas whose masked-token top-1 on a
held-out sample is at most one point (0.01) below that of the trained model itself (alpha = 1); ties go to the
larger alpha.
``cloze_eval.txt`` is never read here.

Issue 13: ``--base DIR`` mixes towards another trained mini-bert instead (every weight, the MLM head included:
both models have one), e.g. the issue-3 model the run continued from; ``--min-top1 X`` replaces the relative
floor by an absolute one (the shipped model's held-out top-1 must stay >= 0.46), ties then going to fewer dev
copies. The held-out sample is drawn from issue 3's held-out split (``--heldout-sources issue3``), so the floor is
comparable across corpora. ``cloze_everyday.txt`` is never read here either.

Usage::

    python scripts/interpolate.py /root/mlm-train/mini-bert/main/latest --out /root/mlm-train/mini-bert/wise
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from evaluate import EVAL_CACHE, cloze, heldout_source_names, heldout_subset, is_evaluation_set, load, read_cloze
from mlm_data import Specials, cached_split, masked_accuracy
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent
TOP1_TOLERANCE = 0.01  # held-out top-1 an alpha may lose against the trained model and still be chosen


def pretrained_encoder() -> dict[str, torch.Tensor]:
    """all-MiniLM-L6-v2's weights named as in BertForMaskedLM (``bert.`` prefix), pooler dropped."""
    from train_mlm import minilm_dir

    state = load_file(minilm_dir() / "model.safetensors")
    return {
        "bert." + k.removeprefix("bert."): v
        for k, v in state.items()
        if not k.removeprefix("bert.").startswith("pooler.") and not k.endswith("position_ids")
    }


@torch.no_grad()
def mix(model, trained: dict[str, torch.Tensor], base: dict[str, torch.Tensor], alpha: float) -> None:
    """Set `model`'s weights to the interpolation, in place (head tensors and buffers as trained).

    In place on purpose: the decoder is tied to the word embeddings, and `load_state_dict` with a dict holding
    both names would write the shared tensor twice, the last (unmixed decoder) value winning."""
    live = model.state_dict()  # tensors that share storage with the parameters, tied ones included
    missing = sorted(set(base) - set(live))
    if missing:
        sys.exit(f"the trained model has no {missing[0]}: is it a mini-bert checkpoint?")
    for name, value in trained.items():
        live[name].copy_(value)
    for name, pre in base.items():
        live[name].copy_(alpha * trained[name] + (1.0 - alpha) * pre.to(trained[name].dtype))
    tied = model.cls.predictions.decoder.weight
    if tied.data_ptr() != model.bert.embeddings.word_embeddings.weight.data_ptr():
        sys.exit("expected the decoder to be tied to the word embeddings")


def trained_base(folder: Path) -> dict[str, torch.Tensor]:
    """Every weight of another trained mini-bert (``--base``), head included, named as in BertForMaskedLM."""
    other, _ = load(folder)
    return {k: v for k, v in other.state_dict().items() if v.is_floating_point()}  # the model itself is dropped


def choose(rows: list[dict], tolerance: float = TOP1_TOLERANCE, min_top1: float | None = None) -> dict:
    """The rule of the module docstring; with min_top1 (issue 13), the held-out floor is that absolute value
    and ties on dev hits go to fewer dev copies, then to the larger alpha."""
    if min_top1 is None:
        floor = next(r for r in rows if r["alpha"] == 1.0)["token_top1"] - tolerance
        ok = [r for r in rows if r["token_top1"] >= floor]
        return max(ok, key=lambda r: (r["dev_cloze_hits"], r["alpha"]))
    ok = [r for r in rows if r["token_top1"] >= min_top1] or [max(rows, key=lambda r: r["token_top1"])]
    return max(ok, key=lambda r: (r["dev_cloze_hits"], -r["dev_cloze_copies"], r["alpha"]))


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", type=Path, help="a trained mini-bert folder (save_pretrained), e.g. .../main/latest")
    ap.add_argument("--out", type=Path, required=True, help="where the chosen model is saved (save_pretrained)")
    ap.add_argument("--alphas", default="0.5,0.6,0.75,0.85,1.0", help="comma separated; 1.0 is always added")
    ap.add_argument("--alpha", type=float, default=None, help="skip the sweep and use this alpha")
    ap.add_argument("--corpus", type=Path, default=Path("/root/mlm-data/corpus"))
    ap.add_argument("--dev-cloze", type=Path, default=HERE / "cloze_dev.txt")
    ap.add_argument("--heldout-seqs", type=int, default=300, help="held-out sample for the top-1 floor")
    ap.add_argument("--seed", type=int, default=4321, help="held-out sample and masking (not evaluate.py's)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--base", type=Path, default=None,
                    help="mix towards this trained mini-bert (all weights, head included) instead of MiniLM")
    ap.add_argument("--min-top1", default=None,
                    help="held-out top-1 floor instead of 'the trained model's - 0.01': a number, or 'base' for "
                    "the --base model's own top-1 on the same sample (alpha 0 is then added to the sweep)")
    ap.add_argument("--heldout-sources", default="issue3", help="as evaluate.py: 'issue3', 'all' or a list")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if is_evaluation_set(args.dev_cloze):
        sys.exit("the evaluation cloze set must not be used to choose alpha")
    t0 = time.time()
    model, tok = load(args.src)
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    base = pretrained_encoder() if args.base is None else trained_base(args.base)
    alphas = [args.alpha] if args.alpha is not None else sorted({float(a) for a in args.alphas.split(",")} | {1.0})
    if args.min_top1 == "base":
        if args.base is None:
            sys.exit("--min-top1 base needs --base")
        alphas = sorted(set(alphas) | {0.0})
    rows = []
    if args.alpha is None:
        names = heldout_source_names(args.heldout_sources)
        corpus = heldout_subset(args.corpus, names) if names else args.corpus
        held = cached_split(tok, corpus, "heldout", EVAL_CACHE)
        sp = Specials.of(tok)
        idx = np.sort(np.random.default_rng(args.seed).permutation(len(held.seq_len))[: args.heldout_seqs])
        dev = read_cloze(args.dev_cloze)
        for alpha in alphas:
            mix(model, trained, base, alpha)
            acc = masked_accuracy(model, held, idx, sp, args.seed)
            cz = cloze(model, tok, dev)
            rows.append({"alpha": alpha, "token_top1": acc["top1"], "token_top5": acc["top5"],
                         "dev_cloze_hits": cz["hits"], "dev_cloze_copies": cz["copies"],
                         "dev_cloze_total": cz["total"]})  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
        floor = args.min_top1
        if floor == "base":
            floor = next(r for r in rows if r["alpha"] == 0.0)["token_top1"]
        args.min_top1 = None if floor is None else float(floor)
        alpha = choose(rows, min_top1=args.min_top1)["alpha"]
    else:
        alpha = args.alpha
    mix(model, trained, base, alpha)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    tok.save_pretrained(args.out)
    state_file = args.src / "training_state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    state["wise_ft"] = {
        "alpha": alpha,
        "source": str(args.src),
        "sweep": rows,
        "base": str(args.base) if args.base else "all-MiniLM-L6-v2 (encoder only)",
        "rule": (f"most dev-cloze top-5 hits among alphas whose held-out top-1 >= alpha 1.0's - {TOP1_TOLERANCE}; "
                 "ties to the larger alpha") if args.min_top1 is None else
                (f"most dev-cloze top-5 hits among alphas whose held-out top-1 >= {args.min_top1}; ties to fewer "
                 "dev copies, then the larger alpha"),
        "heldout_sources": args.heldout_sources,
        "min_top1": args.min_top1,
        "dev_cloze": args.dev_cloze.name,
        "heldout_sample": {"sequences": args.heldout_seqs, "seed": args.seed},
        "seconds": round(time.time() - t0, 1),
    }
    (args.out / "training_state.json").write_text(json.dumps(state, indent=2))
    print(f"alpha {alpha} -> {args.out}")


if __name__ == "__main__":
    main()
