"""Assembling the web app and serving it."""

from __future__ import annotations

import argparse
import os

import gradio as gr

from explorer.bundled import default_model
from explorer.ui.predict_tab import build_predict_tab

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
EXAMPLES = (
    "Paris is the [MASK] of France.",
    "The cat sat on the [MASK].",
    "She poured a cup of [MASK] and sat down to read.",
)


def build_demo(model_name: str | None = None) -> gr.Blocks:
    """The whole page: shared inputs on top, one tab per view."""
    with gr.Blocks(title="MLM Explorer") as demo:
        gr.Markdown("# MLM Explorer\nType a sentence with `[MASK]` and see what the model would put there.")
        with gr.Row():
            model = gr.Textbox(value=model_name or default_model(), label="Model", elem_id="model-picker")
            top_k = gr.Slider(1, 50, value=5, step=1, label="Top-k")
        text = gr.Textbox(value=EXAMPLES[0], label="Sentence", elem_id="text-input")
        gr.Examples(examples=[[e] for e in EXAMPLES], inputs=[text])
        run = gr.Button("Run", variant="primary", elem_id="run-button")
        with gr.Tab("Predict"):
            build_predict_tab(text, model, top_k, run)
    return demo


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """--host, --port, --share and --model for `mlm-explorer serve` and `python app.py`."""
    parser.add_argument("--host", default=None, help=f"address to bind (default $GRADIO_SERVER_NAME or {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=None,
                        help=f"port (default $GRADIO_SERVER_PORT or {DEFAULT_PORT})")
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link")
    parser.add_argument("--model", default=None, help="model selected when the page opens")


def serve(args: argparse.Namespace) -> None:
    """Start the app and block until interrupted."""
    host = args.host or os.environ.get("GRADIO_SERVER_NAME") or DEFAULT_HOST
    port = args.port or int(os.environ.get("GRADIO_SERVER_PORT") or DEFAULT_PORT)
    demo = build_demo(args.model)
    demo.queue(default_concurrency_limit=4)
    demo.launch(server_name=host, server_port=port, share=args.share)
