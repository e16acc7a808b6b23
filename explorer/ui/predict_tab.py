"""The Predict tab: top-k fillers of every mask."""

from __future__ import annotations

import html

import gradio as gr

from explorer.fill_mask import FillMaskResult, predict_masks
from explorer.models import load_model
from explorer.ui.errors import shows_errors


def render_predictions(result: FillMaskResult) -> str:
    """HTML table of the top-k per mask; every user-derived string escaped."""
    parts = [f"<p class='filled'>{html.escape(result.filled_text)}</p>"]
    for number, mask in enumerate(result.masks, start=1):
        rows = "".join(
            f"<tr><td>{rank}</td><td>{html.escape(p.token)}</td><td>{p.score:.4f}</td></tr>"
            for rank, p in enumerate(mask.predictions, start=1)
        )
        parts.append(
            f"<table class='topk'><caption>mask {number} (token {mask.position})</caption>"
            f"<tr><th>#</th><th>token</th><th>probability</th></tr>{rows}</table>"
        )
    return "".join(parts)


@shows_errors
def run_predict(text: str, model_name: str, top_k: float) -> str:
    model = load_model(model_name)
    return render_predictions(predict_masks(model, text, top_k=int(top_k)))


def build_predict_tab(text: gr.Textbox, model: gr.Textbox, top_k: gr.Slider, run: gr.Button) -> None:
    """Add the Predict tab's widgets and wire them to the shared inputs."""
    output = gr.HTML(elem_id="predictions")
    for trigger in (run.click, text.submit):
        trigger(run_predict, inputs=[text, model, top_k], outputs=output, api_name=False)
