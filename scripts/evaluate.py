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
import hashlib
import json
import math
import re
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


# The reported evaluation sets: never read by a choice (checkpoint, interpolation, recipe), only measured.
EVALUATION_CLOZE = ("cloze_eval", "cloze_everyday")


def is_evaluation_set(path: Path) -> bool:
    """Whether `path` is (or is named after) one of the reported evaluation cloze sets."""
    return any(stem in path.name for stem in EVALUATION_CLOZE)


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


def sentence_words(sentence: str) -> set[str]:
    """The lower-case words of a cloze sentence other than the mask, punctuation stripped."""
    return {w for w in re.findall(r"[a-z0-9']+", sentence.replace("[MASK]", " ").lower())}


@torch.no_grad()
def cloze(model, tok, items: list[tuple[str, set[str]]], k: int = 5) -> dict:
    """Top-k hits on cloze sentences, and the copy rate: how often the top-1 is a word of the same sentence
    ("The cat sat on the [MASK]." -> "cat"); with the predictions for the record."""
    was_training = model.training
    model.eval()
    rows, hits, copies = [], 0, 0
    for sentence, answers in items:
        enc = tok(sentence.replace("[MASK]", tok.mask_token), return_tensors="pt")
        pos = (enc["input_ids"][0] == tok.mask_token_id).nonzero()[0, 0]
        top = model(**enc).logits[0, pos].topk(k).indices.tolist()
        words = [token_word(tok, i) for i in top]
        hit = any(w in answers for w in words)
        copy = words[0] in sentence_words(sentence)
        hits += hit
        copies += copy
        rows.append({"sentence": sentence, "top5": words, "hit": hit, "copy": copy})
    model.train(was_training)
    n = len(items)
    return {"hits": hits, "total": n, "rate": hits / n, "copies": copies, "copy_rate": copies / n, "items": rows}


@torch.no_grad()
def sentence_pll(model, tok, sentences: list[str], rows_per_batch: int = 512) -> list[float]:
    """Pseudo-log-likelihood of each sentence (Salazar et al. 2020): the sum over its tokens, [CLS]/[SEP]
    excluded, of log p(token | the sentence with only that token masked), natural log.

    Every masked copy of every sentence is one row; rows are length-sorted into batches, and the vocabulary
    projection runs at the masked position only.
    """
    enc = [tok(s)["input_ids"] for s in sentences]
    rows: list[tuple[int, int]] = [(i, p) for i, ids in enumerate(enc) for p in range(1, len(ids) - 1)]
    rows.sort(key=lambda r: len(enc[r[0]]))
    head = model.cls if hasattr(model, "cls") else model.lm_head
    pll = [0.0] * len(sentences)
    for b in range(0, len(rows), rows_per_batch):
        chunk = rows[b : b + rows_per_batch]
        width = max(len(enc[i]) for i, _ in chunk)
        ids = torch.full((len(chunk), width), tok.pad_token_id, dtype=torch.long)  # [row, pos]
        att = torch.zeros_like(ids)
        for r, (i, _) in enumerate(chunk):
            ids[r, : len(enc[i])] = torch.tensor(enc[i])
            att[r, : len(enc[i])] = 1
        gold = ids[torch.arange(len(chunk)), [p for _, p in chunk]].clone()  # [row]
        ids[torch.arange(len(chunk)), [p for _, p in chunk]] = tok.mask_token_id
        hidden = model.base_model(input_ids=ids, attention_mask=att).last_hidden_state  # [row, pos, hidden]
        at_mask = hidden[torch.arange(len(chunk)), [p for _, p in chunk]]  # [row, hidden]
        logp = head(at_mask).float().log_softmax(-1)[torch.arange(len(chunk)), gold]  # [row]
        for (i, _), v in zip(chunk, logp.tolist(), strict=True):
            pll[i] += v
    return pll


@torch.no_grad()
def latency(model, tok, sentence: str = "The children are playing in the [MASK].", runs: int = 30) -> dict:
    """Median and 90th-percentile wall time of one fill-mask call (tokenise + forward + top-5), in ms, after
    3 warm-up calls; with this process's torch thread count."""
    was_training = model.training
    model.eval()
    times = []
    for i in range(runs + 3):
        t = time.perf_counter()
        enc = tok(sentence.replace("[MASK]", tok.mask_token), return_tensors="pt")
        logits = model(**enc).logits
        pos = (enc["input_ids"][0] == tok.mask_token_id).nonzero()[0, 0]
        logits[0, pos].softmax(-1).topk(5)
        if i >= 3:
            times.append(1000 * (time.perf_counter() - t))
    model.train(was_training)
    times.sort()
    return {"median_ms": times[len(times) // 2], "p90_ms": times[int(0.9 * len(times))], "runs": runs,
            "threads": torch.get_num_threads(), "sentence": sentence}  # fmt: skip


def read_blimp(folder: Path, per_paradigm: int | None = None) -> list[dict]:
    """BLiMP minimal pairs of every paradigm file (jsonl) in folder, the first per_paradigm of each."""
    pairs = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        pairs += rows[:per_paradigm] if per_paradigm else rows
    return pairs


@torch.no_grad()
def blimp(model, tok, pairs: list[dict]) -> dict:
    """Share of pairs whose good sentence has the higher pseudo-log-likelihood: overall, per field, per
    paradigm."""
    scores = sentence_pll(model, tok, [p["sentence_good"] for p in pairs] + [p["sentence_bad"] for p in pairs])
    right = [g > b for g, b in zip(scores[: len(pairs)], scores[len(pairs) :], strict=True)]
    groups: dict[str, dict[str, list[bool]]] = {"field": {}, "paradigm": {}}
    for p, ok in zip(pairs, right, strict=True):
        # the sample spells one field both "syntax_semantics" and "syntax/semantics": one field, as in the paper
        groups["field"].setdefault(p["field"].replace("/", "_"), []).append(ok)
        groups["paradigm"].setdefault(p["UID"], []).append(ok)
    return {
        "pairs": len(pairs),
        "accuracy": sum(right) / len(pairs),
        "per_field": {k: sum(v) / len(v) for k, v in sorted(groups["field"].items())},
        "per_paradigm": {k: sum(v) / len(v) for k, v in sorted(groups["paradigm"].items())},
    }


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


# The sources of issue 3's corpus. build_corpus.py appends issue 13's sources after them, so these sources'
# held-out documents are exactly issue 3's held-out split: "--heldout-sources issue3" measures on it.
ISSUE3_SOURCES = ["wordnet", "web-bible", "python-docs", "django-docs", "postgresql-docs", "sqlite-docs",
                  "rust-books", "fortunes", "cfi-en", "jargon", "devils-dictionary", "maint-guide"]  # fmt: skip


EVAL_CACHE = Path("/root/mlm-train/eval-cache")  # tokenised held-out splits, outside the repository


def heldout_source_names(spec: str) -> list[str] | None:
    """--heldout-sources: "all" (None: the whole split), "issue3" (issue 3's sources) or a comma-separated list."""
    if spec == "all":
        return None
    return ISSUE3_SOURCES if spec == "issue3" else spec.split(",")


def heldout_subset(corpus: Path, sources: list[str]) -> Path:
    """A corpus folder holding only the held-out documents of `sources` (cached under /root/mlm-train)."""
    from build_corpus import sha256_file

    lines = [
        line
        for line in (corpus / "heldout.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        if json.loads(line)["source"] in sources
    ]
    key = hashlib.sha256("".join(lines).encode()).hexdigest()[:12]
    out = EVAL_CACHE / f"heldout-{key}"
    if not (out / "manifest.json").exists():
        out.mkdir(parents=True, exist_ok=True)
        (out / "heldout.jsonl").write_text("".join(lines), encoding="utf-8")
        files = {"heldout": {"path": "heldout.jsonl", "sha256": sha256_file(out / "heldout.jsonl")}}
        (out / "manifest.json").write_text(json.dumps({"sources": sources, "files": files}, indent=2))
    return out


def cloze_only(model, tok, cloze_file: Path) -> dict:
    """The cloze_eval.txt part of the result (with or without the held-out metrics)."""
    cz = cloze(model, tok, read_cloze(cloze_file))
    return {"cloze_file": cloze_file.name, "cloze_top5_hits": cz["hits"], "cloze_total": cz["total"],
            "cloze_rate": cz["rate"], "cloze_copies": cz["copies"], "cloze_copy_rate": cz["copy_rate"],
            "cloze_items": cz["items"]}  # fmt: skip


def evaluate(model_dir: Path, corpus: Path, cloze_file: Path, seed: int, max_seqs: int | None,
             pppl_seqs: int, pppl_len: int, everyday_file: Path | None = None, dev_file: Path | None = None,
             blimp_dir: Path | None = None, blimp_per_paradigm: int | None = None,
             heldout_sources: list[str] | None = None, skip_heldout: bool = False) -> dict:  # fmt: skip
    """All metrics for one model folder."""
    t0 = time.time()
    model, tok = load(model_dir)
    extra: dict = {"latency": latency(model, tok)}
    for key, path in (("everyday", everyday_file), ("dev", dev_file)):
        if path is not None:
            cz = cloze(model, tok, read_cloze(path))
            extra[key] = {"file": path.name, **cz}
    if blimp_dir is not None:
        tb = time.time()
        extra["blimp"] = {**blimp(model, tok, read_blimp(blimp_dir, blimp_per_paradigm)),
                          "per_paradigm_limit": blimp_per_paradigm, "seconds": round(time.time() - tb, 1)}  # fmt: skip
    if skip_heldout:
        return {"model_dir": str(model_dir), **cloze_only(model, tok, cloze_file), **extra,
                "eval_seconds": round(time.time() - t0, 1)}  # fmt: skip
    if heldout_sources:
        corpus = heldout_subset(corpus, heldout_sources)
    held = cached_split(tok, corpus, "heldout", EVAL_CACHE)
    sp = Specials.of(tok)
    rng = np.random.default_rng(seed)
    idx = np.arange(len(held.seq_len)) if max_seqs is None else np.sort(rng.permutation(len(held.seq_len))[:max_seqs])
    tokm = masked_accuracy(model, held, idx, sp, seed)
    ww = whole_word(model, held, idx, sp, seed)
    pidx = np.sort(np.random.default_rng(seed + 1).permutation(len(held.seq_len))[:pppl_seqs])
    pppl = pseudo_perplexity(model, held, pidx, sp, pppl_len)
    state_file = model_dir / "training_state.json"
    return {
        "heldout_sources": heldout_sources,
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
        **cloze_only(model, tok, cloze_file),
        **extra,
        "training_state": json.loads(state_file.read_text()) if state_file.exists() else None,
        "eval_seconds": round(time.time() - t0, 1),
    }


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("--corpus", type=Path, default=Path("/root/mlm-data/corpus"))
    ap.add_argument("--cloze", type=Path, default=HERE / "cloze_eval.txt")
    ap.add_argument("--everyday", type=Path, default=HERE / "cloze_everyday.txt", help="issue 13's harder set")
    ap.add_argument("--dev", type=Path, default=None, help="also report a development cloze set (e.g. cloze_dev.txt)")
    ap.add_argument("--blimp", type=Path, default=None, help="BLiMP folder of jsonl paradigms (../shared/data/blimp)")
    ap.add_argument("--blimp-per-paradigm", type=int, default=None, help="first N pairs of each paradigm")
    ap.add_argument("--skip-heldout", action="store_true", help="only the cloze sets and BLiMP (quick)")
    ap.add_argument("--heldout-sources", default="issue3",
                    help="'issue3' (default: issue 3's held-out split, comparable across models), 'all', or a "
                    "comma-separated list of corpus sources")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--max-seqs", type=int, default=None, help="held-out sequences (default: all)")
    ap.add_argument("--pppl-seqs", type=int, default=60)
    ap.add_argument("--pppl-len", type=int, default=48)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sources = heldout_source_names(args.heldout_sources)
    res = evaluate(args.model_dir, args.corpus, args.cloze, args.seed, args.max_seqs, args.pppl_seqs,
                   args.pppl_len, args.everyday, args.dev, args.blimp, args.blimp_per_paradigm, sources,
                   args.skip_heldout)  # fmt: skip
    text = json.dumps(res, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    keys = ("token_top1", "token_top5", "whole_word_top5", "pseudo_perplexity", "cloze_rate", "cloze_copy_rate")
    summary = {k: res[k] for k in keys if k in res}
    for part in ("everyday", "dev"):
        if part in res:
            summary[part] = {k: res[part][k] for k in ("hits", "total", "rate", "copy_rate")}
    if "blimp" in res:
        summary["blimp"] = {k: res["blimp"][k] for k in ("pairs", "accuracy", "per_field", "seconds")}
    print(text if args.out is None else json.dumps(summary), file=sys.stdout)


if __name__ == "__main__":
    main()
