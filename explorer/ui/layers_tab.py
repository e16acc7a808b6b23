"""The Layers tab: the prediction layer by layer (logit lens), each head's effect on it, and heads switched off."""

from __future__ import annotations

from collections.abc import Sequence

import gradio as gr

from explorer.documents import ablation_document, head_effects_document, layers_document
from explorer.encoding import parse_words
from explorer.figures.joint import render_ablation_table
from explorer.figures.layers import plot_head_effects, plot_layer_lens
from explorer.ui.export import plot_with_png_button, write_json_file
from explorer.ui.layers_state import cached_ablation, cached_effects, cached_layers
from explorer.ui.model_picker import render_model_info
from explorer.ui.page import Page, TabRun, follow_masks, mask_choices
from explorer.ui.result_frame import ResultFrame, load_model_for


def build_layers_tab(page: Page, head_choice: tuple[gr.Slider, gr.Slider] | None = None) -> TabRun:
    """Add the Layers tab's widgets; its button (or a shared link) computes from the page's current sentence.

    Args:
        page: the shared inputs.
        head_choice: the Attention tab's (layer, head) sliders, so a head looked at there can be switched off here.
    Returns:
        The tab's computation (lens and head effects).
    """
    with gr.Column(elem_id="layers-view"):
        with gr.Row(equal_height=True):
            mask = gr.Dropdown(choices=mask_choices(page.text.value), value=0, label="Mask", elem_id="layers-mask",
                               scale=1)
            target = gr.Textbox(label="Word whose heads to find", placeholder="empty: the top-1 prediction",
                                elem_id="layers-target", scale=2)
            mode = gr.Radio(["zero", "mean"], value="zero", label="Remove a head by setting its output to",
                            info="zero, or its mean over this sentence", elem_id="layers-mode", scale=2)
            button = gr.Button("Show layers", variant="primary", elem_id="layers-button", scale=1)
        gr.Markdown("What the model's own MLM head would predict from each layer's hidden state at the mask "
                    "(0 = the embeddings), and how much each attention head matters for the word.",
                    elem_classes=["muted"])
        frame = ResultFrame.build(page, "layers", settings={"mask": mask, "target": target, "mode": mode})
        lens_plot = gr.Plot(elem_id="layers-lens", show_label=False)
        effects_plot = gr.Plot(elem_id="head-effects", show_label=False)
        frame.footer()  # Download JSON (layers), link, copy button
        effects_download = gr.DownloadButton("Download JSON (head effects)", visible=False,
                                             elem_id="head-effects-download")
        with gr.Row(equal_height=True):
            heads = gr.Textbox(label="Heads to switch off", placeholder="2:5, 3:7  (layer:head from 0; 3:* = all of "
                               "layer 3)", elem_id="ablate-heads", scale=4)
            if head_choice is not None:
                add_head = gr.Button("Add the Attention tab's head", elem_id="ablate-add-head", scale=1)
            ablate_button = gr.Button("Switch off", elem_id="ablate-button", scale=1)
        ablate_frame = ResultFrame.build(page, "ablate")  # an error said here, in place of the ablation
        ablation = gr.HTML(elem_id="ablation-view")
        ablate_frame.footer("Download JSON (ablation)", link=False)
    follow_masks(page.text, mask)

    def run(text: str, model_name: str, top_k: float, mask_index: int | None, word: str, how: str) -> dict:
        model = load_model_for(page, model_name)
        chosen = int(mask_index or 0)
        lens = cached_layers(page.state, model, text, int(top_k))
        chosen = min(chosen, len(lens.masks) - 1)
        effects = cached_effects(page.state, model, text, chosen, word or "", how)
        return {
            lens_plot: plot_with_png_button(plot_layer_lens(lens, chosen), "mlm-explorer-layers"),
            effects_plot: plot_with_png_button(plot_head_effects(effects), "mlm-explorer-head-effects"),
            frame.download: write_json_file(layers_document(lens), "layers"),
            effects_download: gr.DownloadButton(value=write_json_file(head_effects_document(effects), "head-effects"),
                                                visible=True),
            frame.link: frame.query(model_name, text, top_k=int(top_k), mask=chosen, target=(word or "").strip(),
                                    mode=how),
            page.model_info: render_model_info(model.info),
        }

    def switch_off(text: str, model_name: str, top_k: float, spec: str, how: str) -> dict:
        model = load_model_for(page, model_name)
        result = cached_ablation(page.state, model, text, spec or "", how, int(top_k))
        plain = page.state.analysis(model, text, int(top_k)).fill_mask
        removed = ", ".join(f"{layer}:{head}" for layer, head in result.ablated) or "none"
        note = f"<div class='muted'>Heads switched off ({result.mode}): {removed}</div>"
        return {
            ablation: note + render_ablation_table(result.fill_mask, plain),
            ablate_frame.download: write_json_file(ablation_document(model.info, result), "ablation"),
        }

    inputs = [page.text, page.model, page.top_k, mask, target, mode]
    results = [lens_plot, effects_plot, effects_download]
    outputs = [*results, *frame.outputs]
    run = frame.shows(run, clears=results)
    button.click(run, inputs=inputs, outputs=outputs, api_visibility="private")
    switched_off = ablate_frame.shows(switch_off, clears=[ablation])
    for trigger in (ablate_button.click, heads.submit):
        trigger(switched_off, inputs=[page.text, page.model, page.top_k, heads, mode],
                outputs=[ablation, *ablate_frame.outputs], api_visibility="private")
    if head_choice is not None:
        def add(current: str, layer: float, head: float) -> str:
            item = f"{int(layer)}:{int(head)}"
            items = list(parse_words(current))
            return ", ".join(items if item in items else [*items, item])

        add_head.click(add, inputs=[heads, *head_choice], outputs=heads, queue=False, api_visibility="private")
    return TabRun(run, inputs, outputs)


def components_by_id(components: Sequence[gr.components.Component], *elem_ids: str) -> tuple | None:
    """The components with these elem_ids, in that order, or None when one is missing (the layout changed)."""
    by_id = {getattr(c, "elem_id", None): c for c in components}
    found = tuple(by_id.get(elem_id) for elem_id in elem_ids)
    return None if any(c is None for c in found) else found
