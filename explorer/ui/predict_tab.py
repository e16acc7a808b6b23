"""The Predict tab: the top-k fillers of every mask as bars, the filled-in sentence, and target words' scores."""

from __future__ import annotations

import gradio as gr

from explorer.documents import predict_document
from explorer.encoding import parse_words
from explorer.figures.predictions import plot_topk, render_filled_sentence, render_targets_table, render_topk_table
from explorer.ui.errors import shows_errors
from explorer.ui.export import plot_with_png_button, write_json_file
from explorer.ui.joint_panel import build_joint_panel
from explorer.ui.model_picker import render_model_info
from explorer.ui.page import Page, TabRun
from explorer.ui.share import build_share_query, render_share_link


def build_predict_tab(page: Page) -> tuple[TabRun, gr.Textbox]:
    """Add the Predict tab's widgets and wire them to the shared inputs.

    Returns:
        The tab's computation (the page reruns it when a shared link opens) and its targets box.
    """
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
            download = gr.DownloadButton("Download JSON", visible=False, elem_id="predict-download", scale=1)
        targets_table = gr.HTML(elem_id="targets-table")
        with gr.Accordion("Table", open=False):
            table = gr.HTML(elem_id="topk-table")
        share = gr.HTML(elem_id="predict-share")
        build_joint_panel(page)
    gr.Markdown("To save a chart as PNG, use the camera button in its toolbar (top right of the chart).",
                elem_classes=["muted"])

    @shows_errors
    def run(text: str, model_name: str, top_k: float, target_words: str) -> tuple:
        model = page.state.model(model_name)
        result = page.state.analysis(model, text, int(top_k), parse_words(target_words)).fill_mask
        query = build_share_query(model_name, text, int(top_k), target_words or "")
        return (
            render_filled_sentence(result),
            plot_with_png_button(plot_topk(result), "mlm-explorer-predict"),
            render_targets_table(result),
            render_topk_table(result),
            render_model_info(model.info),
            gr.DownloadButton(value=write_json_file(predict_document(model.info, [result]), "predict"), visible=True),
            render_share_link(query),
        )

    inputs = [page.text, page.model, page.top_k, targets]
    outputs = [filled, plot, targets_table, table, page.model_info, download, share]
    for trigger in (page.run.click, page.text.submit, targets.submit):
        trigger(run, inputs=inputs, outputs=outputs, api_visibility="private")
    return TabRun(run, inputs, outputs), targets
