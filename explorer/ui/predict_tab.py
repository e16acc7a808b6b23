"""The Predict tab: the top-k fillers of every mask as bars, the filled-in sentence, and target words' scores."""

from __future__ import annotations

import gradio as gr

from explorer.documents import predict_document
from explorer.encoding import parse_words
from explorer.figures.predictions import plot_topk, render_filled_sentence, render_targets_table, render_topk_table
from explorer.ui.export import plot_with_png_button, write_json_file
from explorer.ui.joint_panel import build_joint_panel
from explorer.ui.model_picker import render_model_info
from explorer.ui.page import Page, TabRun
from explorer.ui.result_frame import ResultFrame, load_model_for


def build_predict_tab(page: Page) -> tuple[TabRun, gr.Textbox]:
    """Add the Predict tab's widgets and wire them to the shared inputs.

    Returns:
        The tab's computation (the page reruns it when a shared link opens) and its targets box.
    """
    frame = ResultFrame.build(page, "predict")
    with gr.Column(elem_id="predictions"):
        filled = gr.HTML(elem_id="filled-sentence")
        plot = gr.Plot(label="Top-k fillers per mask", elem_id="topk-plot", show_label=False)
        with gr.Row():
            targets = gr.Textbox(
                label="How likely is THIS word here?",
                placeholder="capital, city  (comma-separated words, scored at every mask; Enter runs)",
                elem_id="targets-input",
                scale=4,
            )
        targets_table = gr.HTML(elem_id="targets-table")
        with gr.Accordion("Table", open=False):
            table = gr.HTML(elem_id="topk-table")
        frame.footer()
        build_joint_panel(page)
    gr.Markdown("To save a chart as PNG, use the camera button in its toolbar (top right of the chart).",
                elem_classes=["muted"])

    def run(text: str, model_name: str, top_k: float, target_words: str) -> dict:
        model = load_model_for(page, model_name)
        result = page.state.analysis(model, text, int(top_k), parse_words(target_words)).fill_mask
        return {
            filled: render_filled_sentence(result),
            plot: plot_with_png_button(plot_topk(result), "mlm-explorer-predict"),
            targets_table: render_targets_table(result),
            table: render_topk_table(result),
            page.model_info: render_model_info(model.info),
            frame.download: write_json_file(predict_document(model.info, [result]), "predict"),
            frame.link: frame.query(model_name, text, top_k=int(top_k), targets=(target_words or "").strip()),
        }

    results = [filled, plot, targets_table, table]
    shown = frame.shows(run, clears=results)
    inputs = [page.text, page.model, page.top_k, targets]
    outputs = [*results, *frame.outputs]
    for trigger in (page.run.click, page.text.submit, targets.submit):
        trigger(shown, inputs=inputs, outputs=outputs, api_visibility="private")
    # A new top-k redraws from the cached forward pass (no model runs again).
    page.top_k.release(shown, inputs=inputs, outputs=outputs, api_visibility="private", show_progress="minimal",
                       trigger_mode="always_last")
    return TabRun(shown, inputs, outputs), targets
