"""Each tab's frame (explorer/ui/result_frame.py): an error in place of the result, the model line naming a model
that failed to load, and links that carry the tab's view and settings."""

from __future__ import annotations

import inspect
from urllib.parse import parse_qs

import gradio as gr

from explorer.errors import InputError
from explorer.ui.app import build_demo
from explorer.ui.page import Page
from explorer.ui.result_frame import ModelProblem, ResultFrame, load_model_for, render_link
from explorer.ui.share import read_query
from explorer.ui.state import AppState


def frame_on_a_page() -> tuple[ResultFrame, gr.HTML, gr.Plot]:
    with gr.Blocks():
        page = Page(state=AppState.create(), model=gr.Dropdown(), text=gr.Textbox(), top_k=gr.Slider(),
                    run=gr.Button(), model_info=gr.HTML())
        frame = ResultFrame.build(page, "attention", settings={"layer": gr.Slider(0, 1)})
        html, plot = gr.HTML(), gr.Plot()
        frame.footer()
    return frame, html, plot


def test_an_error_replaces_the_result_hides_download_and_link():
    frame, html, plot = frame_on_a_page()

    def fails(text: str) -> dict:
        raise InputError("No [MASK] in the <text>")

    updates = frame.shows(fails, clears=[html, plot])("x")
    assert updates[html] == "" and updates[plot] is None
    assert "No [MASK] in the &lt;text&gt;" in updates[frame.message] and "<text>" not in updates[frame.message]
    assert updates[frame.download].visible is False and updates[frame.link] == ""
    assert frame.page.model_info not in updates  # the model loaded: its line stays


def test_a_model_that_cannot_load_is_named_in_the_model_line():
    frame, html, plot = frame_on_a_page()

    def fails(name: str) -> dict:
        load_model_for(frame.page, name)
        return {}

    updates = frame.shows(fails, clears=[html, plot])("../outside")
    assert "The model &#x27;../outside&#x27; could not be loaded" in updates[frame.page.model_info]
    assert "could not be loaded" in updates[frame.message]
    assert ModelProblem("m", InputError("x")).name == "m"


def test_a_result_shows_its_download_and_a_link_with_view_and_settings():
    frame, html, plot = frame_on_a_page()
    query = frame.query("mini-bert", "the [MASK] & more", layer=2, head=5, empty="")
    assert parse_qs(query[1:]) == {"model": ["mini-bert"], "text": ["the [MASK] & more"], "view": ["attention"],
                                   "layer": ["2"], "head": ["5"]}
    assert read_query({k: v[0] for k, v in parse_qs(query[1:]).items()}).view == "attention"
    updates = frame.shows(lambda: {html: "ok", frame.download: "/tmp/x.json", frame.link: query}, clears=[html])()
    assert updates[frame.download].visible is True and updates[frame.message] == ""
    assert "Link to this result" in updates[frame.link] and "copy-link" in updates[frame.link]
    assert "'" not in render_link("?a='b'").split("href='")[1].split("'")[0]


def test_every_tab_of_the_page_has_a_frame():
    demo = build_demo()
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    for view in ("predict", "attention", "attribution", "compare", "layers"):
        assert {f"{view}-message", f"{view}-download", f"{view}-share"} <= ids, view


def test_a_panel_without_a_link_says_its_error_in_place_and_hides_its_columns():
    with gr.Blocks():
        page = Page(state=AppState.create(), model=gr.Dropdown(), text=gr.Textbox(), top_k=gr.Slider(),
                    run=gr.Button(), model_info=gr.HTML())
        frame = ResultFrame.build(page, "joint")
        with gr.Column() as column:
            html = gr.HTML()
        frame.footer("Download JSON (joint)", link=False)
    assert frame.link is None and None not in frame.outputs and frame.download.label == "Download JSON (joint)"

    def fails() -> dict:
        raise InputError("No [MASK] in <b>this</b>")

    updates = frame.shows(fails, clears=[column, html])()
    assert updates[column].visible is False and updates[html] == ""
    assert "&lt;b&gt;" in updates[frame.message] and updates[frame.has_result] is False
    assert updates[frame.download].visible is False
    shown = frame.shows(lambda: {html: "ok", frame.download: "/tmp/x.json"}, clears=[html])()
    assert shown[frame.has_result] is True and shown[frame.download].visible is True


def test_a_redraw_runs_only_while_a_result_shows():
    frame, html, plot = frame_on_a_page()
    calls: list[int] = []

    def redraw(top_k: float) -> dict:
        calls.append(int(top_k))
        return {html: f"top-{int(top_k)}"}

    redraws = frame.redraws(redraw, clears=[html, plot])
    assert redraws(False, 7) == gr.skip() and calls == []
    assert redraws(True, 7)[html] == "top-7" and calls == [7]
    assert list(inspect.signature(redraws).parameters) == ["has_result", "top_k"]  # what Gradio passes it
