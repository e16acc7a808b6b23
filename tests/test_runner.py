"""Scoring a dataset file: streamed JSONL, resume after an interruption, bad lines before any pass."""

from __future__ import annotations

import io
import json

import pytest

from explorer import InputError, load_model
from explorer.datasets import read_pairs, read_sentences
from explorer.documents import pair_score_document, sentence_score_document
from explorer.runner import format_duration, run_dataset
from explorer.scoring import score_pairs, score_sentences

SENTENCES = ["the cat sat on the mat.", "paris is the capital of france.", "she went home.", "the dog ran.",
             "we eat bread.", "the sun was hot."]


class InterruptAfter(io.StringIO):
    """A progress stream that presses Ctrl-C after `lines` progress updates (each after a chunk is written)."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.left = lines

    def isatty(self) -> bool:  # a terminal: one update per chunk
        return True

    def write(self, text: str) -> int:
        if text.startswith("\r"):
            self.left -= 1
            if self.left == 0:
                raise KeyboardInterrupt
        return super().write(text)


@pytest.fixture(scope="module")
def bert(tiny_model_dirs):
    return load_model(str(tiny_model_dirs["bert"]))


def test_streamed_lines_are_the_score_entries(tmp_path, bert):
    source = tmp_path / "s.txt"
    source.write_text("\n".join(SENTENCES) + "\n")
    output = tmp_path / "out.jsonl"
    entries = run_dataset(bert, read_sentences(source), "pll-word-l2r", output, chunk=4, progress=None)
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert lines == entries
    expected = [sentence_score_document(s) for s in score_sentences(bert, SENTENCES, "pll-word-l2r")]
    for ours, theirs in zip(entries, expected, strict=True):
        assert ours["tokens"] == theirs["tokens"] and ours["total"] == pytest.approx(theirs["total"], abs=1e-5)


def test_resumed_run_gives_the_uninterrupted_file(tmp_path, bert):
    source = tmp_path / "p.tsv"
    pairs = zip(SENTENCES[:-1], SENTENCES[1:], strict=True)
    source.write_text("".join(f"{a}\t{b}\tc{i % 2}\n" for i, (a, b) in enumerate(pairs)))
    dataset = read_pairs(source)
    whole = tmp_path / "whole.jsonl"
    run_dataset(bert, dataset, "crows", whole, chunk=2, progress=None)
    resumed = tmp_path / "resumed.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run_dataset(bert, dataset, "crows", resumed, chunk=2, progress=InterruptAfter(2))
    assert len(resumed.read_text().splitlines()) == 4  # two chunks finished, every line whole
    with resumed.open("a") as handle:
        handle.write('{"first": "a half-written li')  # as a hard kill could leave it
    entries = run_dataset(bert, dataset, "crows", resumed, chunk=2, progress=None)
    assert resumed.read_bytes() == whole.read_bytes()
    expected = score_pairs(bert, [(i.first, i.second, i.category) for i in dataset.items], "crows").pairs
    assert [e["prefers"] for e in entries] == [p.prefers for p in expected]
    assert entries == [json.loads(line) for line in whole.read_text().splitlines()]
    assert entries[0]["first_score"] == pytest.approx(pair_score_document(expected[0])["first_score"], abs=1e-5)


def test_a_bad_line_fails_before_any_pass_and_keeps_finished_results(tmp_path, bert):
    source = tmp_path / "s.txt"
    source.write_text("\n".join(SENTENCES[:2]) + "\n")
    output = tmp_path / "out.jsonl"
    run_dataset(bert, read_sentences(source), "pll", output, progress=None)
    before = output.read_bytes()
    source.write_text("\n".join([*SENTENCES[:2], "the cat " * 100, SENTENCES[3]]) + "\n")
    with pytest.raises(InputError, match=r"s.txt, line 3: The sentence .* reads at most 128 tokens"):
        run_dataset(bert, read_sentences(source), "pll", output, progress=None)
    assert output.read_bytes() == before


def test_an_output_file_of_other_input_is_refused(tmp_path, bert):
    source = tmp_path / "s.txt"
    source.write_text("\n".join(SENTENCES[:2]) + "\n")
    output = tmp_path / "out.jsonl"
    run_dataset(bert, read_sentences(source), "pll", output, progress=None)
    source.write_text("\n".join(SENTENCES[2:4]) + "\n")
    with pytest.raises(InputError, match="holds results of other input"):
        run_dataset(bert, read_sentences(source), "pll", output, progress=None)


def test_progress_says_rate_and_time_left(tmp_path, bert):
    source = tmp_path / "s.txt"
    source.write_text("\n".join(SENTENCES) + "\n")
    stream = io.StringIO()
    run_dataset(bert, read_sentences(source), "pll", chunk=3, progress=stream)
    last = stream.getvalue().splitlines()[-1]
    assert last.startswith("6/6 items") and "items/s" in last and last.endswith("left")
    assert [format_duration(s) for s in (3, 245, 7620, float("inf"))] == ["3 s", "4m05s", "2h07m", "?"]
