"""The two bundled models under assets/: present, float16 on disk, loaded offline as float32, exact, deterministic,
and model 1 sensible on everyday sentences (scripts/cloze_smoke.txt, separate from the evaluation set)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from explorer.bundled import BUNDLED_MODELS, available_bundled, bundled_path
from explorer.fill_mask import predict_masks
from explorer.models import load_model

REPO = Path(__file__).resolve().parent.parent
ALIASES = [m.alias for m in BUNDLED_MODELS]
ARCHITECTURES = {"mini-bert": "BertForMaskedLM", "mini-roberta": "RobertaForMaskedLM"}
MAX_MB = {"mini-bert": 50, "mini-roberta": 21}
# what each model's position embeddings allow (model 2 was built for the 128-token training sequences)
MAX_LENGTH = {"mini-bert": 512, "mini-roberta": 128}
# Issue 13's bars for model 1, top-5 hit rates on the two cloze evaluation sets (see its model card)
EVERYDAY_FLOOR = 0.60
CLOZE_FLOOR = 0.75


def cloze_items(name: str) -> list[tuple[str, set[str]]]:
    """(sentence, acceptable lower-case answers) of a cloze file in scripts/."""
    rows = []
    for line in (REPO / "scripts" / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            sentence, answers = line.split(" | ")
            rows.append((sentence.strip(), {a.strip().lower() for a in answers.split(",")}))
    return rows


def smoke_sentences() -> list[tuple[str, set[str]]]:
    return cloze_items("cloze_smoke.txt")


@pytest.fixture(autouse=True)
def repository_assets(monkeypatch):
    """These tests are about the repository's own assets/, whatever the environment says, and the Hub is off."""
    monkeypatch.delenv("MLM_EXPLORER_ASSETS", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_both_bundled_models_are_in_the_repository():
    assert [m.alias for m in available_bundled()] == ALIASES


@pytest.mark.parametrize("alias", ALIASES)
def test_weights_are_float16_safetensors_of_the_promised_size(alias):
    folder = bundled_path(alias)
    weights = sorted(folder.glob("*.safetensors"))
    assert weights, f"no safetensors in {folder}"
    assert not list(folder.glob("*.bin")) and not list(folder.glob("*.pt"))
    size_mb = sum(f.stat().st_size for f in weights) / 1e6
    assert size_mb <= MAX_MB[alias]
    for file in weights:
        with safe_open(file, framework="pt") as f:
            dtypes = {f.get_slice(name).get_dtype() for name in f.keys()}  # noqa: SIM118 (safe_open is not iterable)
        assert dtypes == {"F16"}, dtypes


@pytest.mark.parametrize("alias", ALIASES)
def test_loads_offline_by_alias_as_float32(alias, no_network):
    model = load_model(alias, device="cpu", cache=False)
    info = model.info
    assert info.bundled and info.name == alias
    assert Path(info.source) == bundled_path(alias)
    assert info.architecture == ARCHITECTURES[alias]
    assert info.dtype == "float32" and next(model.model.parameters()).dtype == torch.float32
    # MiniLM's sentence-transformers config said 128; the bundled tokenizer must allow what the model can take
    assert info.max_length == MAX_LENGTH[alias]


@pytest.mark.parametrize("alias", ALIASES)
def test_predictions_are_deterministic_across_loads(alias):
    text = "The children are playing in the [MASK] after [MASK]."
    first = predict_masks(load_model(alias, device="cpu", cache=False), text, top_k=10)
    second = predict_masks(load_model(alias, device="cpu", cache=False), text, top_k=10)
    assert first == second


@pytest.mark.parametrize("alias", ALIASES)
def test_predictions_equal_the_fill_mask_pipeline(alias):
    from transformers import pipeline

    model = load_model(alias, device="cpu")
    pipe = pipeline("fill-mask", model=str(bundled_path(alias)), dtype=torch.float32, device="cpu")
    for sentence, _ in smoke_sentences()[:3]:
        ours = predict_masks(model, sentence, top_k=5).masks[0].predictions
        theirs = pipe(sentence.replace("[MASK]", pipe.tokenizer.mask_token), top_k=5)
        assert [p.token_id for p in ours] == [r["token"] for r in theirs]
        for p, r in zip(ours, theirs, strict=True):
            assert p.score == pytest.approx(r["score"], abs=1e-5)


@pytest.mark.parametrize(("sentence", "answers"), smoke_sentences(), ids=lambda v: v if isinstance(v, str) else "")
def test_model_1_fills_everyday_sentences_sensibly(sentence, answers):
    result = predict_masks(load_model("mini-bert", device="cpu"), sentence, top_k=5)
    words = [p.token.strip().lower() for p in result.masks[0].predictions]
    assert set(words) & answers, f"{sentence!r}: top 5 {words}"


def test_the_two_models_really_differ():
    """Compare needs two different models: different tokenizers and, on most sentences, different top-5."""
    bert, roberta = load_model("mini-bert", device="cpu"), load_model("mini-roberta", device="cpu")
    assert bert.info.vocab_size != roberta.info.vocab_size
    differing = 0
    for sentence, _ in smoke_sentences():
        a = [p.token.strip() for p in predict_masks(bert, sentence).masks[0].predictions]
        b = [p.token.strip() for p in predict_masks(roberta, sentence).masks[0].predictions]
        differing += a != b
    assert differing >= len(smoke_sentences()) // 2


@pytest.mark.parametrize("alias", ALIASES)
def test_model_card_is_candid_and_complete(alias):
    card = (bundled_path(alias) / "README.md").read_text(encoding="utf-8")
    for needed in ("small demo model", "far weaker", "bert-base-uncased", "## Evaluation", "## Training data",
                   "## Recipe", "Licence", "pseudo-perplexity", "cloze", "scripts/train_mlm.py"):
        assert needed in card, needed
    if alias == "mini-bert":
        assert "Apache License, Version 2.0" in card and "all-MiniLM-L6-v2" in card
    evaluation = json.loads((bundled_path(alias) / "eval.json").read_text())
    assert evaluation["cloze_file"] == "cloze_eval.txt" and evaluation["cloze_total"] >= 40
    assert f"{evaluation['token_top1']:.3f}" in card


def test_model_1_meets_the_quality_bar_it_was_released_with():
    """The numbers of issue #3, as measured by scripts/evaluate.py when the model was exported."""
    evaluation = json.loads((bundled_path("mini-bert") / "eval.json").read_text())
    assert evaluation["token_top1"] >= 0.30
    assert evaluation["cloze_rate"] >= 0.50


def test_model_1_meets_the_bars_of_issue_13():
    """Issue 13's floors, as scripts/evaluate.py measured the shipped weights (eval.json), against the model it
    replaced (eval.json's "before")."""
    ev = json.loads((bundled_path("mini-bert") / "eval.json").read_text())
    before = ev["before"]
    assert ev["everyday"]["total"] == 51 and ev["everyday"]["rate"] >= EVERYDAY_FLOOR
    assert ev["cloze_rate"] >= CLOZE_FLOOR
    assert ev["token_top1"] >= 0.46  # issue 3's held-out split: must not fall below the model it replaces
    assert ev["everyday"]["copy_rate"] < before["everyday"]["copy_rate"]
    assert ev["cloze_copy_rate"] < before["cloze_copy_rate"]
    assert ev["blimp"]["pairs"] == 6700 and ev["blimp"]["accuracy"] > before["blimp"]["accuracy"]
    assert ev["latency"]["median_ms"] < 100 and ev["parameters"] == before["parameters"]


@pytest.mark.parametrize(("name", "key"), [("cloze_everyday.txt", "everyday"), ("cloze_eval.txt", "cloze")])
def test_the_cloze_numbers_of_eval_json_are_what_the_shipped_weights_give(name, key):
    """Re-scored here through predict_masks on the float16 file loaded as float32 (eval.json measured the float32
    weights before export, hence one sentence of slack at the top-5 boundary)."""
    ev = json.loads((bundled_path("mini-bert") / "eval.json").read_text())
    expected = ev["everyday"]["hits"] if key == "everyday" else ev["cloze_top5_hits"]
    model = load_model("mini-bert", device="cpu")
    hits = 0
    for sentence, answers in cloze_items(name):
        words = {p.token.strip().lower() for p in predict_masks(model, sentence, top_k=5).masks[0].predictions}
        hits += bool(words & answers)
    assert abs(hits - expected) <= 1, (name, hits, expected)


def test_the_cli_predicts_with_the_default_bundled_model_offline(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MLM_EXPLORER_ASSETS", "MLM_EXPLORER_MODEL")}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"), NO_PROXY="*", https_proxy="http://127.0.0.1:9",
               http_proxy="http://127.0.0.1:9")  # a dead proxy: any network attempt would fail loudly
    done = subprocess.run([sys.executable, "-m", "explorer.cli", "predict", "--json", "The cat sat on the [MASK]."],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["model"] == "mini-bert"
    assert len(document["results"][0]["masks"][0]["predictions"]) == 5
    listed = subprocess.run([sys.executable, "-m", "explorer.cli", "models", "--json"], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=300)
    assert listed.returncode == 0, listed.stderr
    models = json.loads(listed.stdout)["models"]
    assert [m["name"] for m in models[:2]] == ALIASES
    for entry in models[:2]:
        assert entry["bundled"] and Path(entry["path"]) == bundled_path(entry["name"])
        assert entry["architecture"] == ARCHITECTURES[entry["name"]] and entry["parameters"] > 1_000_000
