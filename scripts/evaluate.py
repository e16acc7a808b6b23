"""Evaluate a masked LM folder on the held-out split and the cloze set; print (and optionally write) JSON.

Metrics:

* ``token_top1`` / ``token_top5``: 15% of held-out tokens selected (80% [MASK], 10% random, 10% kept), fixed
  seed; accuracy of the original token among the top-1 / top-5 at the selected positions.
* ``whole_word_top1`` / ``whole_word_top5``: 15% of words masked whole (every piece [MASK]); a word counts when
  every piece's original token is the top-1 / in the top-5 at its position.
* ``pseudo_perplexity``: exp(mean NLL) masking one token at a time, over a fixed sample of held-out sequences.
* ``cloze``: sentences of ``scripts/cloze_eval.txt``; a hit when a top-5 prediction (as a word) is acceptable.

Usage: ``python scripts/evaluate.py /root/mlm-train/mini-bert/main/latest --out eval.json``
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from mlm_data import Specials, TokenizedSplit, batch_generator, cached_split, masked_accuracy

HERE = Path(__file__).resolve().parent


def load(model_dir: Path):
    """Model in float32 (as the app loads bundled models) and its tokenizer."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    model = AutoModelForMaskedLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(model_dir)


def read_cloze(path: Path) -> list[tuple[str, set[str]]]:
    """(sentence with [MASK], acceptable answers) pairs; '#' lines are comments."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            sentence, answers = line.split(" | ")
            assert sentence.count("[MASK]") == 1, sentence
            items.append((sentence.strip(), {a.strip().lower() for a in answers.split(",")}))
    return items


def token_word(tok, token_id: int) -> str:
    """A vocabulary entry as a plain lower-case word ('' for a continuation piece such as '##ing')."""
    piece = tok.convert_ids_to_tokens(token_id)
    if piece.startswith("##"):
        return ""
    return tok.convert_tokens_to_string([piece]).strip().lower()


@torch.no_grad()
def cloze(model, tok, items: list[tuple[str, set[str]]], k: int = 5) -> dict:
    """Top-k hits on cloze sentences, with the predictions for the record."""
    rows, hits = [], 0
    for sentence, answers in items:
        enc = tok(sentence.replace("[MASK]", tok.mask_token), return_tensors="pt")
        pos = (enc["input_ids"][0] == tok.mask_token_id).nonzero()[0, 0]
        top = model(**enc).logits[0, pos].topk(k).indices.tolist()
        words = [token_word(tok, i) for i in top]
        hit = any(w in answers for w in words)
        hits += hit
        rows.append({"sentence": sentence, "top5": words, "hit": hit})
    return {"hits": hits, "total": len(items), "rate": hits / len(items), "items": rows}


@torch.no_grad()
def whole_word(model, data: TokenizedSplit, idx: np.ndarray, sp: Specials, seed: int) -> dict:
    """Whole-word masking accuracy: every piece of 15% of the words replaced by the mask token."""
    gen = batch_generator(seed, 777)
    n = top1 = top5 = 0
    per = 32
    for i in range(0, len(idx), per):
        seqs = [data.sequence(int(j)) for j in idx[i : i + per]]
        width = max(len(s) for s, _ in seqs) + 2
        ids = torch.full((len(seqs), width), sp.pad, dtype=torch.long)
        att = torch.zeros_like(ids)
        words: list[tuple[int, int, int]] = []  # (row, first position, end position)
        for b, (toks, ws) in enumerate(seqs):
            L = len(toks)
            ids[b, 0], ids[b, 1 : L + 1], ids[b, L + 1] = sp.cls, torch.from_numpy(toks.astype(np.int64)), sp.sep
            att[b, : L + 2] = 1
            starts = np.flatnonzero(ws)
            ends = np.append(starts[1:], L)
            pick = torch.randperm(len(starts), generator=gen)[: max(1, round(0.15 * len(starts)))].tolist()
            words += [(b, 1 + int(starts[w]), 1 + int(ends[w])) for w in pick]
        gold = ids.clone()
        for b, s, e in words:
            ids[b, s:e] = sp.mask
        top = model(input_ids=ids, attention_mask=att).logits.topk(5, dim=-1).indices  # [batch, seq, 5]
        for b, s, e in words:
            g = gold[b, s:e]
            top1 += bool((top[b, s:e, 0] == g).all())
            top5 += bool((top[b, s:e] == g[:, None]).any(-1).all())
            n += 1
    return {"whole_word_top1": top1 / n, "whole_word_top5": top5 / n, "words": n}


@torch.no_grad()
def pseudo_perplexity(model, data: TokenizedSplit, idx: np.ndarray, sp: Specials, max_len: int) -> dict:
    """exp(mean NLL) of each token with only that token masked (Salazar et al. 2020), first max_len tokens."""
    nll, n = 0.0, 0
    for j in idx:
        toks, _ = data.sequence(int(j))
        toks = torch.from_numpy(toks[:max_len].astype(np.int64))
        L = len(toks)
        row = torch.cat([torch.tensor([sp.cls]), toks, torch.tensor([sp.sep])])
        batch = row.repeat(L, 1)  # [L, L + 2]: row i masks token i
        pos = torch.arange(L) + 1
        batch[torch.arange(L), pos] = sp.mask
        logp = model(input_ids=batch).logits[torch.arange(L), pos].log_softmax(-1)
        nll -= logp[torch.arange(L), toks].sum().item()
        n += L
    return {"pseudo_perplexity": math.exp(nll / n), "pppl_tokens": n}


def evaluate(model_dir: Path, corpus: Path, cloze_file: Path, seed: int, max_seqs: int | None,
             pppl_seqs: int, pppl_len: int) -> dict:  # fmt: skip
    """All metrics for one model folder."""
    t0 = time.time()
    model, tok = load(model_dir)
    held = cached_split(tok, corpus, "heldout", Path("/root/mlm-train/eval-cache"))
    sp = Specials.of(tok)
    rng = np.random.default_rng(seed)
    idx = np.arange(len(held.seq_len)) if max_seqs is None else np.sort(rng.permutation(len(held.seq_len))[:max_seqs])
    tokm = masked_accuracy(model, held, idx, sp, seed)
    ww = whole_word(model, held, idx, sp, seed)
    pidx = np.sort(np.random.default_rng(seed + 1).permutation(len(held.seq_len))[:pppl_seqs])
    pppl = pseudo_perplexity(model, held, pidx, sp, pppl_len)
    cz = cloze(model, tok, read_cloze(cloze_file))
    state_file = model_dir / "training_state.json"
    return {
        "model_dir": str(model_dir),
        "architecture": model.config.architectures[0] if model.config.architectures else type(model).__name__,
        "parameters": sum(p.numel() for p in model.parameters()),
        "heldout_sequences": len(idx),
        "seed": seed,
        "token_top1": tokm["top1"],
        "token_top5": tokm["top5"],
        "token_loss": tokm["loss"],
        "masked_tokens": tokm["tokens"],
        **ww,
        **pppl,
        "pppl_sample": {"sequences": pppl_seqs, "max_tokens": pppl_len},
        "cloze_file": cloze_file.name,
        "cloze_top5_hits": cz["hits"],
        "cloze_total": cz["total"],
        "cloze_rate": cz["rate"],
        "cloze_items": cz["items"],
        "training_state": json.loads(state_file.read_text()) if state_file.exists() else None,
        "eval_seconds": round(time.time() - t0, 1),
    }


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("--corpus", type=Path, default=Path("/root/mlm-data/corpus"))
    ap.add_argument("--cloze", type=Path, default=HERE / "cloze_eval.txt")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--max-seqs", type=int, default=None, help="held-out sequences (default: all)")
    ap.add_argument("--pppl-seqs", type=int, default=60)
    ap.add_argument("--pppl-len", type=int, default=48)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    res = evaluate(args.model_dir, args.corpus, args.cloze, args.seed, args.max_seqs, args.pppl_seqs, args.pppl_len)
    text = json.dumps(res, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    summary = {k: res[k] for k in ("token_top1", "token_top5", "whole_word_top5", "pseudo_perplexity", "cloze_rate")}
    print(text if args.out is None else json.dumps(summary), file=sys.stdout)


if __name__ == "__main__":
    main()
