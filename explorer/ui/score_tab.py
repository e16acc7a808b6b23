"""The Score tab: how likely a model finds whole sentences, token by token, and which of them it prefers.

Also the API's /score and /pairs requests (`score_request`, `pairs_request`): the tab and the API share the
checks of what one web request may ask for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from explorer.documents import pairs_document, score_document
from explorer.errors import InputError
from explorer.figures.scoring import plot_token_scores, render_score_table
from explorer.limits import Limits
from explorer.models import LoadedModel
from explorer.scoring import (
    PAIR_METRICS,
    SENTENCE_METRICS,
    SentenceScore,
    differing_positions,
    score_pairs,
    score_sentences,
)
from explorer.ui.export import plot_with_png_button, write_json_file
from explorer.ui.page import Page, TabRun
from explorer.ui.result_frame import ResultFrame, load_model_for
from explorer.ui.state import AppState

DEFAULT_SENTENCES = "The doctor said that he would be late.\nThe doctor said that she would be late."
# Sentences (or pairs) one web request may score by default (`--max-items`, `Limits.max_items`); the command line
# (mlm-explorer score/pairs --input FILE) takes any number.
MAX_REQUEST_SENTENCES = Limits().max_items
METRIC_CHOICES = [
    ("pll: each token masked in turn (Salazar et al. 2020)", "pll"),
    ("pll-word-l2r: a word's later pieces masked too (Kauf & Ivanova 2023)", "pll-word-l2r"),
    ("crows: only the tokens two sentences share (CrowS-Pairs, Nangia et al. 2020)", "crows"),
]


def score_request(state: AppState, texts: Sequence[str], model: str, metric: str) -> dict[str, Any]:
    """The `mlm-explorer score --json` document for a web request."""
    if isinstance(texts, str):
        texts = [texts]
    if not texts:
        raise InputError('No sentence given; send a list such as ["The cat sat on the mat."].')
    texts = state.limits.check_items(texts, "sentences")
    loaded = state.model(model)
    return score_document(loaded.info.name, metric, score_sentences(loaded, list(texts), metric))


def pairs_request(state: AppState, pairs: Sequence[Sequence[str]], model: str, metric: str) -> dict[str, Any]:
    """The `mlm-explorer pairs --json` document for a web request; a pair is [first, second] or with a category."""
    if not pairs:
        raise InputError('No pair given; send a list such as [["He is late.", "She is late.", "gender"]].')
    pairs = state.limits.check_items(pairs, "pairs")
    loaded = state.model(model)
    result = score_pairs(loaded, [tuple(p) if isinstance(p, (list, tuple)) else p for p in pairs], metric)
    return pairs_document(loaded.info.name, metric, result)


def split_sentences(text: str | None) -> list[str]:
    """The sentences typed one per line; blank lines dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _score_each(model: LoadedModel, lines: list[str], metric: str) -> tuple[list[SentenceScore], list[str], dict]:
    scores = list(score_sentences(model, lines, metric))
    return scores, [], score_document(model.info.name, metric, scores)


def _score_as_pair(model: LoadedModel, lines: list[str], metric: str) -> tuple[list[SentenceScore], list[str], dict]:
    if len(lines) != 2:
        raise InputError(f"The {metric} metric compares two sentences; give exactly two lines, not {len(lines)}.")
    result = score_pairs(model, [(lines[0], lines[1])], metric)
    pair = result.pairs[0]
    return [pair.first, pair.second], [pair.prefers], pairs_document(model.info.name, metric, result)


# What the tab does per metric: score each sentence on its own, or compare exactly two (crows aligns the pair).
TAB_METRICS = {
    **{name: _score_each for name in SENTENCE_METRICS},
    **{name: _score_as_pair for name in PAIR_METRICS if name not in SENTENCE_METRICS},
}


def build_score_tab(page: Page) -> TabRun:
    """Add the Score tab: sentences one per line, the metric, totals, per-token bars and the differences.

    Returns:
        The tab's computation (the page reruns it when a link with view=score opens).
    """
    with gr.Column(elem_id="score-view"):
        with gr.Row(equal_height=True):
            sentences = gr.Textbox(
                value=DEFAULT_SENTENCES, lines=3, max_lines=12, label="Sentences, one per line (two or more)",
                info="A minimal pair is preloaded. No [MASK] needed: every token is scored.",
                elem_id="score-sentences", scale=4,
            )
            with gr.Column(scale=2):
                metric = gr.Dropdown(choices=METRIC_CHOICES, value="pll", label="Metric", elem_id="score-metric")
                button = gr.Button("Score", variant="primary", elem_id="score-button")
        frame = ResultFrame.build(page, "score", settings={"sentences": sentences, "metric": metric})
        table = gr.HTML(elem_id="score-table")
        plot = gr.Plot(label="Per-token log-probabilities", elem_id="score-plot", show_label=False)
        frame.footer()

    def run(text: str, model_name: str, metric_name: str, page_text: str) -> dict:
        lines = split_sentences(text)
        if len(lines) < 2:
            raise InputError("Give two or more sentences, one per line, e.g. a minimal pair.")
        lines = page.state.limits.check_texts(lines, "sentences")  # the server's bounds, as for the API
        if metric_name not in TAB_METRICS:
            raise InputError(f"Unknown metric {metric_name!r}; use one of {', '.join(TAB_METRICS)}.")
        scores, prefers, document = TAB_METRICS[metric_name](load_model_for(page, model_name), lines, metric_name)
        against_first = [differing_positions(scores[0], s) for s in scores[1:]]  # (in the first, in s) each
        differing = [tuple(sorted({p for mine, _ in against_first for p in mine})), *(o for _, o in against_first)]
        return {
            table: render_score_table(scores, differing, prefers),
            plot: plot_with_png_button(plot_token_scores(scores, differing), "mlm-explorer-score"),
            frame.download: write_json_file(document, "score"),
            frame.link: frame.query(model_name, page_text, sentences="\n".join(lines), metric=metric_name),
        }

    results = [table, plot]
    shown = frame.shows(run, clears=results)
    inputs = [sentences, page.model, metric, page.text]
    outputs = [*results, *frame.outputs]
    button.click(shown, inputs=inputs, outputs=outputs, api_visibility="private")
    return TabRun(shown, inputs, outputs)
