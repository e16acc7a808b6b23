"""`--engine ray`: a local Ray of two CPUs gives the in-process run's results, resumable the same way."""

from __future__ import annotations

import json

import pytest
import ray  # the test extra installs it (ray[data])

from explorer import load_model
from explorer.datasets import read_pairs
from explorer.runner import run_dataset

PAIRS = [("the man went home.", "the woman went home.", "gender"), ("he sat.", "she sat.", "gender"),
         ("the cat sat on the mat.", "the cats sat on the mat.", "number"), ("we eat bread.", "we ate bread.", "")]


def test_ray_engine_equals_the_in_process_run(tiny_model_dirs, tmp_path):
    path = str(tiny_model_dirs["bert"])
    model = load_model(path)
    source = tmp_path / "pairs.tsv"
    source.write_text("".join("\t".join(p) + "\n" for p in PAIRS))
    dataset = read_pairs(source)
    local = run_dataset(model, dataset, "pll-word-l2r", tmp_path / "local.jsonl", chunk=2, progress=None)
    output = tmp_path / "ray.jsonl"
    output.write_text(json.dumps(local[0]) + "\n")  # resumes after the first pair, as the local engine would
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        remote = run_dataset(model, dataset, "pll-word-l2r", output, engine="ray", chunk=2, progress=None)
    finally:
        ray.shutdown()
    assert [json.loads(line) for line in output.read_text().splitlines()] == remote
    assert len(remote) == len(local) == 4
    for ours, theirs in zip(remote, local, strict=True):
        assert (ours["first"], ours["second"], ours["category"], ours["prefers"]) == (
            theirs["first"], theirs["second"], theirs["category"], theirs["prefers"])
        for key in ("first_score", "second_score", "difference"):
            assert ours[key] == pytest.approx(theirs[key], abs=1e-5)
