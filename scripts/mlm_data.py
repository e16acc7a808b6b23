"""Shared data code for train_mlm.py and evaluate.py: tokenised corpus cache, packing, batching, masking.

Everything that decides what the model sees is a pure function of (seed, epoch, batch index), so a resumed run
rebuilds exactly the batches and masks it would have seen without the interruption.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

MAX_SEQ = 128  # including the two special tokens


@dataclass
class TokenizedSplit:
    """One split, flattened: ids and word-start flags of all documents, and the packed sequences."""

    ids: np.ndarray  # [n_tokens] uint16
    word_start: np.ndarray  # [n_tokens] bool: the token begins a word (for whole-word masking)
    seq_start: np.ndarray  # [n_seq] int64 offsets into ids
    seq_len: np.ndarray  # [n_seq] int32, without special tokens

    def sequence(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and word starts of packed sequence i."""
        s, n = int(self.seq_start[i]), int(self.seq_len[i])
        return self.ids[s : s + n], self.word_start[s : s + n]


def read_docs(path: Path) -> list[list[str]]:
    """Paragraph lists of a corpus split (jsonl)."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["text"].split("\n") for line in f]


def tokenize_split(tokenizer, docs: list[list[str]], max_body: int = MAX_SEQ - 2) -> TokenizedSplit:
    """Tokenise paragraphs and pack each document's paragraphs greedily into sequences of <= max_body tokens.

    A sequence never crosses a document; a paragraph longer than max_body is cut at a word start, so that
    whole-word masking never sees half a word.
    """
    ids_parts, ws_parts, starts, lens = [], [], [], []
    offset = 0
    for doc in docs:
        if not doc:
            continue
        enc = tokenizer(doc, add_special_tokens=False)
        for p in range(len(doc)):
            wid = enc.word_ids(p)
            ws_parts.append(np.array([i == 0 or wid[i] != wid[i - 1] for i in range(len(wid))], dtype=bool))
            ids_parts.append(np.asarray(enc["input_ids"][p], dtype=np.uint16))
        doc_ws = np.concatenate(ws_parts[-len(doc) :])
        par_ends = np.cumsum([len(x) for x in ids_parts[-len(doc) :]])
        n = len(doc_ws)
        pos = 0
        while pos < n:
            end = min(pos + max_body, n)
            if end < n:
                # prefer a paragraph end, then a word start, in the second half of the window
                cand = par_ends[(par_ends > pos + max_body // 2) & (par_ends <= end)]
                if len(cand):
                    end = int(cand[-1])
                else:
                    wst = np.flatnonzero(doc_ws[pos + max_body // 2 + 1 : end + 1])
                    if len(wst):
                        end = pos + max_body // 2 + 1 + int(wst[-1])
            if end - pos >= 4:
                starts.append(offset + pos)
                lens.append(end - pos)
            pos = end
        offset += n
    return TokenizedSplit(
        ids=np.concatenate(ids_parts),
        word_start=np.concatenate(ws_parts),
        seq_start=np.asarray(starts, dtype=np.int64),
        seq_len=np.asarray(lens, dtype=np.int32),
    )


def cached_split(tokenizer, corpus_dir: Path, split: str, cache_dir: Path) -> TokenizedSplit:
    """Tokenised split, cached on disk under a key of the corpus file's hash and the tokenizer's vocabulary."""
    manifest = json.loads((corpus_dir / "manifest.json").read_text())
    vocab_key = hashlib.sha256(json.dumps(sorted(tokenizer.get_vocab().items())).encode()).hexdigest()[:12]
    key = f"{split}-{manifest['files'][split]['sha256'][:12]}-{vocab_key}-{MAX_SEQ}"
    path = cache_dir / f"{key}.npz"
    if path.exists():
        z = np.load(path)
        return TokenizedSplit(z["ids"], z["word_start"], z["seq_start"], z["seq_len"])
    data = tokenize_split(tokenizer, read_docs(corpus_dir / f"{split}.jsonl"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, ids=data.ids, word_start=data.word_start, seq_start=data.seq_start, seq_len=data.seq_len)
    tmp.replace(path)
    return data


def epoch_batches(data: TokenizedSplit, seed: int, epoch: int, batch_tokens: int) -> list[np.ndarray]:
    """Token-budget batches of sequence indices for one epoch: shuffled, length-sorted within pools of 4096 so
    padding stays small, then the batch order shuffled again."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(data.seq_len))
    batches = []
    for p in range(0, len(order), 4096):
        pool = order[p : p + 4096]
        pool = pool[np.argsort(data.seq_len[pool], kind="stable")]
        cur: list[int] = []
        for i in pool:
            width = int(data.seq_len[i]) + 2
            if cur and (len(cur) + 1) * width > batch_tokens:
                batches.append(np.asarray(cur))
                cur = []
            cur.append(int(i))
        if cur:
            batches.append(np.asarray(cur))
    return [batches[i] for i in rng.permutation(len(batches))]


@dataclass
class Specials:
    """The special ids a collator needs and the range of ids a random replacement may draw from."""

    cls: int
    sep: int
    pad: int
    mask: int
    random_ids: torch.Tensor  # ordinary vocabulary ids

    @classmethod
    def of(cls, tokenizer) -> Specials:
        """Read them off a tokenizer; [unusedN] and other bracketed BERT placeholders are not drawn."""
        vocab = tokenizer.get_vocab()
        special = set(tokenizer.all_special_ids)
        ordinary = sorted(
            i for t, i in vocab.items() if i not in special and not (t.startswith("[") and t.endswith("]"))
        )
        return cls(
            tokenizer.cls_token_id,
            tokenizer.sep_token_id,
            tokenizer.pad_token_id,
            tokenizer.mask_token_id,
            torch.tensor(ordinary),
        )


def collate(
    data: TokenizedSplit,
    idx: np.ndarray,
    sp: Specials,
    gen: torch.Generator,
    whole_word: bool,
    prob: float = 0.15,
) -> dict[str, torch.Tensor]:
    """Pad, add special tokens, and mask `prob` of the tokens (80% [MASK], 10% random, 10% kept).

    Returns input_ids, attention_mask and labels (-100 where not selected). With whole_word, words are selected
    as units until about `prob` of the sequence's tokens are covered.
    """
    seqs = [data.sequence(int(i)) for i in idx]
    width = max(len(s) for s, _ in seqs) + 2
    ids = torch.full((len(seqs), width), sp.pad, dtype=torch.long)
    att = torch.zeros((len(seqs), width), dtype=torch.long)
    sel = torch.zeros((len(seqs), width), dtype=torch.bool)
    for b, (toks, ws) in enumerate(seqs):
        n = len(toks)
        ids[b, 0], ids[b, 1 : n + 1], ids[b, n + 1] = sp.cls, torch.from_numpy(toks.astype(np.int64)), sp.sep
        att[b, : n + 2] = 1
        target = max(1, round(prob * n))
        if whole_word:
            starts = np.flatnonzero(ws)
            if len(starts) == 0 or starts[0] != 0:
                starts = np.concatenate([[0], starts])
            ends = np.append(starts[1:], n)
            picked = 0
            for w in torch.randperm(len(starts), generator=gen).tolist():
                size = int(ends[w] - starts[w])
                if picked + size > target and picked > 0:
                    continue
                sel[b, 1 + starts[w] : 1 + ends[w]] = True
                picked += size
                if picked >= target:
                    break
        else:
            sel[b, 1 + torch.randperm(n, generator=gen)[:target]] = True
    labels = torch.where(sel, ids, torch.full_like(ids, -100))
    r = torch.rand(ids.shape, generator=gen)
    rnd = sp.random_ids[torch.randint(len(sp.random_ids), ids.shape, generator=gen)]
    ids = torch.where(sel & (r < 0.8), torch.full_like(ids, sp.mask), ids)
    ids = torch.where(sel & (r >= 0.8) & (r < 0.9), rnd, ids)
    return {"input_ids": ids, "attention_mask": att, "labels": labels}


def batch_generator(seed: int, *parts: int) -> torch.Generator:
    """A torch generator seeded from (seed, parts), independent of everything else the run did."""
    g = torch.Generator()
    g.manual_seed(int(np.random.SeedSequence([seed, *parts]).generate_state(1)[0]))
    return g


def masked_logits(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Logits at the labelled positions only: [n_labelled, vocab].

    Running the vocabulary projection on the ~15% selected positions instead of all of them saves most of the
    head's cost (30k x 384 per token for model 1), which dominates a small model on CPU.
    """
    hidden = model.base_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    head = model.cls if hasattr(model, "cls") else model.lm_head
    return head(hidden[labels != -100])


@torch.no_grad()
def masked_accuracy(model, data: TokenizedSplit, idx: np.ndarray, sp: Specials, seed: int, batch_tokens: int = 8192):
    """Loss, top-1 and top-5 over the selected tokens of sequences idx (token-level 15% masking, fixed seed)."""
    was_training = model.training
    model.eval()
    n = loss = top1 = top5 = 0.0
    gen = batch_generator(seed, 999)
    order = idx[np.argsort(data.seq_len[idx], kind="stable")]
    per = max(1, batch_tokens // MAX_SEQ)
    for i in range(0, len(order), per):
        b = collate(data, order[i : i + per], sp, gen, whole_word=False)
        logits = masked_logits(model, b["input_ids"], b["attention_mask"], b["labels"])
        gold = b["labels"][b["labels"] != -100]
        loss += torch.nn.functional.cross_entropy(logits.float(), gold, reduction="sum").item()
        top = logits.topk(5, dim=-1).indices
        top1 += (top[:, 0] == gold).sum().item()
        top5 += (top == gold[:, None]).any(-1).sum().item()
        n += len(gold)
    model.train(was_training)
    return {"loss": loss / n, "top1": top1 / n, "top5": top5 / n, "tokens": int(n)}
