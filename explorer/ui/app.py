"""Assembling the web app and serving it: shared inputs on top, one tab per view, the API under stable names."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from explorer.bundled import default_model
from explorer.errors import ExplorerError
from explorer.ui.api import build_api
from explorer.ui.attention_tab import build_attention_tab
from explorer.ui.attribution_tab import build_attribution_tab
from explorer.ui.compare_tab import build_compare_tab
from explorer.ui.errors import configure as configure_requests
from explorer.ui.errors import hide_paths
from explorer.ui.layers_tab import build_layers_tab, components_by_id
from explorer.ui.model_picker import build_model_picker, render_model_info, render_model_problem
from explorer.ui.options import DELETE_CACHE, ServeOptions, startup_message
from explorer.ui.page import DEFAULT_TOP_K, MAX_TOP_K, Page
from explorer.ui.predict_tab import build_predict_tab
from explorer.ui.request_log import configure_logging
from explorer.ui.result_frame import apply_links
from explorer.ui.score_tab import build_score_tab
from explorer.ui.share import SharedQuery, read_query
from explorer.ui.state import AppState

# Uploads the server accepts at most (bytes): none, since no widget takes a file.
MAX_UPLOAD_BYTES = 0

EXAMPLES = (
    "Paris is the [MASK] of France.",
    "The cat sat on the [MASK].",
    "She poured a cup of [MASK] and sat down to read.",
    "The doctor said that [MASK] would be back soon.",
    "The [MASK] was cold and the [MASK] was hot.",
)

# System fonts only: the page loads no font (nor anything else) from another host.
THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
)

CSS = """
.muted { color: var(--body-text-color-subdued); font-size: 0.9em; }
.model-info { font-size: 0.92em; padding: 2px 4px; }
.filled-sentence { font-size: 1.25em; padding: 8px 4px; }
.filled-sentence mark.fill { background: #ffe8cc; color: #a33b00; padding: 0 4px; border-radius: 4px;
                             font-weight: 600; }
table.topk, table.targets, table.matrix, table.cross { border-collapse: collapse; margin: 6px 12px 6px 0; }
table.topk td, table.topk th, table.targets td, table.targets th, table.matrix td, table.matrix th,
table.cross td, table.cross th { border: 1px solid var(--border-color-primary); padding: 2px 8px; }
table.joint tr.differs td { background: #ffe8cc; }
.topk-tables { display: flex; flex-wrap: wrap; }
.compare-columns { display: flex; gap: 12px; flex-wrap: wrap; }
.compare-column { flex: 1 1 220px; border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px; }
.compare-column h4 { margin: 0; word-break: break-all; }
.compare-mask-title { font-weight: 600; margin-top: 6px; }
ol.compare-topk { margin: 4px 0; padding-left: 22px; }
/* a fixed bar track: the same pixels per percent in every compared model's column */
ol.compare-topk li { display: grid; grid-template-columns: minmax(60px, 1fr) 120px 4.5em; gap: 6px;
                     align-items: center; }
ol.compare-topk li.shared .word { color: #2f9e44; font-weight: 600; }
.bar-track { background: var(--background-fill-secondary); height: 10px; border-radius: 3px; }
.bar-track .bar { display: block; height: 10px; border-radius: 3px; }
.prob { text-align: right; font-variant-numeric: tabular-nums; }
.agreement-tables { display: flex; flex-wrap: wrap; }
.tokenisation { margin: 4px 0; }
.tokenisation-model { font-weight: 600; }
.chip { display: inline-block; border: 1px solid var(--border-color-primary); border-radius: 4px; padding: 0 4px;
        margin: 2px; font-family: var(--font-mono); font-size: 0.9em; white-space: pre; }
.chip.mask { background: #ffe8cc; }
.share-link { margin-top: 6px; }
.share-link .copy-link { margin-left: 8px; padding: 1px 8px; border: 1px solid var(--border-color-primary);
                         border-radius: 4px; background: var(--background-fill-secondary); cursor: pointer; }
.result-footer { align-items: center; }
.result-footer button { white-space: nowrap; }
.result-error { border-left: 4px solid #e8590c; background: #fff4e6; color: #212529; padding: 8px 12px;
                margin: 6px 0; border-radius: 4px; }
.cell-picker { display: none !important; }
/* Two columns of charts side by side on a wide screen, one above the other below ~1000 px */
@media (max-width: 1000px) {
  .stack-narrow { flex-direction: column !important; }
  .stack-narrow > div { width: 100% !important; min-width: 0 !important; }
}
table.scores { border-collapse: collapse; margin: 6px 0; }
table.scores td, table.scores th { border: 1px solid var(--border-color-primary); padding: 2px 8px; }
.chip.differs { border: 2px solid #e8590c; font-weight: 700; }
.score-verdict { font-weight: 600; margin: 4px 0; }
"""

INTRO = (
    "# MLM Explorer\n"
    "Type a sentence with `[MASK]` and look inside a masked language model: what it would put there (**Predict**), "
    "where every attention head looks (**Attention**), which words drove a prediction (**Attribution**), and how "
    "several models differ (**Compare**); how a prediction forms layer by layer and which heads it needs (**Layers**); "
    "and how likely whole sentences and minimal pairs are (**Score**)."
)


def build_demo(model_name: str | None = None, allow_local: Sequence[str | Path] = (), *,
               options: ServeOptions | None = None) -> gr.Blocks:
    """The whole page: model, sentence and top-k on top, then Predict, Attention, Attribution and Compare tabs.

    Args:
        model_name: the model selected when the page opens (default: the first bundled model).
        allow_local: folders inside which the page may open local models (none by default).
        options: the serve options (limits, --models, --no-hub); they override `model_name` and `allow_local`.
    Returns:
        The Gradio app; start it with `launch`.
    """
    if options is not None:
        model_name, allow_local = options.model or model_name, options.allow_local
        state = AppState.create(allow_local, limits=options.limits, models=options.models, hub=options.hub)
    else:
        state = AppState.create(allow_local)
    # delete_cache: Gradio's own copies of downloads are pruned hourly (and all removed at restart).
    with gr.Blocks(title="MLM Explorer", analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        demo.explorer_state = state  # for `launch` (warming the default model)
        build_api(state)  # first, so the API's names are never taken by the page's own events
        gr.Markdown(INTRO)
        with gr.Row(equal_height=True):
            model = build_model_picker(model_name or default_model(), state.models, state.hub)
            top_k = gr.Slider(1, MAX_TOP_K, value=DEFAULT_TOP_K, step=1, label="Top-k", info="fillers per mask",
                              scale=1, elem_id="top-k")
        model_info = gr.HTML(elem_id="model-info")
        with gr.Row(equal_height=True):
            text = gr.Textbox(
                value=EXAMPLES[0], label="Sentence", elem_id="text-input", scale=5, max_lines=4,
                info="Write the mask as [MASK] (or <mask>); several masks are fine. Enter runs.",
            )
            run = gr.Button("Run", variant="primary", elem_id="run-button", scale=1)
        examples = gr.Examples(examples=[[e] for e in EXAMPLES], inputs=[text], label="Examples (click to run)",
                               api_visibility="private")
        page = Page(state=state, model=model, text=text, top_k=top_k, run=run, model_info=model_info)
        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab("Predict", id="predict", elem_id="tab-predict"):
                predict, targets = build_predict_tab(page)
            with gr.Tab("Attention", id="attention", elem_id="tab-attention"):
                attention = build_attention_tab(page)
            with gr.Tab("Attribution", id="attribution", elem_id="tab-attribution"):
                attribution = build_attribution_tab(page)
            with gr.Tab("Compare", id="compare", elem_id="tab-compare"):
                compare, compare_models = build_compare_tab(page)
            with gr.Tab("Layers", id="layers", elem_id="tab-layers"):
                layers = build_layers_tab(page, head_choice=components_by_id(
                    attention.inputs, "attention-layer", "attention-head-number"))
            with gr.Tab("Score", id="score", elem_id="tab-score"):
                score = build_score_tab(page)
        gr.Markdown(
            "Runs locally; nothing leaves this machine. The same computations are scriptable: see *Use via API* "
            "below, or `mlm-explorer --help`.",
            elem_classes=["muted"],
        )
        examples.load_input_event.then(predict.fn, inputs=predict.inputs, outputs=predict.outputs,
                                       api_visibility="private")

        def show_model_quietly(name: str) -> str:
            # When the page opens: a model that cannot load is said in place, not as a pop-up error.
            try:
                return render_model_info(state.model(name).info)
            except ExplorerError as error:
                return render_model_problem(str(error))

        # Said in the model line, not as a pop-up (a tab that then fails says it in place too).
        model.change(show_model_quietly, inputs=model, outputs=model_info, api_visibility="private",
                     trigger_mode="always_last")

        # A shared link (?model=...&text=...&view=...) fills the inputs, then runs Predict and the named tab.
        view = gr.State("predict")

        def open_link(request: gr.Request) -> tuple:
            query = read_query(dict(request.query_params)) if request is not None else SharedQuery()
            return _link_updates(query)

        load = demo.load(open_link, outputs=[model, text, top_k, targets, compare_models, tabs, view],
                         api_visibility="private", show_progress="hidden")
        load = apply_links(load, page)  # each tab's own settings from the link (layer, head, mask, method, ...)
        chain = load.then(show_model_quietly, inputs=model, outputs=model_info, api_visibility="private",
                          show_progress="hidden")
        # the opening sentence runs on load too (from the cache after the first time)
        chain = chain.then(predict.fn, inputs=predict.inputs, outputs=predict.outputs, api_visibility="private")
        for name, tab_run in (("attention", attention), ("attribution", attribution), ("compare", compare),
                              ("layers", layers), ("score", score)):
            chain = chain.then(
                _if_view(name, tab_run.skippable()), inputs=[view, *tab_run.inputs],
                outputs=tab_run.outputs, api_visibility="private",
            )
    return demo


def _link_updates(query: SharedQuery) -> tuple:
    skip = gr.skip()
    return (
        query.model if query.model is not None else skip,
        query.text if query.text is not None else skip,
        query.top_k if query.top_k is not None else skip,
        query.targets if query.targets is not None else skip,
        list(query.models) if query.models else skip,
        gr.Tabs(selected=query.view) if query.view else skip,
        query.view or "predict",
    )


def _if_view(name: str, run: Any) -> Any:
    def run_for_view(view: str, *args: Any) -> Any:
        return run(view == name, *args)

    return run_for_view


def launch(demo: gr.Blocks, options: ServeOptions, *, prevent_thread_lock: bool = False, quiet: bool = False) -> Any:
    """Start `demo` with the queue on (several users at once on shared, cached models) and this app's look.

    Returns:
        What `gr.Blocks.launch` returns: (app, local URL, share URL).
    """
    configure_requests(options.request_timeout, options.allow_local)
    state = getattr(demo, "explorer_state", None)
    if options.warm and state is not None:
        warm_default_model(state, options.model or default_model())
    # max_size: past this many waiting requests Gradio refuses a new one at once (HTTP 503, "Queue is full! Please
    # try again." in the page and gradio_client) instead of letting the queue, and the wait, grow without bound.
    demo.queue(default_concurrency_limit=options.concurrency, max_size=options.max_queue)
    return demo.launch(
        server_name=options.host,
        server_port=options.port,
        share=options.share,
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        theme=THEME,
        css=CSS,
        show_error=True,
        max_file_size=MAX_UPLOAD_BYTES,  # the app takes no uploads: /gradio_api/upload refuses any file
    )


def warm_default_model(state: AppState, name: str) -> None:
    """Load the default model and run one tiny pass before serving, so the first visitor waits for nothing."""
    try:
        model = state.model(name)
        state.analysis(model, f"Paris is the {model.info.mask_token} of France.", 1)
    except ExplorerError as error:  # the page says why when it opens; serving goes on
        logging.getLogger("explorer.requests").warning("could not warm %s: %s", name, hide_paths(str(error)))


def serve(options: ServeOptions) -> None:
    """Start the app as `options` say and block until interrupted (`mlm-explorer serve`, `python app.py`)."""
    configure_logging(options.log_format)
    demo = build_demo(options=options)
    # Gradio's own start-up lines tell users to "set share=True in launch()"; ours name the --share flag.
    _, local_url, share_url = launch(demo, options, prevent_thread_lock=True, quiet=True)
    print(startup_message(local_url, share_url), flush=True)
    demo.block_thread()
