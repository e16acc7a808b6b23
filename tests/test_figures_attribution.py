"""Attribution figures: coloured tokens (diverging palette, escaped), the bar chart, the completeness check."""

from __future__ import annotations

import dataclasses
import re

import pytest

from explorer import attribute_tokens, load_model
from explorer.attribution import AttributedToken, TokenAttribution
from explorer.figures.attribution import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    SPECIAL_COLOR,
    plot_attribution,
    render_attribution_tokens,
    render_completeness,
    score_color,
)

HEX = {name: "#" + "".join(f"{c:02x}" for c in rgb) for name, rgb in
       {"positive": POSITIVE, "negative": NEGATIVE, "neutral": NEUTRAL}.items()}


def made_up(**changes) -> TokenAttribution:
    """An attribution with hostile token strings: every one must come out escaped."""
    result = TokenAttribution(
        model_name="tiny",
        text="<b>bold</b> & [MASK]",
        tokens=("[CLS]", "<b>", "&amp;", "[MASK]", "Ġ<script>", "[SEP]"),
        token_texts=("[CLS]", "<b>", "&amp;", "[MASK]", " <script>", "[SEP]"),
        token_ids=(1, 10, 11, 4, 12, 2),
        special=(True, False, False, False, False, True),
        scores=(0.0, 0.4, -0.2, 0.0, 0.1, 0.0),
        mask_position=3,
        mask_index=0,
        target=AttributedToken(token_id=13, token="<i>x</i>", piece="<i>x</i>", probability=0.5),
        contrast=None,
        attributed="probability",
        score_input=0.5,
        score_baseline=0.2,
        delta=1e-6,
        method="ig",
        steps=50,
        baseline="the text with its 3 non-special tokens replaced by [MASK] (special tokens kept)",
    )
    return dataclasses.replace(result, **changes)


def test_score_color_is_a_symmetric_diverging_scale():
    assert score_color(1.0, 1.0) == HEX["positive"]
    assert score_color(-1.0, 1.0) == HEX["negative"]
    assert score_color(0.0, 1.0) == HEX["neutral"]
    assert score_color(5.0, 1.0) == HEX["positive"]  # clipped
    assert score_color(0.3, 0.0) == HEX["neutral"]
    half_up, half_down = score_color(0.5, 1.0), score_color(-0.5, 1.0)
    assert half_up not in HEX.values() and half_down not in HEX.values()
    blue, red = int(half_up[5:7], 16), int(half_down[1:3], 16)
    assert blue > int(half_up[1:3], 16) and red > int(half_down[5:7], 16)


def test_tokens_html_is_escaped_coloured_and_marks_the_mask():
    page = render_attribution_tokens(made_up())
    assert "<b>" not in page.replace("<b>p(", "") and "<script>" not in page and "<i>" not in page
    assert "&lt;b&gt;" in page and "&amp;amp;" in page and "&lt;script&gt;" in page
    chips = re.findall(r"<span class='attribution-token'[^>]*>", page)
    assert len(chips) == 6
    assert f"background:{HEX['positive']}" in chips[1]  # the largest |score| gets the full colour
    assert f"background:{HEX['negative']}" not in chips[2] and "background:#" in chips[2]
    assert f"background:{HEX['neutral']}" in chips[0]
    assert "outline" in chips[3] and all("outline" not in chip for k, chip in enumerate(chips) if k != 3)
    assert "+0.4" in chips[1] and "-0.2" in chips[2]
    assert "p(&lt;i&gt;x&lt;/i&gt;)" in page


def test_bar_chart_has_one_bar_per_token_coloured_by_sign():
    result = made_up()
    figure = plot_attribution(result)
    bar, *legend = figure.data
    assert list(bar.y) == list(result.scores) and list(bar.x) == list(range(6))
    # every colour and the mask's outline is named in the legend, by entries that draw nothing
    assert [entry.name for entry in legend] == ["raised it", "lowered it", "special token", "the mask being explained"]
    assert all(list(entry.y) == [None] for entry in legend) and not bar.showlegend
    assert bar.marker.color[0] == SPECIAL_COLOR and bar.marker.color[5] == SPECIAL_COLOR
    assert bar.marker.color[1] == HEX["positive"] and bar.marker.color[2] == HEX["negative"]
    ticks = list(figure.layout.xaxis.ticktext)
    assert ticks[1] == "&lt;b&gt;" and ticks[4] == "&lt;script&gt;"
    assert "<script>" not in figure.to_json() and "<i>" not in figure.layout.title.text
    assert "integrated gradients" in figure.layout.title.text


def test_completeness_shows_the_numbers_without_warning_when_converged():
    page = render_completeness(made_up())
    assert "+0.5" in page and "+0.2" in page and "+0.3" in page  # f(x), f(x'), f(x) − f(x')
    assert "sum − (f(x) − f(x′))" in page and "50 integration steps" in page
    assert "attribution-warning" not in page
    assert "&lt;i&gt;" in page and "<i>" not in page


def test_completeness_warns_and_suggests_more_steps_when_delta_is_large():
    page = render_completeness(made_up(delta=0.06, steps=16))
    warning = re.search(r"<div class='attribution-warning'[^>]*>(.*?)</div>", page)
    assert warning is not None
    assert "20%" in warning.group(1) and "more steps" in warning.group(1) and "100" in warning.group(1)


def test_completeness_of_methods_without_delta():
    page = render_completeness(made_up(delta=None, steps=None, method="occlusion"))
    assert "sum − (f(x) − f(x′))" not in page and "attribution-warning" not in page
    assert "does not promise" in page


@pytest.mark.parametrize("method", ["ig", "occlusion"])
def test_figures_of_a_real_attribution(tiny_model_dirs, method):
    result = attribute_tokens(load_model(str(tiny_model_dirs["roberta"])), "paris is the <mask> of france.",
                              method=method, n_steps=16)
    page = render_attribution_tokens(result)
    assert page.count("class='attribution-token'") == len(result.tokens)
    assert len(plot_attribution(result).data[0].y) == len(result.tokens)
    assert ("sum − (f(x) − f(x′))" in render_completeness(result)) == (method == "ig")
