"""Attention figures and the offline bertviz views: the numbers they draw, escaping, and no external URL."""

from __future__ import annotations

import base64
import html
import json
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from test_fill_mask import ONE_MASK, TWO_MASKS
from transformers import AutoModelForMaskedLM, AutoTokenizer

from explorer import AttentionMaps, InputError, attention_rollout, extract_attention, load_model
from explorer.attention import summarize_heads
from explorer.figures.attention import (
    plot_head,
    plot_heads_overview,
    plot_mask_attention,
    plot_rollout,
    plot_rollout_masks,
    token_labels,
)
from explorer.figures.bertviz_view import (
    VENDOR_SCRIPTS,
    display_tokens,
    head_view_document,
    head_view_html,
    model_view_document,
    model_view_html,
    offline_script,
    script_json,
)
from explorer.figures.labels import mask_names, token_label

REPO = Path(__file__).resolve().parent.parent
# Tokens a hostile or careless user might type; each becomes ONE token of the model built below.
HOSTILE_TOKENS = (
    "<img src=x onerror=alert(1)>",
    "</script>",
    "<!--",
    '"><script>top.__pwned=1</script>',
    "'single'",
    "&amp;",
)
HOSTILE_TEXT = " ".join(HOSTILE_TOKENS) + " the cat sat on the [MASK]."
URL = re.compile(r"https?://", re.IGNORECASE)


def build_hostile_model(roberta_dir: Path, folder: Path) -> Path:
    """The tiny RoBERTa with the hostile strings added to its vocabulary as whole tokens."""
    tokenizer = AutoTokenizer.from_pretrained(roberta_dir)
    tokenizer.add_tokens(list(HOSTILE_TOKENS))
    model = AutoModelForMaskedLM.from_pretrained(roberta_dir)
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def hostile_maps(tiny_model_dirs, tmp_path_factory) -> AttentionMaps:
    folder = build_hostile_model(tiny_model_dirs["roberta"], tmp_path_factory.mktemp("hostile"))
    maps = extract_attention(load_model(str(folder)), HOSTILE_TEXT)
    assert set(HOSTILE_TOKENS) <= set(maps.tokens)
    return maps


@pytest.fixture(scope="module")
def bert_maps(tiny_model_dirs) -> AttentionMaps:
    return extract_attention(load_model(str(tiny_model_dirs["bert"])), TWO_MASKS[0])


def all_text(figure) -> str:
    """Every string a plotly figure would hand to the browser."""
    return figure.to_json()


# ----------------------------------------------------------------------------------------------------------------
# plotly figures
# ----------------------------------------------------------------------------------------------------------------


def test_plot_head_draws_that_head(bert_maps):
    figure = plot_head(bert_maps, 1, 1)
    (heatmap,) = figure.data
    np.testing.assert_array_equal(np.array(heatmap.z), bert_maps.array()[1, 1])
    assert list(figure.layout.xaxis.ticktext) == token_labels(bert_maps.tokens, bert_maps.mask_positions)
    assert list(figure.layout.yaxis.tickvals) == list(range(len(bert_maps.tokens)))
    for pos in bert_maps.mask_positions:
        assert figure.layout.xaxis.ticktext[pos] == "<b>[MASK]</b>"
    assert [shape.y0 + 0.5 for shape in figure.layout.shapes] == list(bert_maps.mask_positions)
    with pytest.raises(InputError, match="choose a layer from 0 to 1"):
        plot_head(bert_maps, 2, 0)


def test_plot_heads_overview_draws_the_summary(bert_maps):
    for summary in ("entropy", "max", "special"):
        (heatmap,) = plot_heads_overview(bert_maps, summary).data
        assert np.array(heatmap.z) == pytest.approx(np.array(summarize_heads(bert_maps, summary)))
    (heatmap,) = plot_heads_overview(bert_maps).data
    weights = bert_maps.array()
    best = int(weights[0, 1, bert_maps.mask_positions[1]].argmax())
    assert f"mask 2 · 'the [MASK] was' looks most at '{token_label(bert_maps.tokens[best])}' (token {best})" \
        in heatmap.text[0][1]
    with pytest.raises(InputError, match="Unknown head summary"):
        plot_heads_overview(bert_maps, "loudness")


def test_plot_mask_attention_has_every_layer_and_head_of_each_mask(bert_maps):
    figure = plot_mask_attention(bert_maps)
    assert len(figure.data) == len(bert_maps.mask_positions) == 2
    weights = bert_maps.array()
    for heatmap, pos in zip(figure.data, bert_maps.mask_positions, strict=True):
        z = np.array(heatmap.z)  # [layer * head, key_pos]
        assert z.shape == (bert_maps.layers * bert_maps.heads, len(bert_maps.tokens))
        for layer in range(bert_maps.layers):
            for head in range(bert_maps.heads):
                np.testing.assert_array_equal(z[layer * bert_maps.heads + head], weights[layer, head, pos])
    assert list(figure.layout.yaxis.ticktext) == ["L0 H0", "L0 H1", "L1 H0", "L1 H1"]


def test_rollout_figures_draw_the_rollout(bert_maps):
    rollout = attention_rollout(bert_maps)
    (heatmap,) = plot_rollout(rollout).data
    np.testing.assert_array_equal(np.array(heatmap.z), rollout.array())
    bars = plot_rollout_masks(rollout).data
    assert [tuple(bar.y) for bar in bars] == list(rollout.mask_rows)
    assert [bar.name for bar in bars] == mask_names(rollout.text, len(rollout.mask_positions))


def test_figures_escape_hostile_tokens(hostile_maps):
    rollout = attention_rollout(hostile_maps)
    figures = [plot_head(hostile_maps, 0, 0), plot_heads_overview(hostile_maps), plot_mask_attention(hostile_maps),
               plot_rollout(rollout), plot_rollout_masks(rollout)]
    labels = token_labels(hostile_maps.tokens)
    assert "&lt;img src=x onerror=alert(1)&gt;" in labels and "&lt;/script&gt;" in labels
    assert "&amp;amp;" in labels  # shown as the four characters "&amp;"
    for figure in figures:
        text = all_text(figure)
        for raw in ("<img", "<script", "</script", "<!--", "onerror=alert(1)>"):
            assert raw not in text


# ----------------------------------------------------------------------------------------------------------------
# bertviz views
# ----------------------------------------------------------------------------------------------------------------


class _IframeParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.iframes: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "iframe":
            self.iframes.append(dict(attrs))


def iframes(fragment: str) -> list[dict[str, str]]:
    parser = _IframeParser()
    parser.feed(fragment)
    return parser.iframes


def params_of(document: str) -> dict:
    """The JSON the document hands to bertviz."""
    match = re.search(r"var params = (\{.*?\});\n", document)
    assert match, "no params in the document"
    return json.loads(match.group(1))


def decoded_attention(view: dict) -> np.ndarray:
    packed = np.frombuffer(base64.b64decode(view["attn"]["b64"]), dtype="<u2")
    return packed.reshape(view["attn"]["shape"]) / 65535


def outside_scripts(document: str) -> str:
    """The document with the contents of its scripts removed: the markup a browser parses as HTML."""
    return re.sub(r"<script>\n.*?\n</script>", "<script></script>", document, flags=re.DOTALL)


def vendored(name: str) -> str:
    path = dict(VENDOR_SCRIPTS)[name]
    return (resources.files("explorer") / "static" / path).read_text(encoding="utf-8")


@pytest.mark.parametrize("make", [head_view_document, model_view_document], ids=["head", "model"])
def test_view_documents_inline_every_script_and_name_no_url(bert_maps, make):
    document = make(bert_maps)
    for name in ("d3", "jquery"):
        assert offline_script(name, vendored(name)) in document
    assert "window.require = window.requirejs = require" in document  # the shim
    assert "const params = window.explorerParams;" in document  # bertviz's own script
    assert "= PYTHON_PARAMS" not in document and "cdnjs" not in document and "paths:" not in document
    assert not URL.search(document)
    assert document.count("</script") == 6  # nothing inlined can end a script early
    markup = outside_scripts(document)
    assert markup.count("<script>") == 6
    assert not re.search(r"<script[^>]*\ssrc\s*=|<link\b|@import|url\(|\b(src|href)\s*=", markup, re.IGNORECASE)


def test_the_vendored_scripts_and_their_licences_ship_in_the_package():
    static = REPO / "explorer" / "static"
    for _, path in VENDOR_SCRIPTS:
        assert (static / path).stat().st_size > 50_000
    assert "Mike Bostock" in (static / "d3-5.7.0" / "LICENSE").read_text()
    assert "jQuery Foundation" in (static / "jquery-2.2.4" / "LICENSE.txt").read_text()
    assert "v5.7.0" in vendored("d3")
    assert "jQuery v2.2.4" in vendored("jquery")
    package_data = re.search(r"\[tool\.setuptools\.package-data\]\s*explorer = \[(.*?)\]",
                             (REPO / "pyproject.toml").read_text())
    assert package_data and '"static/**/*"' in package_data.group(1)


def test_offline_script_keeps_strings_and_drops_urls_from_comments():
    source = '// https://d3js.org v5\nvar svg = "http://www.w3.org/2000/svg", x = \'https://a.b/c\';'
    result = offline_script("t", source)
    assert result == '// d3js.org v5\nvar svg = "http:\\/\\/www.w3.org/2000/svg", x = \'https:\\/\\/a.b/c\';'
    with pytest.raises(RuntimeError, match="cannot be inlined"):
        offline_script("t", 'var s = "</script>";')


def test_head_view_hands_bertviz_the_exact_weights(bert_maps):
    params = params_of(head_view_document(bert_maps, layer=1, heads=[0]))
    (view,) = params["attention"]
    np.testing.assert_allclose(decoded_attention(view), bert_maps.array(), atol=1 / 65535)
    assert view["left_text"] == view["right_text"] == list(bert_maps.tokens)
    assert params["layer"] == 1 and params["heads"] == [0] and params["include_layers"] == [0, 1]


def test_model_view_options(bert_maps):
    params = params_of(model_view_document(bert_maps, layers=[1], heads=[1, 0], display_mode="dark"))
    np.testing.assert_allclose(decoded_attention(params["attention"][0]), bert_maps.array()[[1]][:, [1, 0]],
                               atol=1 / 65535)
    assert params["display_mode"] == "dark" and params["total_heads"] == 2
    assert "background: black" in model_view_document(bert_maps, display_mode="dark")
    with pytest.raises(InputError, match="light or dark"):
        model_view_document(bert_maps, display_mode="neon")
    with pytest.raises(InputError, match="distinct heads from 0 to 1"):
        model_view_document(bert_maps, heads=[0, 0])
    with pytest.raises(InputError, match="distinct layers from 0 to 1, not 5"):
        head_view_document(bert_maps, layers=[5])
    with pytest.raises(InputError, match="Layer 0 is not among the layers shown"):
        head_view_document(bert_maps, layers=[1])


@pytest.mark.parametrize("make", [head_view_html, model_view_html], ids=["head", "model"])
def test_iframe_carries_the_whole_document_escaped(hostile_maps, make):
    fragment = make(hostile_maps)
    assert fragment.startswith("<iframe ") and fragment.endswith("</iframe>")
    (frame,) = iframes(fragment)
    document = frame["srcdoc"]  # the parser unescapes the attribute, as the browser does
    expected = head_view_document(hostile_maps) if make is head_view_html else model_view_document(hostile_maps)
    assert document == expected
    assert html.escape(document, quote=True) in fragment
    assert not URL.search(fragment)
    # Inside the attribute, nothing can close it or open a tag.
    srcdoc = re.search(r'srcdoc="([^"]*)"', fragment).group(1)
    assert "<" not in srcdoc and ">" not in srcdoc
    assert frame["title"].endswith(HOSTILE_TEXT)
    assert re.fullmatch(r"width:100%;height:\d+px;border:0;display:block", frame["style"])


def test_hostile_tokens_stay_data_in_the_document(hostile_maps):
    for make in (head_view_document, model_view_document):
        document = make(hostile_maps)
        # Only our own six scripts open and close; the tokens' tags never appear as markup.
        assert document.count("</script") == 6
        markup = outside_scripts(document)
        assert re.findall(r"<(\w+)", markup) == ["html", "head", "meta", "title", "style", "body", "div", "span",
                                                 *(["select"] if make is head_view_document else []), "div",
                                                 *["script"] * 6]
        assert "<!--" not in document
        assert document.count("<title>") == 1 and "&lt;img src=x onerror=alert(1)&gt;" in document.split("</title>")[0]
        (view,) = params_of(document)["attention"]
        assert view["left_text"] == display_tokens(hostile_maps.tokens)
        assert set(HOSTILE_TOKENS) <= set(view["left_text"])


def test_script_json_cannot_end_a_script():
    text = script_json({"t": "</script><!-- & \u2028 \u2029 > <"})
    assert not re.search(r"[<>&\u2028\u2029]", text)
    assert json.loads(text) == {"t": "</script><!-- & \u2028 \u2029 > <"}


def test_iframe_start_height_follows_the_text(tiny_model_dirs, bert_maps):
    short = extract_attention(load_model(str(tiny_model_dirs["bert"])), ONE_MASK[0])
    height = re.compile(r"height:(\d+)px")
    for make in (head_view_html, model_view_html):
        assert int(height.search(make(short)).group(1)) < int(height.search(make(bert_maps)).group(1))
    with pytest.raises(InputError, match="Layer 7 is not among the layers shown"):
        head_view_html(bert_maps, layer=7)
