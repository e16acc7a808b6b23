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
from explorer.ui.export import plot_with_png_button, write_json_file
from explorer.ui.model_picker import render_model_info
from explorer.ui.page import Page, TabRun
from explorer.ui.result_frame import ResultFrame, load_model_for

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
                        "head view: thicker = more attention; pick a layer and click heads' colours to toggle them. "
                        "Click a cell of “Where does the mask look?” to pick that layer and head.",
                        elem_classes=["muted"])
        layer = gr.Slider(0, 1, value=0, step=1, label="Layer", elem_id="attention-layer", render=False)
        head = gr.Slider(0, 1, value=0, step=1, label="Head", elem_id="attention-head-number", render=False)
        summary = gr.Radio(list(HEAD_SUMMARIES), value="entropy", label="Summary per head in the overview",
                           elem_id="attention-summary", render=False)
        frame = ResultFrame.build(page, "attention", settings={"layer": layer, "head": head, "summary": summary})
        head_view = gr.HTML(elem_id="head-view", label="Head view")
        with gr.Accordion("Model view: every head of every layer (click a thumbnail to enlarge)", open=False):
            model_view = gr.HTML(elem_id="model-view")
        # Two columns on a wide screen; below ~1000 px they stack (CSS .stack-narrow in explorer/ui/app.py).
        with gr.Row(elem_classes=["stack-narrow"]):
            with gr.Column(min_width=320):
                with gr.Row():
                    layer.render()
                    head.render()
                head_plot = gr.Plot(elem_id="attention-head", show_label=False)
            with gr.Column(min_width=320):
                mask_plot = gr.Plot(elem_id="attention-mask", show_label=False)
                # What a click on a cell of mask_plot picked ("layer,head"), written by CELL_JS
                picked = gr.HTML("", elem_id="attention-cell", js_on_load=CELL_JS, elem_classes=["cell-picker"])
        summary.render()
        overview_plot = gr.Plot(elem_id="attention-overview", show_label=False)
        with gr.Row(elem_classes=["stack-narrow"]):
            with gr.Column(min_width=320):
                rollout_plot = gr.Plot(elem_id="attention-rollout", show_label=False)
            with gr.Column(min_width=320):
                rollout_masks_plot = gr.Plot(elem_id="attention-rollout-masks", show_label=False)
        frame.footer()

    def maps_for(text: str, model_name: str) -> tuple[AttentionMaps, LoadedModel]:
        model = load_model_for(page, model_name)
        return page.state.attention(model, text), model  # refused past the server's attention bound

    def run(text: str, model_name: str, layer_value: float, head_value: float, summary_name: str) -> dict:
        maps, model = maps_for(text, model_name)
        chosen_layer = min(int(layer_value), maps.layers - 1)
        chosen_head = min(int(head_value), maps.heads - 1)
        rollout = attention_rollout(maps)
        if len(maps.tokens) <= MODEL_VIEW_MAX_TOKENS:
            model_view_value = model_view_html(maps)
        else:
            model_view_value = (f"<p class='muted'>The model view is drawn for texts of up to "
                                f"{MODEL_VIEW_MAX_TOKENS} tokens; this one has {len(maps.tokens)}.</p>")
        return {
            head_view: head_view_html(maps, layer=chosen_layer),
            model_view: model_view_value,
            layer: gr.Slider(maximum=maps.layers - 1, value=chosen_layer, interactive=maps.layers > 1),
            head: gr.Slider(maximum=maps.heads - 1, value=chosen_head, interactive=maps.heads > 1),
            head_plot: plot_with_png_button(plot_head(maps, chosen_layer, chosen_head), "mlm-explorer-head"),
            mask_plot: plot_with_png_button(plot_mask_attention(maps), "mlm-explorer-mask-attention"),
            overview_plot: plot_with_png_button(plot_heads_overview(maps, summary_name), "mlm-explorer-heads"),
            rollout_plot: plot_with_png_button(plot_rollout(rollout), "mlm-explorer-rollout"),
            rollout_masks_plot: plot_with_png_button(plot_rollout_masks(rollout), "mlm-explorer-rollout-masks"),
            frame.download: write_json_file(attention_document(maps, model.info), "attention"),
            frame.link: frame.query(model_name, text, layer=chosen_layer, head=chosen_head, summary=summary_name),
            page.model_info: render_model_info(model.info),
        }

    # Redraws of part of the result: a failure (the sentence changed to one without a mask, say) is said in place.
    def redraw_head(text: str, model_name: str, layer_value: float, head_value: float) -> dict:
        maps, _ = maps_for(text, model_name)
        return {head_plot: plot_with_png_button(
            plot_head(maps, min(int(layer_value), maps.layers - 1), min(int(head_value), maps.heads - 1)),
            "mlm-explorer-head",
        )}

    def pick_cell(text: str, model_name: str, cell: str) -> dict:
        """A click on (layer, head) in "Where does the mask look?": that head in the sliders, heatmap, head view."""
        maps, _ = maps_for(text, model_name)
        try:
            chosen_layer, chosen_head = (int(v) for v in (cell or "").split(","))
        except ValueError:
            return {}
        if not (0 <= chosen_layer < maps.layers and 0 <= chosen_head < maps.heads):
            return {}
        return {
            layer: chosen_layer,
            head: chosen_head,
            head_plot: plot_with_png_button(plot_head(maps, chosen_layer, chosen_head), "mlm-explorer-head"),
            head_view: head_view_html(maps, layer=chosen_layer, heads=[chosen_head]),
        }

    def redraw_overview(text: str, model_name: str, summary_name: str) -> dict:
        maps, _ = maps_for(text, model_name)
        return {overview_plot: plot_with_png_button(plot_heads_overview(maps, summary_name), "mlm-explorer-heads")}

    shared = [page.text, page.model]
    inputs = [*shared, layer, head, summary]
    results = [head_view, model_view, head_plot, mask_plot, overview_plot, rollout_plot, rollout_masks_plot]
    outputs = [*results, layer, head, *frame.outputs]
    shown = frame.shows(run, clears=results)
    button.click(shown, inputs=inputs, outputs=outputs, api_visibility="private")
    for slider in (layer, head):
        # Dragging or typing a number; "always_last" drops the values passed while the last one drew.
        slider.input(frame.shows(redraw_head, clears=results), inputs=[*shared, layer, head], outputs=outputs,
                     api_visibility="private", show_progress="minimal", show_progress_on=[head_plot],
                     trigger_mode="always_last")
    picked.change(frame.shows(pick_cell, clears=results), inputs=[*shared, picked], outputs=outputs,
                  api_visibility="private", show_progress="minimal", show_progress_on=[head_plot, head_view],
                  trigger_mode="always_last")
    summary.change(frame.shows(redraw_overview, clears=results), inputs=[*shared, summary], outputs=outputs,
                   api_visibility="private", show_progress="minimal", show_progress_on=[overview_plot])
    return TabRun(shown, inputs, outputs)


# Listens for clicks on the cells of "Where does the mask look?" (plotly's own event, so polled for the chart
# until it is drawn) and hands "layer,head" to the server through this component's value.
CELL_JS = """
const attach = () => {
  const chart = document.querySelector('#attention-mask .js-plotly-plot');
  if (chart && chart.on && !chart.dataset.cellPicker) {
    chart.dataset.cellPicker = '1';
    chart.on('plotly_click', (data) => {
      const point = data && data.points && data.points[0];
      if (!point || !point.text) return;
      const found = /layer (\\d+), head (\\d+)/.exec(point.text);
      if (!found) return;
      props.value = found[1] + ',' + found[2];
      trigger('change');
    });
  }
};
setInterval(attach, 700);
"""
