"""The evaluation and corpus helpers of scripts/ (issue 13): pseudo-log-likelihood against minicons, the copy
rate, BLiMP scoring and the domain mix, on a tiny model and tiny data."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import evaluate as ev  # noqa: E402  (scripts/ is not a package)
import mix_corpus  # noqa: E402


@pytest.fixture(scope="module")
def bert(tiny_model_dirs):
    folder = tiny_model_dirs["bert"]
    model = AutoModelForMaskedLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
    return folder, model, AutoTokenizer.from_pretrained(folder)


def test_pseudo_log_likelihood_equals_minicons(bert):
    from minicons import scorer
    from transformers import PreTrainedTokenizerBase

    folder, model, tok = bert
    sentences = ["the cat sat on the mat .", "a dog is in the house .", "the house is big ."]
    ours = ev.sentence_pll(model, tok, sentences, rows_per_batch=4)  # batches that cut sentences apart
    if not hasattr(PreTrainedTokenizerBase, "batch_encode_plus"):  # minicons 0.3.39 under transformers 5
        PreTrainedTokenizerBase.batch_encode_plus = lambda self, batch, **kw: self(batch, **kw)
    reference = scorer.MaskedLMScorer(str(folder), "cpu", dtype=torch.float32, attn_implementation="eager")
    theirs = reference.sequence_score(sentences, reduction=lambda x: x.sum(0).item(), PLL_metric="original")
    assert ours == pytest.approx(theirs, abs=1e-4)


def test_blimp_counts_a_pair_right_when_the_good_sentence_scores_higher(bert, monkeypatch):
    _, model, tok = bert
    scores = {"good a": -1.0, "bad a": -2.0, "good b": -3.0, "bad b": -1.0, "good c": -1.0, "bad c": -5.0}
    monkeypatch.setattr(ev, "sentence_pll", lambda m, t, sentences: [scores[s] for s in sentences])
    pairs = [
        {"sentence_good": "good a", "sentence_bad": "bad a", "field": "syntax", "UID": "p1"},
        {"sentence_good": "good b", "sentence_bad": "bad b", "field": "syntax", "UID": "p1"},
        {"sentence_good": "good c", "sentence_bad": "bad c", "field": "semantics", "UID": "p2"},
    ]
    result = ev.blimp(model, tok, pairs)
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["per_field"] == {"semantics": 1.0, "syntax": 0.5}
    assert result["per_paradigm"] == {"p1": 0.5, "p2": 1.0}


def test_copy_rate_counts_a_top_1_that_is_a_word_of_the_sentence(bert, monkeypatch):
    _, model, tok = bert
    items = [("the cat sat on the [MASK] .", {"mat"}), ("a dog is in the [MASK] .", {"house"})]
    result = ev.cloze(model, tok, items)
    for item, (sentence, _) in zip(result["items"], items, strict=True):
        assert item["copy"] == (item["top5"][0] in ev.sentence_words(sentence))
    assert result["copies"] == sum(i["copy"] for i in result["items"])
    assert ev.sentence_words("The cat's [MASK], please.") == {"the", "cat's", "please"}


def test_the_mix_repeats_and_samples_documents_by_weight(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    docs = [{"id": f"a:{i}", "source": "a", "text": "x" * 10} for i in range(200)]
    docs += [{"id": f"b:{i}", "source": "b", "text": "y" * 10} for i in range(200)]
    (corpus / "train.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (corpus / "heldout.jsonl").write_text(json.dumps({"id": "a:x", "source": "a", "text": "held"}) + "\n")
    sources = [{"name": n, "included": True} for n in ("a", "b")]
    (corpus / "manifest.json").write_text(json.dumps({"sources": sources, "files": {}}))
    monkeypatch.setitem(mix_corpus.MIXES, "test", {"a": 2.0, "b": 0.25})
    manifest = mix_corpus.mix(corpus, tmp_path / "mix", "test", seed=1)
    lines = [json.loads(x) for x in (tmp_path / "mix" / "train.jsonl").read_text().splitlines()]
    assert sum(d["source"] == "a" for d in lines) == 400
    assert 25 <= sum(d["source"] == "b" for d in lines) <= 75  # a seeded quarter of 200
    assert (tmp_path / "mix" / "heldout.jsonl").read_bytes() == (corpus / "heldout.jsonl").read_bytes()
    again = mix_corpus.mix(corpus, tmp_path / "mix2", "test", seed=1)
    assert again["files"]["train"]["sha256"] == manifest["files"]["train"]["sha256"]


def test_written_sentences_join_the_mix_without_any_cloze_sentence(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "train.jsonl").write_text(json.dumps({"id": "a:0", "source": "a", "text": "base text"}) + "\n")
    (corpus / "heldout.jsonl").write_text(json.dumps({"id": "a:1", "source": "a", "text": "held"}) + "\n")
    (corpus / "manifest.json").write_text(json.dumps({"sources": [{"name": "a", "included": True}], "files": {}}))
    cloze = tmp_path / "cloze_eval.txt"
    cloze.write_text("# header\nShe put the milk back in the [MASK]. | fridge, cupboard\n")
    written = tmp_path / "written"
    written.mkdir()
    (written / "home.txt").write_text(
        "The towel hangs on a hook in the bathroom.\n"
        "the towel hangs on a hook   in the bathroom.\n"  # a duplicate once spaces and case are ignored
        "He put the milk back in the fridge after breakfast.\n"  # the cloze sentence, filled
        "\n"
        "Our dog sleeps in a basket by the door.\n"
    )
    monkeypatch.setattr(mix_corpus, "CLOZE_FILES", (cloze.name,))
    monkeypatch.setattr(mix_corpus, "SCRIPTS", tmp_path)
    monkeypatch.setitem(mix_corpus.MIXES, "test", {"a": 1.0, "written": 2.0})
    manifest = mix_corpus.mix(corpus, tmp_path / "mix", "test", seed=1, written=written)
    lines = [json.loads(x) for x in (tmp_path / "mix" / "train.jsonl").read_text().splitlines()]
    texts = sorted(d["text"] for d in lines if d["source"] == "written")
    assert texts == ["Our dog sleeps in a basket by the door."] * 2 + ["The towel hangs on a hook in the bathroom."] * 2
    assert manifest["written"]["duplicates"] == 1 and manifest["written"]["cloze_overlap"] == 1
    assert manifest["written"]["files"]["home.txt"]["kept"] == 2
    assert (tmp_path / "mix" / "heldout.jsonl").read_bytes() == (corpus / "heldout.jsonl").read_bytes()
    with pytest.raises(SystemExit, match="--written"):
        mix_corpus.mix(corpus, tmp_path / "mix3", "test", seed=1)
