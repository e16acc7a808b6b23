"""Joint filling in the Predict tab: the masks filled one at a time, beside the independent top-1s."""

from __future__ import annotations

import gradio as gr

from explorer.documents import joint_document
from explorer.figures.joint import render_joint_fill
from explorer.joint import MAX_BEAM, ORDERS
from explorer.ui.export import write_json_file
from explorer.ui.layers_state import cached_joint
from explorer.ui.page import Page
from explorer.ui.result_frame import ResultFrame, load_model_for


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
        frame = ResultFrame.build(page, "joint")  # an error said here, in place of the joint filling
        result = gr.HTML(elem_id="joint-fill")
        frame.footer("Download JSON (joint)", link=False)

    def run(text: str, model_name: str, order_name: str, width: float) -> dict:
        model = load_model_for(page, model_name)
        joint = cached_joint(page.state, model, text, order_name, int(width))
        return {
            result: render_joint_fill(joint),
            frame.download: write_json_file(joint_document(joint), "joint"),
        }

    button.click(frame.shows(run, clears=[result]), inputs=[page.text, page.model, order, beam],
                 outputs=[result, *frame.outputs], api_visibility="private")
