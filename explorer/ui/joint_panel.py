"""Joint filling in the Predict tab: the masks filled one at a time, beside the independent top-1s."""

from __future__ import annotations

import gradio as gr

from explorer.documents import joint_document
from explorer.figures.joint import render_joint_fill
from explorer.joint import MAX_BEAM, ORDERS
from explorer.ui.errors import shows_errors
from explorer.ui.export import write_json_file
from explorer.ui.layers_state import cached_joint
from explorer.ui.page import Page


def build_joint_panel(page: Page) -> None:
    """Add the joint-filling controls and result under the Predict tab's predictions."""
    with gr.Accordion("Fill the masks jointly (one at a time, each word seen by the next)", open=False,
                      elem_id="joint-panel"):
        with gr.Row(equal_height=True):
            order = gr.Radio(list(ORDERS), value="confidence", label="Order", elem_id="joint-order",
                             info="surest mask first, or left to right", scale=2)
            beam = gr.Slider(1, MAX_BEAM, value=1, step=1, label="Beam", info="1 = greedy", elem_id="joint-beam",
                             scale=2)
            button = gr.Button("Fill jointly", elem_id="joint-button", scale=1)
        result = gr.HTML(elem_id="joint-fill")
        download = gr.DownloadButton("Download JSON (joint)", visible=False, elem_id="joint-download")

    @shows_errors
    def run(text: str, model_name: str, order_name: str, width: float) -> tuple:
        model = page.state.model(model_name)
        joint = cached_joint(page.state, model, text, order_name, int(width))
        return (
            render_joint_fill(joint),
            gr.DownloadButton(value=write_json_file(joint_document(joint), "joint"), visible=True),
        )

    button.click(run, inputs=[page.text, page.model, order, beam], outputs=[result, download],
                 api_visibility="private")
