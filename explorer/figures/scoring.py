"""Sentence scores as pictures: per-token bars on a diverging scale, and a table of totals and differences.

A bar is a token's log-probability minus the mean of every scored token shown, so bars above zero are the tokens
that make their sentence likelier than a typical token here, bars below the ones that make it less likely. Tokens
a sentence does not share with the first one are outlined and written in bold.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.figures.attribution import MASK_OUTLINE, score_color
from explorer.figures.labels import escape_label, token_label
from explorer.scoring import SentenceScore

ROW_HEIGHT = 230


def pooled_mean(scores: Sequence[SentenceScore]) -> float:
    """The mean log-probability of every scored token of every sentence: the zero of the diverging bars."""
    values = [v for s in scores for v in s.scores if v is not None]
    return math.fsum(values) / len(values) if values else 0.0


def plot_token_scores(scores: Sequence[SentenceScore], differing: Sequence[Sequence[int]] = ()) -> go.Figure:
    """One bar chart per sentence: each scored token's log-probability relative to the pooled mean.

    Args:
        scores: the scored sentences.
        differing: per sentence, the positions of tokens that differ from the first sentence (marked).
    Returns:
        A plotly figure with one subplot per sentence.
    """
    center = pooled_mean(scores)
    relative = [[v - center for v in s.scores if v is not None] for s in scores]
    scale = max((abs(v) for row in relative for v in row), default=1.0) or 1.0
    titles = [f"Sentence {n}: total {s.total:.3f}" for n, s in enumerate(scores, start=1)]
    figure = make_subplots(rows=len(scores), cols=1, subplot_titles=titles, vertical_spacing=0.5 / len(scores))
    for row, score in enumerate(scores, start=1):
        marked = set(differing[row - 1]) if row - 1 < len(differing) else set()
        positions = list(range(len(score.tokens)))
        labels = [escape_label(token_label(t)) for t in score.tokens]
        ticks = [f"<b>{label}</b>" if pos in marked else label for pos, label in zip(positions, labels, strict=True)]
        values = [v - center if v is not None else None for v in score.scores]
        figure.add_trace(
            go.Bar(
                x=positions,
                y=values,
                marker={
                    "color": [score_color(v, scale) if v is not None else "rgba(0,0,0,0)" for v in values],
                    "line": {"color": [MASK_OUTLINE if pos in marked else "#495057" for pos in positions],
                             "width": [2.5 if pos in marked else 0.5 for pos in positions]},
                },
                customdata=[[v if v is not None else float("nan"), math.exp(v) if v is not None else float("nan")]
                            for v in score.scores],
                hovertext=labels,
                hovertemplate="%{hovertext}: log p = %{customdata[0]:.3f} (p = %{customdata[1]:.2e})<extra></extra>",
                showlegend=False,
            ),
            row=row,
            col=1,
        )
        figure.update_xaxes(tickmode="array", tickvals=positions, ticktext=ticks, row=row, col=1)
        figure.update_yaxes(range=[-scale * 1.1, scale * 1.1], zeroline=True, zerolinecolor="#868e96", row=row,
                            col=1)
    figure.update_layout(
        height=80 + ROW_HEIGHT * len(scores),
        margin={"l": 50, "r": 20, "t": 70, "b": 40},
        template="plotly_white",
        # Two short lines: one long line ran under the plotly toolbar and off the chart at 800 px.
        title={"text": f"log p of each token − the mean of all shown ({center:.2f})<br>"
                       f"<sup>above 0: the token makes its sentence likelier</sup>", "font": {"size": 13}},
    )
    return figure


def render_score_table(scores: Sequence[SentenceScore], differing: Sequence[Sequence[int]] = (),
                       prefers: Sequence[str] = ()) -> str:
    """Totals, means and pseudo-perplexities, and each sentence's difference from the first with the tokens that
    differ marked; escaped HTML.

    Args:
        scores: the scored sentences.
        differing: per sentence, the positions of tokens that differ from the first sentence.
        prefers: for a scored pair, "first", "second" or "tie" (the metric's own rule), shown in words.
    """
    rows = []
    first = scores[0].total if scores else 0.0
    for number, score in enumerate(scores, start=1):
        marked = set(differing[number - 1]) if number - 1 < len(differing) else set()
        chips = "".join(
            f"<span class='chip{' differs' if pos in marked else ''}'>{escape_label(token_label(t))}</span>"
            for pos, t in enumerate(score.tokens)
        )
        difference = "" if number == 1 else f"{score.total - first:+.3f}"
        pppl = f"{score.pseudo_perplexity:.2f}" if score.pseudo_perplexity is not None else "n/a"
        rows.append(
            f"<tr><td>{number}</td><td class='score-text' title='{html.escape(score.text, quote=True)}'>{chips}</td>"
            f"<td class='prob'>{score.total:.3f}</td><td class='prob'>{score.mean:.3f}</td>"
            f"<td class='prob'>{pppl}</td><td class='prob score-difference'>{difference}</td></tr>"
        )
    best = max(range(len(scores)), key=lambda i: scores[i].total) if scores else 0
    verdict = {"first": "The model prefers sentence 1.", "second": "The model prefers sentence 2.",
               "tie": "A tie: the two scores are equal to 3 decimals."}
    note = verdict[prefers[0]] if prefers else (f"The likeliest sentence is sentence {best + 1}." if scores else "")
    return (
        "<table class='scores'><tr><th>#</th><th>sentence (tokens; bold: differs from sentence 1)</th>"
        "<th>total log p</th><th>mean</th><th>pseudo-perplexity</th><th>− sentence 1</th></tr>"
        + "".join(rows) + f"</table><div class='score-verdict'>{escape_label(note)}</div>"
    )
