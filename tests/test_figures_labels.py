"""One vocabulary (explorer/figures/labels.py): tokens, masks, percentages and the filled sentence, written the same
way in every view."""

from __future__ import annotations

import re

import pytest

from explorer.figures.labels import (
    filled_segments,
    filled_sentence,
    mask_contexts,
    mask_name,
    mask_names,
    percent,
    token_label,
)
from explorer.figures.predictions import render_filled_sentence
from explorer.fill_mask import FillMaskResult, MaskPrediction, Prediction, predict_masks
from explorer.models import load_model


@pytest.mark.parametrize(("piece", "shown"), [
    ("Ġcapital", "capital"), ("▁de", "de"), (" cat", "cat"), ("##us", "##us"), ("très", "très"), ("Ã©t", "ét"),
    ("ĠÃ©t", "ét"), ("[MASK]", "[MASK]"), ("", "∅"), (" ", "␣"),
])
def test_a_token_reads_the_same_whether_decoded_or_a_vocabulary_piece(piece, shown):
    assert token_label(piece) == shown


def test_masks_are_named_by_number_and_their_typed_context():
    assert mask_contexts("Paris is the [MASK] of France.") == ["the [MASK] of"]
    assert mask_contexts("The <mask> was cold and the [mask] was hot.") == ["The [MASK] was", "the [MASK] was"]
    assert mask_contexts("[MASK].") == ["[MASK]."]
    assert mask_name(2, "the [MASK] was") == "mask 2 · 'the [MASK] was'"
    assert mask_names("a [MASK] b", 2) == ["mask 1", "mask 2"]  # the model found other masks: no contexts


def test_probabilities_read_as_percentages():
    assert [percent(p) for p in (0.46, 0.0042, 3e-7)] == ["46.0%", "0.42%", "3.0e-05%"]


def made_up(text: str, model_text: str, tokens: tuple[str, ...], position: int, piece: str, token: str):
    best = Prediction(token_id=7, token=token, piece=piece, score=0.5)
    return FillMaskResult(model_name="m", text=text, model_text=model_text, tokens=tokens,
                          token_ids=tuple(range(len(tokens))), masks=(MaskPrediction(position, (best,)),),
                          filled_text="lower-cased tokenizer text")


def test_a_continuation_piece_is_glued_to_the_word_before_it():
    wordpiece = made_up("très [MASK] bien", "très [MASK] bien", ("[CLS]", "tres", "[MASK]", "bien", "[SEP]"), 2,
                        "##us", "##us")
    assert filled_sentence(wordpiece) == "trèsus bien"
    bpe = made_up("the cat<mask> sat", "the cat<mask> sat", ("<s>", "the", "Ġcat", "<mask>", "Ġsat", "</s>"), 3,
                  "s", "s")
    assert filled_sentence(bpe) == "the cats sat"
    word = made_up("the [MASK] sat", "the <mask> sat", ("<s>", "the", "<mask>", "Ġsat", "</s>"), 2, "Ġcat", " cat")
    assert filled_sentence(word) == "the cat sat"
    assert filled_segments(word)[1][0] == "cat"


def test_the_cli_and_the_page_write_the_same_filled_sentence(tiny_model_dirs, capsys):
    from explorer.cli import main

    path = str(tiny_model_dirs["bert"])
    text = "Paris is the [MASK] of France."
    result = predict_masks(load_model(path), text)
    assert main(["predict", "--model", path, text]) == 0
    printed = capsys.readouterr().out.split("filled: ")[1].strip()
    shown = re.sub(r"<[^>]+>", "", render_filled_sentence(result).split("</div>")[0])
    assert printed == shown == filled_sentence(result)
    assert printed.startswith("Paris is the ")  # the typed text, not the lower-cased tokenizer text
