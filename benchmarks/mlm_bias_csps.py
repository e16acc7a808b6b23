"""mlm-bias's own CSPS (the CrowS-Pairs metric) per pair, for a cross-check of `score_pairs(..., "crows")`.

Runs in a venv of its own (mlm-bias pins numpy 1.26, which breaks this project's pyarrow-based packages):

    python3 -m venv /tmp/mlmbias && /tmp/mlmbias/bin/pip install torch==2.13.0 mlm-bias==0.1.7
    /tmp/mlmbias/bin/python benchmarks/mlm_bias_csps.py assets/models/mini-bert PAIRS.json > csps.txt

PAIRS.json is [[first, second, category], ...]; the last line of the output is a JSON object with each pair's
first and second CSPS and mlm-bias's own bias scores (its progress bar shares stdout).
"""
import json
import sys

import torch
from mlm_bias import BiasDataset, BiasMLM
from transformers import AutoModelForMaskedLM

folder, pairs_file = sys.argv[1], sys.argv[2]
with open(pairs_file) as handle:
    pairs = json.load(handle)
dataset = BiasDataset([p[2] for p in pairs], [p[0] for p in pairs], [p[1] for p in pairs])
bm = BiasMLM(folder, dataset)
# BiasMLM builds its model with from_config (random weights): put the trained one in.
bm.model = AutoModelForMaskedLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
bm.evaluate(measures=["csps"], attention=False)
out = {"first": bm.eval_results["S1"]["csps"], "second": bm.eval_results["S2"]["csps"],
       "bias_scores": bm.bias_scores["csps"]}
print()
json.dump(out, sys.stdout)
