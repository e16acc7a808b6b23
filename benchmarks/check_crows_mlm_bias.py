"""Check: `score_pairs(..., metric="crows")` against mlm-bias's CSPS (its re-implementation of the CrowS-Pairs metric).

Not a test and not in any extra: mlm-bias 0.1.7 pins numpy<2, which breaks pyarrow-based packages, so keep it out of
the project's environment. Run it with the package unpacked beside, e.g.
`pip download --no-deps mlm-bias==0.1.7 -d /tmp/mb && unzip -q /tmp/mb/*.whl -d /tmp/mb/x` then
`PYTHONPATH=.:/tmp/mb/x python benchmarks/check_crows_mlm_bias.py [--crows FILE.csv --limit 200]`.
mlm-bias's own `BiasMLM` builds a randomly initialised model (`from_config`), so only its scoring functions are used,
on a model loaded here with its weights. Prints the largest difference per model; 1e-4 or less means equal.
"""

from __future__ import annotations

import argparse
import csv

import torch
from mlm_bias.utils import get_span
from mlm_bias.utils.measures import compute_csps
from transformers import AutoModelForMaskedLM, AutoTokenizer

from explorer import load_model
from explorer.bundled import bundled_path
from explorer.scoring import score_pairs

PAIRS = [
    ("The man went to the city.", "The woman went to the city."),
    ("He made tea for the family.", "She made tea for the family."),
    ("The old dog sat on the mat.", "The young dog sat on the mat."),
    ("Poor people are lazy.", "Rich people are lazy."),
]


def read_crows(path: str, limit: int) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [(row["sent_more"], row["sent_less"]) for row in csv.DictReader(handle)][:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crows", default=None, help="a CrowS-Pairs CSV; default: four hand-built pairs")
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    pairs = read_crows(args.crows, args.limit) if args.crows else PAIRS
    for alias in ("mini-bert", "mini-roberta"):
        folder = str(bundled_path(alias))
        model = AutoModelForMaskedLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
        ours = score_pairs(load_model(folder, device="cpu"), pairs, "crows").pairs
        worst, disagree = 0.0, 0
        for (more, less), pair in zip(pairs, ours, strict=True):
            ids_more = tokenizer.encode(more, return_tensors="pt")
            ids_less = tokenizer.encode(less, return_tensors="pt")
            spans_more, spans_less = get_span(ids_more[0], ids_less[0], "equal")
            s1 = compute_csps(model, ids_more, spans_more, tokenizer.mask_token_id)["csps"]
            s2 = compute_csps(model, ids_less, spans_less, tokenizer.mask_token_id)["csps"]
            worst = max(worst, abs(s1 - pair.first.total), abs(s2 - pair.second.total))
            disagree += (s1 > s2) != (pair.prefers == "first")
        print(f"{alias}: {len(pairs)} pairs, max |explorer crows - mlm-bias CSPS| = {worst:.2e}, "
              f"{disagree} pair(s) preferred differently")


if __name__ == "__main__":
    main()
