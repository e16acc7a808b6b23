"""Inside the compared models, side by side: where each one's mask looks, and what drove each one's prediction."""

from __future__ import annotations

import html
from collections.abc import Sequence

import gradio as gr

from explorer.attribution import DEFAULT_STEPS
from explorer.compare import MAX_MODELS
from explorer.figures.attention import plot_mask_attention
from explorer.figures.attribution import plot_attribution, render_attribution_tokens, render_completeness
from explorer.ui.export import plot_with_png_button
from explorer.ui.model_picker import check_model_names
from explorer.ui.page import Page, follow_masks, mask_choices
from explorer.ui.result_frame import ResultFrame, load_model_for


def build_side_by_side(page: Page, models: gr.Dropdown) -> None:
    """An accordion under the comparison: attention or attribution of every compared model for one mask."""
    with gr.Accordion("Look inside the compared models, side by side", open=False, elem_id="compare-inside"):
        with gr.Row(equal_height=True):
            mask = gr.Dropdown(choices=mask_choices(page.text.value), value=0, label="Mask",
                               elem_id="compare-inside-mask", scale=1)
            target = gr.Textbox(label="Target word for attribution", placeholder="empty: each model's own top-1",
                                elem_id="compare-inside-target", scale=2)
            attention_button = gr.Button("Attention side by side", elem_id="compare-attention-button", scale=1)
            attribution_button = gr.Button("Attribution side by side", elem_id="compare-attribution-button",
                                           scale=1)
        frame = ResultFrame.build(page, "compare-inside")  # an error said here, in place of the columns
        columns, titles, plots, details = [], [], [], []
        with gr.Row():
            for i in range(MAX_MODELS):
                with gr.Column(visible=False, min_width=240, elem_classes=["inside-column"]) as column:
                    titles.append(gr.HTML(elem_id=f"compare-inside-title-{i}"))
                    plots.append(gr.Plot(show_label=False, elem_id=f"compare-inside-plot-{i}"))
                    details.append(gr.HTML(elem_id=f"compare-inside-html-{i}"))
                columns.append(column)
    follow_masks(page.text, mask)

    def fill(names: Sequence[str], figures: list, htmls: list[str]) -> dict:
        shown = len(names)
        updates: dict = {}
        for i in range(MAX_MODELS):
            updates[columns[i]] = gr.Column(visible=i < shown)
            updates[titles[i]] = f"<h4>{html.escape(names[i])}</h4>" if i < shown else ""
            updates[plots[i]] = figures[i] if i < shown else None
            updates[details[i]] = htmls[i] if i < shown else ""
        return updates

    def attention_side_by_side(text: str, model_names: list[str]) -> dict:
        names = check_model_names(model_names)
        figures, notes = [], []
        for name in names:
            model = load_model_for(page, name)
            maps = page.state.attention(model, text)  # refused past the server's attention bound
            figures.append(plot_with_png_button(plot_mask_attention(maps), f"mlm-explorer-mask-attention-{name}"))
            notes.append(f"<div class='muted'>{maps.layers} layers × {maps.heads} heads, "
                         f"{len(maps.tokens)} tokens</div>")
        return fill(names, figures, notes)

    def attribution_side_by_side(text: str, model_names: list[str], mask_index: int | None, target_word: str,
                    progress: gr.Progress = gr.Progress()) -> dict:  # noqa: B008
        names = check_model_names(model_names)
        figures, notes = [], []
        for number, name in enumerate(names):
            model = load_model_for(page, name)

            def report(fraction: float, number: int = number, name: str = name) -> None:
                progress((number + fraction) / len(names), desc=f"Attributing with {name}")

            result = page.state.attribution(model, text, int(mask_index or 0), target_word or "", "", "ig",
                                            DEFAULT_STEPS, progress=report)
            figures.append(plot_with_png_button(plot_attribution(result), f"mlm-explorer-attribution-{name}"))
            notes.append(render_attribution_tokens(result) + render_completeness(result))
        return fill(names, figures, notes)

    results = [*columns, *titles, *plots, *details]
    outputs = [*results, *frame.outputs]
    attention_button.click(frame.shows(attention_side_by_side, clears=results), inputs=[page.text, models],
                           outputs=outputs, api_visibility="private")
    attribution_button.click(frame.shows(attribution_side_by_side, clears=results),
                             inputs=[page.text, models, mask, target], outputs=outputs, api_visibility="private")
