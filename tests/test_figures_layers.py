"""The layers view's figures and the joint-fill HTML: what they draw is the result's numbers, escaped."""

from __future__ import annotations

import pytest
from tiny_models import SENTENCES

from explorer import load_model, predict_masks
from explorer.ablation import ablate_heads, head_effects
from explorer.figures.joint import render_ablation_table, render_joint_fill
from explorer.figures.layers import plot_head_effects, plot_layer_lens
from explorer.joint import fill_jointly
from explorer.layers import layer_predictions

TWO_MASKS = next(s for s in SENTENCES if s.count("[MASK]") == 2)


@pytest.fixture(scope="module")
def bert(tiny_model_dirs):
    return load_model(str(tiny_model_dirs["bert"]))


def test_lens_heatmap_is_every_layer_top_word(bert):
    lens = layer_predictions(bert, TWO_MASKS, top_k=3)
    mask = lens.masks[1]
    heat, ranks = plot_layer_lens(lens, mask=1).data
    assert heat.type == "heatmap" and ranks.type == "scatter"
    assert [list(row) for row in heat.z] == [list(row) for row in mask.word_scores]
    every_top = {p.token_id for layer in mask.layers for p in layer.predictions}
    assert set(mask.word_ids) == every_top
    for layer, entry in enumerate(mask.layers):
        for p in entry.predictions:
            assert mask.word_scores[layer][mask.word_ids.index(p.token_id)] == p.score
    assert list(ranks.x) == [e.final_top1.rank for e in mask.layers] and list(ranks.x)[-1] == 1


def test_head_effects_heatmap_is_diverging_with_a_colorbar(bert):
    effects = head_effects(bert, TWO_MASKS)
    (heat,) = plot_head_effects(effects).data
    assert [list(row) for row in heat.z] == [list(row) for row in effects.effects]
    assert heat.zmid == 0.0 and heat.zmin == -heat.zmax and heat.colorbar.title.text.startswith("Δ p(")


def test_joint_html_marks_differences_and_escapes(bert, tiny_model_dirs):
    joint = fill_jointly(bert, TWO_MASKS, beam=2)
    page = render_joint_fill(joint)
    assert page.count("class='differs'") == sum(joint.differs)
    assert joint.filled_text in page
    byte_level = load_model(str(tiny_model_dirs["roberta"]))  # keeps "<" and ">" (WordPiece here has no such pieces)
    escaped = render_joint_fill(fill_jointly(byte_level, "the <b> [MASK] cat."))
    assert "&lt;b&gt;" in escaped and "<b> " not in escaped


def test_ablation_table_shows_both_columns(bert):
    ablated = ablate_heads(bert, TWO_MASKS, "0:*").fill_mask
    table = render_ablation_table(ablated, predict_masks(bert, TWO_MASKS))
    assert table.count("<table") == 2 and "heads removed" in table
