"""The Attribution tab: which input tokens made the model choose a word at a mask (integrated gradients and more)."""

from __future__ import annotations

import gradio as gr

from explorer.attribution import DEFAULT_STEPS, METHOD_NAMES, METHODS
from explorer.documents import attribution_document
from explorer.figures.attribution import plot_attribution, render_attribution_tokens, render_completeness
from explorer.ui.errors import shows_errors
from explorer.ui.export import plot_with_png_button, write_json_file
from explorer.ui.model_picker import render_model_info
from explorer.ui.page import Page, TabRun, follow_masks, mask_choices
from explorer.ui.state import MAX_REQUEST_STEPS


def build_attribution_tab(page: Page) -> TabRun:
    """Add the Attribution tab's controls (mask, target, contrast, method, steps) and outputs."""
    with gr.Column(elem_id="attribution-view"):
        with gr.Row():
            mask = gr.Dropdown(choices=mask_choices(page.text.value), value=0, label="Mask",
                               elem_id="attribution-mask", scale=1)
            target = gr.Textbox(label="Target word", placeholder="empty: the top-1 prediction",
                                elem_id="attribution-target", scale=2)
            contrast = gr.Textbox(label="Contrast word (optional)",
                                  placeholder="explain logit(target) − logit(contrast)",
                                  elem_id="attribution-contrast", scale=2)
        with gr.Row():
            method = gr.Radio([(METHOD_NAMES[m], m) for m in METHODS], value="ig", label="Method",
                              elem_id="attribution-method", scale=2)
            steps = gr.Slider(4, MAX_REQUEST_STEPS, value=DEFAULT_STEPS, step=1, label="Integration steps",
                              info="integrated gradients only; more steps, smaller delta", elem_id="attribution-steps",
                              scale=2)
            button = gr.Button("Explain", variant="primary", elem_id="attribution-button", scale=1)
        tokens = gr.HTML(elem_id="attribution-tokens")
        plot = gr.Plot(elem_id="attribution-plot", show_label=False)
        check = gr.HTML(elem_id="attribution-delta")
        download = gr.DownloadButton("Download JSON", visible=False, elem_id="attribution-download")
    follow_masks(page.text, mask)

    @shows_errors
    def run(text: str, model_name: str, mask_index: int | None, target_word: str, contrast_word: str,
            method_name: str, step_count: float, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
        model = page.state.model(model_name)
        progress(0.0, desc="Attributing")
        result = page.state.attribution(
            model, text, int(mask_index or 0), target_word or "", contrast_word or "", method_name,
            int(step_count), progress=lambda fraction: progress(fraction, desc="Attributing"),
        )
        return (
            render_attribution_tokens(result),
            plot_with_png_button(plot_attribution(result), "mlm-explorer-attribution"),
            render_completeness(result),
            gr.DownloadButton(value=write_json_file(attribution_document(result), "attribution"), visible=True),
            render_model_info(model.info),
        )

    inputs = [page.text, page.model, mask, target, contrast, method, steps]
    outputs = [tokens, plot, check, download, page.model_info]
    for trigger in (button.click, target.submit, contrast.submit):
        trigger(run, inputs=inputs, outputs=outputs, api_visibility="private")
    return TabRun(run, inputs, outputs)
