"""Property-based tests (hypothesis): whatever text or JSON value arrives, every API name and core function gives a
well-formed result or the project's own error, never another exception.

Examples are few (a tiny model, a few seconds per test); the point is the variety of input, not the count.
"""

from __future__ import annotations

import gradio as gr
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from explorer.attention import extract_attention
from explorer.attribution import attribute_tokens
from explorer.compare import compare_models
from explorer.encoding import encode
from explorer.errors import ExplorerError
from explorer.fill_mask import predict_masks
from explorer.limits import Limits
from explorer.models import load_model

FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any text (all of unicode but lone surrogates, which JSON cannot carry in UTF-8), with or without masks.
plain = st.text(max_size=40)
masked = st.builds(lambda a, b, m: f"{a}{m}{b}", st.text(max_size=30), st.text(max_size=30),
                   st.sampled_from(["[MASK]", "<mask>", " [mask] ", "[MASK][MASK]"]))
texts = st.one_of(plain, masked)
# Any JSON value.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)

UNICODE_EXAMPLES = ["مرحبا [MASK] بالعالم", "e\u0301te\u0301 [MASK]", "I \u2764\ufe0f\u200d\U0001F525 [MASK]",
                    "東京は日本の[MASK]です。", "tab\there [MASK]\nnew line", "\x00 [MASK]", "\ud800 [MASK]"]


@pytest.fixture(scope="module")
def tiny(tiny_model_dirs):
    return load_model(str(tiny_model_dirs["bert"]))


@pytest.fixture(scope="module")
def tiny_pair(tiny_model_dirs):
    return [load_model(str(tiny_model_dirs["bert"])), load_model(str(tiny_model_dirs["roberta"]))]


def project_error_or(fn, check) -> None:
    """Run `fn`: its result must pass `check`; an ExplorerError is fine; anything else fails the test."""
    try:
        result = fn()
    except ExplorerError as error:
        assert str(error)
        return
    check(result)


@FEW
@given(text=texts)
@example(text=UNICODE_EXAMPLES[0])
@example(text=UNICODE_EXAMPLES[5])
@example(text=UNICODE_EXAMPLES[6])
def test_encode_and_predict(tiny, text):
    def check(result):
        assert len(result.masks) == len(encode(tiny, text).mask_positions) >= 1
        assert all(0.0 <= p.score <= 1.0 for m in result.masks for p in m.predictions)

    project_error_or(lambda: predict_masks(tiny, text, top_k=3), check)


@FEW
@given(text=texts)
def test_attention(tiny, text):
    project_error_or(lambda: extract_attention(tiny, text),
                     lambda maps: maps.array().shape[2] == maps.array().shape[3] == len(maps.tokens))


@FEW
@given(text=texts, target=st.one_of(st.none(), st.text(max_size=8)), method=st.sampled_from(["ig", "occlusion"]))
def test_attribution(tiny, text, target, method):
    def check(result):
        assert len(result.scores) == len(result.tokens)

    project_error_or(lambda: attribute_tokens(tiny, text, target=target or None, method=method, n_steps=4), check)


@FEW
@given(text=texts)
def test_compare(tiny_pair, text):
    project_error_or(lambda: compare_models(tiny_pair, text, top_k=3),
                     lambda comparison: len(comparison.results) == 2)


@pytest.mark.parametrize("text", UNICODE_EXAMPLES[:5])
def test_right_to_left_combining_marks_emoji_and_cjk_keep_working(tiny, text):
    assert Limits().check_text(text) == text
    assert predict_masks(tiny, text, top_k=2).masks


# The API names, called as Gradio calls them (after its JSON decoding), with one argument replaced by any JSON value.

VALID = {
    "predict": ("the [MASK] sat.", "mini-bert", 3),
    "attention": ("the [MASK] sat.", "mini-bert", False),
    "attribute": ("the [MASK] sat.", "mini-bert", 0, "", 4, "", "ig"),
    "compare": ("the [MASK] sat.", ["mini-bert", "mini-roberta"], 3),
    "layers": ("the [MASK] sat.", "mini-bert", 3),
    "ablate": ("the [MASK] sat.", "mini-bert", "0:0", "zero"),
    "head_effects": ("the [MASK] sat.", "mini-bert", 0, "", "zero"),
}


@pytest.fixture(scope="module")
def api(bundled_assets):
    from explorer.ui.api import build_api
    from explorer.ui.state import AppState

    with gr.Blocks():
        return build_api(AppState.create())


def api_answer_or_own_error(fn, args) -> None:
    try:
        result = fn(*args)
    except gr.Error as error:
        # the project's own message, never the stand-in for an unexpected exception
        assert "Something went wrong on the server" not in error.message, error.message
        return
    assert isinstance(result, dict) and "model" in result or "models" in result


@pytest.mark.parametrize("name", list(VALID))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_every_api_argument_takes_any_json_value(api, name, data):
    args = list(VALID[name])
    position = data.draw(st.integers(0, len(args) - 1), label="argument")
    args[position] = data.draw(json_values, label="value")
    api_answer_or_own_error(api[name], args)


@pytest.mark.parametrize("name", list(VALID))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(text=texts)
def test_every_api_name_takes_any_text(api, name, text):
    args = list(VALID[name])
    args[0] = text
    api_answer_or_own_error(api[name], args)
