"""The Attention tab: bertviz's head and model views (offline), one head's heatmap, all heads, and rollout."""

from __future__ import annotations

import gradio as gr

from explorer.attention import HEAD_SUMMARIES, AttentionMaps
from explorer.documents import attention_document
from explorer.figures.attention import (
    plot_head,
    plot_heads_overview,
    plot_mask_attention,
    plot_rollout,
    plot_rollout_masks,
)
from explorer.figures.bertviz_view import head_view_html, model_view_html
from explorer.models import LoadedModel
from explorer.rollout import attention_rollout
from explorer.ui.errors import shows_errors
from explorer.ui.export import plot_with_png_button, write_json_file
from explorer.ui.model_picker import render_model_info
from explorer.ui.page import Page, TabRun

# Above this many tokens the model view (every head of every layer as a thumbnail) is too large to be useful.
MODEL_VIEW_MAX_TOKENS = 64


def build_attention_tab(page: Page) -> TabRun:
    """Add the Attention tab's widgets; its button (or a shared link) computes from the page's current sentence.

    The attention weights come from the same cached forward pass as the Predict tab's predictions.
    """
    with gr.Column(elem_id="attention-view"):
        with gr.Row():
            button = gr.Button("Show attention", variant="primary", elem_id="attention-button", scale=1)
            gr.Markdown("Every head of every layer, from the same forward pass as the predictions. Lines in the "
                        "head view: thicker = more attention; pick a layer and click heads' colours to toggle them.",
                        elem_classes=["muted"])
        head_view = gr.HTML(elem_id="head-view", label="Head view")
        with gr.Accordion("Model view: every head of every layer (click a thumbnail to enlarge)", open=False):
            model_view = gr.HTML(elem_id="model-view")
        with gr.Row():
            with gr.Column():
                with gr.Row():
                    layer = gr.Slider(0, 1, value=0, step=1, label="Layer", elem_id="attention-layer")
                    head = gr.Slider(0, 1, value=0, step=1, label="Head", elem_id="attention-head-number")
                head_plot = gr.Plot(elem_id="attention-head", show_label=False)
            mask_plot = gr.Plot(elem_id="attention-mask", show_label=False)
        summary = gr.Radio(list(HEAD_SUMMARIES), value="entropy", label="Summary per head in the overview",
                           elem_id="attention-summary")
        overview_plot = gr.Plot(elem_id="attention-overview", show_label=False)
        with gr.Row():
            rollout_plot = gr.Plot(elem_id="attention-rollout", show_label=False)
            rollout_masks_plot = gr.Plot(elem_id="attention-rollout-masks", show_label=False)
        download = gr.DownloadButton("Download JSON", visible=False, elem_id="attention-download")

    def maps_for(text: str, model_name: str) -> tuple[AttentionMaps, LoadedModel]:
        model = page.state.model(model_name)
        return page.state.text_pass(model, text).attention, model

    @shows_errors
    def run(text: str, model_name: str, layer_value: float, head_value: float, summary_name: str) -> tuple:
        maps, model = maps_for(text, model_name)
        chosen_layer = min(int(layer_value), maps.layers - 1)
        chosen_head = min(int(head_value), maps.heads - 1)
        rollout = attention_rollout(maps)
        if len(maps.tokens) <= MODEL_VIEW_MAX_TOKENS:
            model_view_value = model_view_html(maps)
        else:
            model_view_value = (f"<p class='muted'>The model view is drawn for texts of up to "
                                f"{MODEL_VIEW_MAX_TOKENS} tokens; this one has {len(maps.tokens)}.</p>")
        return (
            head_view_html(maps, layer=chosen_layer),
            model_view_value,
            gr.Slider(maximum=maps.layers - 1, value=chosen_layer, interactive=maps.layers > 1),
            gr.Slider(maximum=maps.heads - 1, value=chosen_head, interactive=maps.heads > 1),
            plot_with_png_button(plot_head(maps, chosen_layer, chosen_head), "mlm-explorer-head"),
            plot_with_png_button(plot_mask_attention(maps), "mlm-explorer-mask-attention"),
            plot_with_png_button(plot_heads_overview(maps, summary_name), "mlm-explorer-heads"),
            plot_with_png_button(plot_rollout(rollout), "mlm-explorer-rollout"),
            plot_with_png_button(plot_rollout_masks(rollout), "mlm-explorer-rollout-masks"),
            gr.DownloadButton(value=write_json_file(attention_document(maps, model.info), "attention"), visible=True),
            render_model_info(model.info),
        )

    @shows_errors
    def redraw_head(text: str, model_name: str, layer_value: float, head_value: float) -> object:
        maps, _ = maps_for(text, model_name)
        return plot_with_png_button(
            plot_head(maps, min(int(layer_value), maps.layers - 1), min(int(head_value), maps.heads - 1)),
            "mlm-explorer-head",
        )

    @shows_errors
    def redraw_overview(text: str, model_name: str, summary_name: str) -> object:
        maps, _ = maps_for(text, model_name)
        return plot_with_png_button(plot_heads_overview(maps, summary_name), "mlm-explorer-heads")

    shared = [page.text, page.model]
    inputs = [*shared, layer, head, summary]
    outputs = [head_view, model_view, layer, head, head_plot, mask_plot, overview_plot, rollout_plot,
               rollout_masks_plot, download, page.model_info]
    button.click(run, inputs=inputs, outputs=outputs, api_visibility="private")
    for slider in (layer, head):
        # Dragging or typing a number; "always_last" drops the values passed while the last one drew.
        slider.input(redraw_head, inputs=[*shared, layer, head], outputs=head_plot, api_visibility="private",
                     show_progress="minimal", trigger_mode="always_last")
    summary.change(redraw_overview, inputs=[*shared, summary], outputs=overview_plot, api_visibility="private",
                   show_progress="minimal")
    return TabRun(run, inputs, outputs)
