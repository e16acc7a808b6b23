"""The Attribution tab: which input tokens made the model choose a word at a mask (integrated gradients and more)."""

from __future__ import annotations

import gradio as gr

from explorer.attribution import DEFAULT_STEPS, METHOD_NAMES, METHODS
from explorer.documents import attribution_document
from explorer.figures.attribution import plot_attribution, render_attribution_tokens, render_completeness
from explorer.ui.deadline import cancel_session, cancellable
from explorer.ui.export import plot_with_png_button, write_json_file
from explorer.ui.model_picker import render_model_info
from explorer.ui.page import Page, TabRun, follow_masks, mask_choices
from explorer.ui.result_frame import ResultFrame, load_model_for


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
            steps = gr.Slider(4, page.state.limits.max_steps, value=DEFAULT_STEPS, step=1, label="Integration steps",
                              info="integrated gradients only; more steps, smaller delta", elem_id="attribution-steps",
                              scale=2)
            button = gr.Button("Explain", variant="primary", elem_id="attribution-button", scale=1)
            stop = gr.Button("Stop", variant="stop", elem_id="attribution-stop", scale=0, min_width=80)
        frame = ResultFrame.build(page, "attribution", settings={
            "mask": mask, "target": target, "contrast": contrast, "method": method, "steps": steps})
        tokens = gr.HTML(elem_id="attribution-tokens")
        plot = gr.Plot(elem_id="attribution-plot", show_label=False)
        check = gr.HTML(elem_id="attribution-delta")
        frame.footer()
    follow_masks(page.text, mask)

    def run(text: str, model_name: str, mask_index: int | None, target_word: str, contrast_word: str,
            method_name: str, step_count: float, request: gr.Request = None,
            progress: gr.Progress = gr.Progress()) -> dict:  # noqa: B008
        model = load_model_for(page, model_name)
        progress(0.0, desc="Attributing")
        with cancellable(getattr(request, "session_hash", None)):  # the Stop button ends it between batches
            result = page.state.attribution(
                model, text, int(mask_index or 0), target_word or "", contrast_word or "", method_name,
                int(step_count), progress=lambda fraction: progress(fraction, desc="Attributing"),
            )
        return {
            tokens: render_attribution_tokens(result),
            plot: plot_with_png_button(plot_attribution(result), "mlm-explorer-attribution"),
            check: render_completeness(result),
            frame.download: write_json_file(attribution_document(result), "attribution"),
            frame.link: frame.query(model_name, text, mask=int(mask_index or 0), target=(target_word or "").strip(),
                                    contrast=(contrast_word or "").strip(), method=method_name,
                                    steps=int(step_count)),
            page.model_info: render_model_info(model.info),
        }

    results = [tokens, plot, check]
    shown = frame.shows(run, clears=results)
    inputs = [page.text, page.model, mask, target, contrast, method, steps]
    outputs = [*results, *frame.outputs]
    events = [trigger(shown, inputs=inputs, outputs=outputs, api_visibility="private")
              for trigger in (button.click, target.submit, contrast.submit)]

    def stop_attribution(request: gr.Request) -> None:
        cancel_session(getattr(request, "session_hash", None))

    stop.click(stop_attribution, queue=False, api_visibility="private", cancels=events)
    return TabRun(shown, inputs, outputs)
