"""`mlm-explorer score` and `pairs`: the JSON documents of the issue, readable tables, resumable output files."""

from __future__ import annotations

import json

import pytest
from minicons_reference import minicons_token_scores

from explorer import load_model
from explorer.cli import main
from explorer.scoring import score_pairs

PAIRS = [("the man went home.", "the woman went home.", "gender"), ("he sat.", "she sat.", "gender"),
         ("the cat sat on the mat.", "the cats sat on the mat.", "number")]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_score_json_is_the_issues_document_and_equals_minicons(tiny_model_dirs, capsys):
    path = str(tiny_model_dirs["roberta"])
    texts = ["the cat sat on the mat.", "she went home."]
    status, out, err = run_cli(capsys, "score", "--model", path, "--metric", "pll-word-l2r", "--json", *texts)
    assert status == 0, err
    document = json.loads(out)
    assert set(document) == {"model", "metric", "results"} and document["metric"] == "pll-word-l2r"
    reference = minicons_token_scores(path, texts, "pll-word-l2r")
    for result, text, theirs in zip(document["results"], texts, reference, strict=True):
        assert set(result) == {"text", "tokens", "scores", "total", "mean", "pseudo_perplexity"}
        assert result["text"] == text and len(result["scores"]) == len(result["tokens"])
        assert result["scores"][0] is None and result["scores"][-1] is None
        assert [s for s in result["scores"] if s is not None] == pytest.approx(theirs, abs=1e-4)


def test_pairs_json_from_a_tsv(tiny_model_dirs, capsys, tmp_path):
    path = str(tiny_model_dirs["bert"])
    source = tmp_path / "pairs.tsv"
    source.write_text("first\tsecond\tcategory\n" + "".join("\t".join(p) + "\n" for p in PAIRS))
    status, out, err = run_cli(capsys, "pairs", "--model", path, "--metric", "crows", "--input", str(source), "--json")
    assert status == 0, err
    document = json.loads(out)
    assert set(document) == {"model", "metric", "pairs", "summary"}
    expected = score_pairs(load_model(path), PAIRS, "crows")
    for entry, pair in zip(document["pairs"], expected.pairs, strict=True):
        assert set(entry) == {"first", "second", "category", "first_score", "second_score", "difference", "prefers"}
        assert entry["prefers"] == pair.prefers
        assert entry["first_score"] == pytest.approx(pair.first.total, abs=1e-5)
    summary = document["summary"]
    assert summary["pairs"] == 3 and summary["first_preferred"] == pytest.approx(expected.first_preferred)
    assert summary["by_category"] == {c.name: {"pairs": c.pairs, "first_preferred": pytest.approx(c.first_preferred)}
                                      for c in expected.by_category}


def test_pairs_table_and_output_file(tiny_model_dirs, capsys, tmp_path):
    source = tmp_path / "pairs.tsv"
    source.write_text("".join("\t".join(p) + "\n" for p in PAIRS))
    output = tmp_path / "out.jsonl"
    argv = ["pairs", "--model", str(tiny_model_dirs["bert"]), "--input", str(source), "--output", str(output)]
    status, out, err = run_cli(capsys, *argv)
    assert status == 0, err
    assert "gender" in out and "number" in out and "first preferred" in out and "all" in out
    assert "3/3 items" in err
    assert len(output.read_text().splitlines()) == 3
    status, again, _ = run_cli(capsys, *argv)  # everything already done: read back, nothing rescored
    assert status == 0 and again == out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["score"], "Give sentences to score, or --input FILE"),
        (["score", "--metric", "crows", "the cat sat."], "Unknown metric 'crows'"),
        (["score", "  "], "A sentence is empty"),
        (["pairs", "--input", "MISSING.tsv"], "No such file"),
        (["score", "--engine", "spark", "the cat sat."], "Unknown engine 'spark'"),
    ],
)
def test_bad_input_exits_2_with_a_message(tiny_model_dirs, capsys, argv, message):
    status, _, err = run_cli(capsys, *argv[:1], "--model", str(tiny_model_dirs["bert"]), *argv[1:])
    assert status == 2 and message in err
