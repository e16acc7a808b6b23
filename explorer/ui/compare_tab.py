"""The Compare tab: 2 to 4 models on the same sentence, side by side, with how far they agree."""

from __future__ import annotations

import gradio as gr

from explorer.compare import MAX_MODELS, MIN_MODELS
from explorer.documents import compare_document
from explorer.figures.compare import plot_compare, render_agreement, render_compare_columns, render_tokenisations
from explorer.ui.export import plot_with_png_button, write_json_file
from explorer.ui.model_picker import check_model_names, default_compare_models, model_choices
from explorer.ui.page import Page, TabRun
from explorer.ui.result_frame import ResultFrame, load_model_for
from explorer.ui.side_by_side import build_side_by_side


def build_compare_tab(page: Page) -> tuple[TabRun, gr.Dropdown]:
    """Add the Compare tab: its own model choice (two bundled models when the page opens) and the comparison.

    Returns:
        The tab's computation and its model choice (a shared link can set it).
    """
    with gr.Column(elem_id="compare-view"):
        with gr.Row(equal_height=True):
            models = gr.Dropdown(
                choices=model_choices(), value=default_compare_models(), multiselect=True, max_choices=MAX_MODELS,
                allow_custom_value=True, label=f"Models to compare ({MIN_MODELS} to {MAX_MODELS})",
                info="The mask is written once ([MASK]) and mapped to each model's own mask token.",
                elem_id="compare-models", scale=4,
            )
            button = gr.Button("Compare", variant="primary", elem_id="compare-button", scale=1)
        frame = ResultFrame.build(page, "compare")
        columns = gr.HTML(elem_id="compare-columns")
        agreement = gr.HTML(elem_id="compare-agreement")
        with gr.Accordion("How each model tokenised the sentence", open=True):
            tokenisation = gr.HTML(elem_id="compare-tokens")
        with gr.Accordion("Bar charts side by side", open=False):
            plot = gr.Plot(elem_id="compare-plot", show_label=False)
        frame.footer()
        build_side_by_side(page, models)

    def run(text: str, model_names: list[str], top_k: float) -> dict:
        names = check_model_names(model_names)
        page.state.limits.check_request(text=text, top_k=int(top_k), models=names)
        loaded = [load_model_for(page, name) for name in names]
        comparison = page.state.comparison(loaded, text, int(top_k))  # from the cached passes
        return {
            columns: render_compare_columns(comparison),
            agreement: render_agreement(comparison),
            tokenisation: render_tokenisations(comparison),
            plot: plot_with_png_button(plot_compare(comparison), "mlm-explorer-compare"),
            frame.download: write_json_file(compare_document(comparison), "compare"),
            frame.link: frame.query(names[0], text, top_k=int(top_k), models=",".join(names)),
        }

    results = [columns, agreement, tokenisation, plot]
    shown = frame.shows(run, clears=results)
    inputs = [page.text, models, page.top_k]
    outputs = [*results, *frame.outputs]
    button.click(shown, inputs=inputs, outputs=outputs, api_visibility="private")
    # A new top-k redraws a comparison on show from the cached passes (no model runs again); none on show, none drawn.
    page.top_k.release(frame.redraws(run, clears=results), inputs=[frame.has_result, *inputs], outputs=outputs,
                       api_visibility="private", show_progress="minimal", trigger_mode="always_last")
    return TabRun(shown, inputs, outputs), models
