"""Predictions as pictures (explorer/figures/predictions.py): the bars hold the result's numbers, HTML is escaped."""

from __future__ import annotations

import math

import pytest

from explorer.figures.predictions import (
    percent_format,
    plot_topk,
    render_filled_sentence,
    render_targets_table,
    render_topk_table,
    token_label,
)
from explorer.fill_mask import FillMaskResult, MaskPrediction, Prediction, TargetScore, predict_masks
from explorer.models import load_model

HOSTILE = "<img src=x onerror=alert(1)>"


def result_with(tokens_at_mask: list[tuple[str, float]], masks: int = 1, targets=()) -> FillMaskResult:
    text = " and ".join([f"{HOSTILE} the [MASK]"] * masks)
    predictions = tuple(Prediction(token_id=i, token=t, piece=t, score=s) for i, (t, s) in enumerate(tokens_at_mask))
    tokens = ("[CLS]", "<", "img", "the", "[MASK]", "and", "the", "[MASK]", "[SEP]")
    positions = (4, 7)[:masks]
    return FillMaskResult(
        model_name="m", text=text, model_text=text, tokens=tokens, token_ids=tuple(range(len(tokens))),
        masks=tuple(MaskPrediction(position=p, predictions=predictions, targets=targets) for p in positions),
        filled_text=text.replace("[MASK]", tokens_at_mask[0][0]),
    )


def test_bars_hold_the_probabilities_of_each_mask(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["bert"]))
    result = predict_masks(model, "the [MASK] was cold and the [MASK] was hot.", top_k=4)
    figure = plot_topk(result)
    assert len(figure.data) == 2  # one subplot per mask
    for trace, mask in zip(figure.data, result.masks, strict=True):
        assert list(trace.x) == [p.score for p in mask.predictions]
        assert list(trace.y) == [0, 1, 2, 3]
    axis = figure.layout.yaxis
    assert list(axis.ticktext) == [token_label(p.token) for p in result.masks[0].predictions]
    assert axis.autorange == "reversed"  # the best filler on top


def test_two_fillers_that_read_the_same_stay_two_bars():
    figure = plot_topk(result_with([("cat", 0.5), ("cat", 0.3), (" ", 0.1)]))
    (trace,) = figure.data
    assert len(trace.x) == 3 and list(figure.layout.yaxis.ticktext) == ["cat", "cat", "␣"]


def test_chart_labels_are_escaped_for_plotly():
    figure = plot_topk(result_with([(HOSTILE, 0.6), ("<b>bold</b>", 0.4)]))
    labels = list(figure.layout.yaxis.ticktext)
    assert labels == ["&lt;img src=x onerror=alert(1)&gt;", "&lt;b&gt;bold&lt;/b&gt;"]
    assert "<img" not in figure.to_json()


def test_filled_sentence_escapes_the_text_and_marks_each_top1():
    html_text = render_filled_sentence(result_with([("<b>", 0.6), ("dog", 0.4)], masks=2))
    assert "<img" not in html_text and "<b>" not in html_text
    assert html_text.count("&lt;img src=x onerror=alert(1)&gt;") == 2
    assert html_text.count("<mark class='fill'") == 2 and "&lt;b&gt;</mark>" in html_text
    assert "not a joint prediction" in html_text


def test_topk_and_targets_tables_escape_and_label_multi_piece_words():
    several = TargetScore(word="<sun>", token_ids=(5, 6), pieces=("sun", "##flower"), first_piece_probability=0.25,
                          first_piece_rank=3)
    one = TargetScore(word="cat", token_ids=(7,), pieces=("cat",), first_piece_probability=0.125, first_piece_rank=2)
    result = result_with([(HOSTILE, 1.0)], targets=(several, one))
    table = render_topk_table(result)
    assert "<img" not in table and "&lt;img" in table
    targets = render_targets_table(result)
    assert "&lt;sun&gt;" in targets and "<sun>" not in targets
    assert "n/a: 2 pieces" in targets and "25.0%" in targets and "(first piece)" in targets
    assert "<td>12.5%</td><td>2</td>" in targets
    chained = TargetScore(word="sunflower", token_ids=(5, 6), pieces=("sun", "##flower"),
                          first_piece_probability=0.25, first_piece_rank=3,
                          piece_log_probabilities=(math.log(0.5), math.log(0.5)), log_probability=math.log(0.25),
                          method="chain-rule-l2r")
    ranked = render_targets_table(result_with([("a", 1.0)], targets=(one, chained)))
    assert ranked.index("sunflower") < ranked.index("cat")  # 25% before 12.5%: one scale for every length
    assert "25.0%" in ranked and "2 pieces, chain rule" in ranked and "50.0% × 50.0%" in ranked
    assert render_targets_table(result_with([("a", 1.0)])) == ""


@pytest.mark.parametrize(("top", "fmt"), [(0.9, ".0%"), (0.05, ".1%"), (0.002, ".2%")])
def test_axis_ticks_keep_enough_decimals(top, fmt):
    assert percent_format(top) == fmt
