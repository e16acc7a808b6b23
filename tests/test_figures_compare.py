"""A comparison as pictures (explorer/figures/compare.py): one column per model, the agreement's own numbers,
every name and token escaped."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace

import pytest

from explorer.compare import MIN_SHARED_WORDS, compare_models
from explorer.figures.compare import (
    correlation_cell,
    plot_compare,
    render_agreement,
    render_compare_columns,
    render_tokenisations,
)
from explorer.figures.labels import percent
from explorer.models import load_model

HOSTILE = "<img src=x onerror=alert(1)> the [MASK] sat"


@pytest.fixture(scope="module")
def comparison(tiny_model_dirs):
    models = [load_model(str(tiny_model_dirs[a])) for a in ("bert", "roberta", "xlm-roberta")]
    return compare_models(models, "the [MASK] was cold and the [MASK] was hot.", top_k=4)


def test_one_column_per_model_with_its_top_k(comparison):
    html_text = render_compare_columns(comparison)
    assert html_text.count("class='compare-column'") == 3
    for name, result in zip(comparison.models, comparison.results, strict=True):
        column = html_text.split(f"data-model='{name}'")[1].split("class='compare-column'")[0]
        assert column.count("<li") == 4 * len(result.masks)
        for mask in result.masks:
            for p in mask.predictions:
                assert percent(p.score) in column


def test_shared_words_are_marked_in_every_column(comparison):
    html_text = render_compare_columns(comparison)
    expected = 0
    for m in range(len(comparison.agreement)):
        keys = [[p.token.strip().casefold() for p in r.masks[m].predictions] for r in comparison.results]
        common = set.intersection(*(set(k) for k in keys)) - {""}
        expected += sum(key in common for k in keys for key in k)
    assert html_text.count("class='shared'") == expected


def test_agreement_shows_the_comparisons_numbers(comparison):
    html_text = render_agreement(comparison)
    assert html_text.count("<div class='agreement'>") == 2
    for agreement in comparison.agreement:
        for row in agreement.topk_overlap:
            for value in row:
                assert f"<td>{value:.0%}</td>" in html_text
        for cross in agreement.cross_probabilities:
            shown = percent(cross.probability) if cross.probability is not None else \
                f"first piece {percent(cross.first_piece_probability)}"
            assert shown in html_text


def test_tokenisation_shows_every_token_of_every_model(comparison):
    html_text = render_tokenisations(comparison)
    for result in comparison.results:
        assert html_text.count("class='chip mask'") >= len(result.masks)
    assert len(re.findall(r"<span class='chip", html_text)) == sum(len(r.tokens) for r in comparison.results)


def test_hostile_names_and_tokens_are_text(tiny_model_dirs):
    models = [load_model(str(tiny_model_dirs[a])) for a in ("bert", "roberta")]
    comparison = compare_models(models, HOSTILE, top_k=3)
    comparison = replace(comparison, models=("<b>one</b>", "<script>x</script>"))
    for render in (render_compare_columns, render_tokenisations, render_agreement):
        html_text = render(comparison)
        assert "<script" not in html_text and "<b>one" not in html_text and "<img" not in html_text
        assert "&lt;script&gt;x&lt;/script&gt;" in html_text
    assert "&lt;" in render_tokenisations(comparison)  # the byte-level BPE model keeps "<" as a token
    assert "<script" not in plot_compare(comparison).to_json()


def test_bars_side_by_side_hold_each_models_probabilities(comparison):
    figure = plot_compare(comparison)
    assert len(figure.data) == len(comparison.models) * len(comparison.agreement)
    traces = iter(figure.data)
    for m in range(len(comparison.agreement)):
        for result in comparison.results:
            assert list(next(traces).x) == [p.score for p in result.masks[m].predictions]


def test_models_that_agree_completely_share_every_word(comparison, tiny_model_dirs, tmp_path):
    # The fixture's first model (bert) three times, under three names: the agreement itself finds every word common.
    folders = [tmp_path / name for name in ("one", "two", "three")]
    for folder in folders:
        shutil.copytree(tiny_model_dirs["bert"], folder)
    same = compare_models([load_model(str(f)) for f in folders], comparison.text, top_k=comparison.top_k)
    assert same.results[0] == replace(comparison.results[0], model_name=same.models[0])
    html_text = render_compare_columns(same)
    words = {p.token.strip() for mask in comparison.results[0].masks for p in mask.predictions}
    assert "" not in words  # so every one of them can be shared
    assert html_text.count("class='shared'") == html_text.count("<li") == 3 * 4 * 2


def test_every_models_bars_share_one_scale(comparison):
    html_text = render_compare_columns(comparison)
    bars = re.findall(r"data-probability='([^']+)' style='width:([0-9.]+)%", html_text)
    per_mask = 4 * len(comparison.results)
    assert len(bars) == per_mask * len(comparison.agreement)
    for m in range(len(comparison.agreement)):
        # the columns are written model after model, mask after mask within each
        shown = [bars[c * 4 * len(comparison.agreement) + m * 4 + r] for c in range(3) for r in range(4)]
        top = max(float(p) for p, _ in shown)
        for probability, width in shown:
            assert float(width) == pytest.approx(100 * float(probability) / top, abs=0.01)
    figure = plot_compare(comparison)
    ranges = {tuple(axis.range) for name, axis in figure.layout.to_plotly_json().items() if name.startswith("xaxis")
              for axis in [figure.layout[name]]}
    assert len(ranges) == 1, ranges
    top = max(p.score for r in comparison.results for mask in r.masks for p in mask.predictions)
    assert ranges.pop()[1] >= top


def test_spearman_names_its_set_and_size():
    assert correlation_cell(0.5, MIN_SHARED_WORDS) == f"+0.50 (n = {MIN_SHARED_WORDS})"
    assert correlation_cell(None, MIN_SHARED_WORDS - 1).startswith("too few words to correlate")
    assert correlation_cell(0.9, MIN_SHARED_WORDS - 1) == f"too few words to correlate (n = {MIN_SHARED_WORDS - 1})"


def test_the_agreement_caption_says_which_words_the_correlation_is_over(comparison):
    html_text = render_agreement(comparison)
    assert "either model's top-4 that both write as one token" in html_text
    for agreement in comparison.agreement:
        for rho_row, n_row in zip(agreement.rank_correlation, agreement.shared_words, strict=True):
            for rho, n in zip(rho_row, n_row, strict=True):
                assert f"data-n='{n}'>{correlation_cell(rho, n)}</td>" in html_text
