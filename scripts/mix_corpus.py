"""Mix the corpus of build_corpus.py by domain: repeat or subsample each source's training documents.

A weight w keeps floor(w) copies of every training document of the source, plus one more copy of a seeded
sample of a fraction w - floor(w) of them (the sample is a function of the seed and the document id only). The
held-out split is copied unchanged, so every model is evaluated on the same text whatever the mix.

Output (outside the repository, never committed)::

    /root/mlm-data/mix-<name>/train.jsonl     the mixed training documents (repeats shuffled in, seeded)
    /root/mlm-data/mix-<name>/heldout.jsonl   the corpus's held-out split, byte for byte
    /root/mlm-data/mix-<name>/manifest.json   the weights, the chars each source contributes, sha256 of both files

Usage: ``python scripts/mix_corpus.py --name everyday`` (the weights of MIXES["everyday"])
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import shutil
from pathlib import Path

from build_corpus import MB, sha256_file

# Issue 13's mix: the everyday sources (WordNet's usage examples, the Harvard sentences, novels) over-weighted;
# the dictionary glosses (their "headword: gloss. Example with the headword." layout teaches copying a context
# word into the mask), the Bible and the software manuals down-weighted but kept, so that the held-out text of
# issue 3 is still predicted well.
MIXES: dict[str, dict[str, float]] = {
    "everyday": {
        "wordnet-examples": 2.0,
        "harvard-sentences": 4.0,
        "austen": 1.0,
        "tidytext-books": 1.0,
        "moby-dick": 0.4,
        "fortunes": 0.7,
        "wordnet": 0.25,
        "web-bible": 0.2,
        "python-docs": 0.25,
        "django-docs": 0.2,
        "postgresql-docs": 0.2,
        "sqlite-docs": 0.2,
        "rust-books": 0.2,
        "maint-guide": 0.2,
        "cfi-en": 0.3,
        "jargon": 0.15,
        "devils-dictionary": 0.3,
    },
}


def sample_fraction(doc_id: str, seed: int) -> float:
    """A number in [0, 1) fixed by the seed and the document id."""
    return int.from_bytes(hashlib.sha256(f"mix:{seed}:{doc_id}".encode()).digest()[:8], "big") / 2**64


def mix(corpus: Path, out: Path, name: str, seed: int) -> dict:
    """Write the mixed training split, the held-out copy and a manifest; return the manifest."""
    weights = MIXES[name]
    source_manifest = json.loads((corpus / "manifest.json").read_text())
    included = [s["name"] for s in source_manifest["sources"] if s["included"]]
    unknown = sorted(set(weights) - set(included))
    if unknown:
        raise SystemExit(f"weights for sources the corpus does not have: {unknown}; rebuild with build_corpus.py")
    lines: list[str] = []
    chars = dict.fromkeys(included, 0)
    with (corpus / "train.jsonl").open(encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            w = weights.get(doc["source"], 0.0)
            copies = math.floor(w) + (sample_fraction(doc["id"], seed) < w - math.floor(w))
            lines += [line] * copies
            chars[doc["source"]] += copies * len(doc["text"])
    random.Random(seed).shuffle(lines)  # repeats apart; the trainer shuffles its sequences again per epoch
    out.mkdir(parents=True, exist_ok=True)
    (out / "train.jsonl.tmp").write_text("".join(lines), encoding="utf-8")
    (out / "train.jsonl.tmp").replace(out / "train.jsonl")
    shutil.copyfile(corpus / "heldout.jsonl", out / "heldout.jsonl")
    total = sum(chars.values())
    manifest = {
        "description": f"Mix {name!r} of {corpus} (scripts/mix_corpus.py)",
        "corpus_manifest": str(corpus / "manifest.json"),
        "corpus_files": source_manifest["files"],
        "seed": seed,
        "weights": {s: weights.get(s, 0.0) for s in included},
        "train_chars": chars,
        "train_share": {s: round(c / total, 4) for s, c in chars.items()},
        "files": {s: {"path": f"{s}.jsonl", "sha256": sha256_file(out / f"{s}.jsonl")} for s in ("train", "heldout")},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for s in included:
        print(f"{s:18s} x{weights.get(s, 0.0):<5} {chars[s] / MB:6.2f}M chars  {chars[s] / total:6.1%}")
    print(f"train {total / MB:.2f}M chars -> {out}")
    return manifest


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", choices=sorted(MIXES), default="everyday")
    ap.add_argument("--corpus", type=Path, default=Path("/root/mlm-data/corpus"))
    ap.add_argument("--out", type=Path, default=None, help="default /root/mlm-data/mix-<name>")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    mix(args.corpus, args.out or args.corpus.parent / f"mix-{args.name}", args.name, args.seed)


if __name__ == "__main__":
    main()
