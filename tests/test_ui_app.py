"""The assembled page (explorer/ui/app.py) and the one place errors become messages (explorer/ui/errors.py)."""

from __future__ import annotations

import gradio as gr
import pytest

from explorer.encoding import parse_words
from explorer.errors import InputError
from explorer.ui.app import THEME, build_demo
from explorer.ui.errors import shows_errors
from explorer.ui.page import mask_choices

REQUIRED_IDS = {
    "model-picker", "text-input", "run-button", "predictions", "attention-view", "attention-button",
    "attribution-view", "attribution-button", "compare-view", "compare-button", "compare-models",
    "layers-view", "layers-button", "joint-button",
    "score-view", "score-button",
}


@pytest.fixture(scope="module")
def config(bundled_assets):
    return build_demo().get_config_file()


def test_the_page_has_the_documented_parts(config):
    ids = {c["props"].get("elem_id") for c in config["components"]}
    assert ids >= REQUIRED_IDS
    tabs = [c["props"]["label"] for c in config["components"] if c["type"] == "tabitem"]
    assert tabs == ["Predict", "Attention", "Attribution", "Compare", "Layers", "Score"]


def test_compare_opens_with_two_bundled_models_selected(config):
    (picker,) = [c for c in config["components"] if c["props"].get("elem_id") == "compare-models"]
    assert picker["props"]["value"] == ["mini-bert", "mini-roberta"]


def test_only_the_api_names_are_public(config):
    public = sorted(d["api_name"] for d in config["dependencies"] if d.get("api_visibility") == "public")
    assert public == ["ablate", "attention", "attribute", "compare", "head_effects", "layers", "pairs", "predict",
                      "score"]


def test_the_theme_loads_no_web_fonts():
    assert THEME._stylesheets == []
    assert "googleapis" not in THEME._get_theme_css()


def test_errors_become_readable_messages_and_others_pass_through():
    @shows_errors
    def handler(kind: str) -> str:
        if kind == "input":
            raise InputError('No [MASK] in the text; try "Paris is the [MASK] of France."')
        if kind == "bug":
            raise ZeroDivisionError
        return "ok"

    assert handler("fine") == "ok"
    with pytest.raises(gr.Error, match="No \\[MASK\\]"):
        handler("input")
    # A real bug: its traceback goes to the log, and the page gets a short message, never the exception's own
    # text (it may quote the input, and gr.Error renders HTML)
    with pytest.raises(gr.Error, match="Something went wrong on the server \\(ZeroDivisionError\\)"):
        handler("bug")


def test_mask_menus_follow_the_typed_masks():
    assert mask_choices("no mask") == [("mask 1", 0)]
    assert [i for _, i in mask_choices("a [MASK] b <mask> c [mask]")] == [0, 1, 2]
    assert parse_words(" capital, ,city ,") == ("capital", "city")
