"""Reading sentences and pairs from files: formats told by the first line, bad lines named."""

from __future__ import annotations

import json

import pytest

from explorer import InputError
from explorer.datasets import read_pairs, read_sentences


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sentences_one_a_line_or_jsonl(tmp_path):
    lines = read_sentences(write(tmp_path, "s.txt", "the cat sat.\nthe dog ran.\n"))
    assert (lines.format, [i.first for i in lines.items], [i.line for i in lines.items]) == (
        "lines", ["the cat sat.", "the dog ran."], [1, 2])
    rows = "".join(json.dumps({"text": t, "id": n}) + "\n" for n, t in enumerate(["a b.", "c, d."]))
    jsonl = read_sentences(write(tmp_path, "s.jsonl", rows))
    assert jsonl.format == "jsonl" and [i.first for i in jsonl.items] == ["a b.", "c, d."]


def test_crows_pairs_csv(tmp_path):
    text = (',sent_more,sent_less,stereo_antistereo,bias_type,annotations\n'
            '0,"He is rich, and old.",She is rich.,stereo,gender,"[[\'gender\']]"\n'
            '1,Poor people lie.,Rich people lie.,antistereo,socioeconomic,[]\n')
    data = read_pairs(write(tmp_path, "crows.csv", text))
    assert data.format == "crows-pairs"
    assert [(i.first, i.second, i.category) for i in data.items] == [
        ("He is rich, and old.", "She is rich.", "gender"), ("Poor people lie.", "Rich people lie.", "socioeconomic")]
    assert [i.line for i in data.items] == [2, 3]


def test_crows_pairs_csv_keeps_a_unicode_line_separator_inside_a_sentence(tmp_path):
    text = (',sent_more,sent_less,stereo_antistereo,bias_type,annotations\n'
            '0,He is\u2028late.,She is late.,stereo,gender,[]\n'
            '1,"We\u2029left.",They left.,stereo,age,[]\n'
            '2,Poor people lie.,Rich people lie.,antistereo,socioeconomic,[]\n')
    data = read_pairs(write(tmp_path, "crows.csv", text))
    assert [i.first for i in data.items] == ["He is\u2028late.", "We\u2029left.", "Poor people lie."]
    assert [i.line for i in data.items] == [2, 3, 4]


def test_blimp_jsonl(tmp_path):
    rows = [{"sentence_good": "The cat sits.", "sentence_bad": "The cat sit.", "field": "morphology",
             "UID": "agreement", "pair_id": 0}]
    data = read_pairs(write(tmp_path, "b.jsonl", "".join(json.dumps(r) + "\n" for r in rows)))
    assert data.format == "blimp" and data.items[0].first == "The cat sits." and data.items[0].category == "agreement"


@pytest.mark.parametrize("header", ["", "first\tsecond\tcategory\n"])
def test_tsv_with_or_without_header(tmp_path, header):
    data = read_pairs(write(tmp_path, "p.tsv", header + "the cat sat.\tthe cats sat.\tnumber\na b.\tc d.\n"))
    assert data.format == "tsv"
    assert [(i.first, i.second, i.category) for i in data.items] == [
        ("the cat sat.", "the cats sat.", "number"), ("a b.", "c d.", "")]


@pytest.mark.parametrize(
    ("reader", "name", "text", "message"),
    [
        (read_sentences, "s.txt", "the cat sat.\n\nthe dog ran.\n", "line 2 is empty"),
        (read_sentences, "s.txt", "", "is empty"),
        (read_sentences, "s.jsonl", '{"text": "a."}\n{"sentence": "b."}\n', "line 2 has no text field 'text'"),
        (read_sentences, "s.jsonl", '{"text": "a."}\n{"text": \n', "line 2 is not valid JSON"),
        (read_sentences, "missing.txt", None, "No such file"),
        (read_pairs, "p.txt", "just one sentence per line\n", "unknown pairs format"),
        (read_pairs, "p.tsv", "a b.\tc d.\n\ne f.\tg h.\n", "line 2 is empty"),
        (read_pairs, "p.tsv", "a b.\t \n", "line 1: the second sentence of the pair is empty"),
        (read_pairs, "p.tsv", "a\tb\tc\td\n", "line 1 has 4 tab-separated columns"),
        (read_pairs, "c.csv", "sent_more,sent_less,bias_type\n,b.,x\n", "line 2: the first sentence"),
        (read_pairs, "c.csv", "sent_more,sent_less,bias_type\na.,b.,x\n\n", "line 3 is empty"),
        (read_pairs, "b.jsonl", '{"sentence_good": "a.", "sentence_bad": "b."}\n{"sentence_good": "c."}\n',
         "line 2 has no text field 'sentence_bad'"),
    ],
)
def test_bad_files_are_named_with_their_line(tmp_path, reader, name, text, message):
    path = write(tmp_path, name, text) if text is not None else tmp_path / name
    with pytest.raises(InputError, match=message):
        reader(path)
