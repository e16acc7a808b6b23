"""Predictions as pictures: a bar chart of the top-k per mask, the filled-in sentence and the targets table.

Every string that came from a user or a tokenizer is escaped before it goes into HTML or a plotly label (plotly
renders a few HTML tags in labels, so "<b>" typed as a sentence would otherwise turn bold).
"""

from __future__ import annotations

import html
import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.figures.labels import escape_label, filled_segments, mask_names, percent, token_label
from explorer.fill_mask import FillMaskResult, TargetScore

BAR_COLOR = "#4f6bed"
TOP1_COLOR = "#e8590c"
ROW_HEIGHT = 24
SUBPLOT_GAP_PX = 65  # between one mask's x tick labels and the next mask's title


def percent_format(top: float) -> str:
    """A plotly tick format for probabilities up to `top` with enough decimals that ticks differ."""
    if top >= 0.1:
        return ".0%"
    if top >= 0.01:
        return ".1%"
    return ".2%"


def plot_topk(result: FillMaskResult) -> go.Figure:
    """One horizontal bar chart per mask: the top-k fillers and their probabilities, best on top.

    Args:
        result: the predictions of one text.
    Returns:
        A plotly figure with one subplot per mask.
    """
    count = len(result.masks)
    titles = [escape_label(name) for name in mask_names(result.text, count)]
    top_k = max((len(m.predictions) for m in result.masks), default=1)
    height = 80 + count * (top_k * ROW_HEIGHT + 70)
    # plotly sizes the gap between subplots as a fraction of the plotting area; the gap must hold one subplot's
    # tick labels and the next one's title (~60 px) whatever the number of masks and fillers
    spacing = min(0.5, SUBPLOT_GAP_PX / max(1, height - 80)) if count > 1 else 0.0
    figure = make_subplots(rows=count, cols=1, subplot_titles=titles, vertical_spacing=spacing)
    longest = 1
    for row, mask in enumerate(result.masks, start=1):
        predictions = mask.predictions
        labels = [escape_label(token_label(p.token)) for p in predictions]
        longest = max([longest, *(len(token_label(p.token)) for p in predictions)])
        # Numeric y positions keep two fillers that decode to the same text as two bars.
        positions = list(range(len(predictions)))
        figure.add_trace(
            go.Bar(
                x=[p.score for p in predictions],
                y=positions,
                orientation="h",
                marker_color=[TOP1_COLOR if rank == 0 else BAR_COLOR for rank in positions],
                text=[percent(p.score) for p in predictions],
                textposition="outside",
                cliponaxis=False,
                customdata=[[escape_label(p.piece), p.token_id] for p in predictions],
                hovertext=labels,
                hovertemplate="%{hovertext}: %{x:.2%}<br>piece %{customdata[0]}, id %{customdata[1]}<extra></extra>",
                showlegend=False,
            ),
            row=row,
            col=1,
        )
        figure.update_yaxes(
            tickmode="array", tickvals=positions, ticktext=labels, autorange="reversed", row=row, col=1
        )
        top = max((p.score for p in predictions), default=1.0)
        figure.update_xaxes(range=[0, min(1.0, top * 1.25) or 1.0], tickformat=percent_format(top), row=row, col=1)
    note = "orange: the top-1 filler" + (" · each mask predicted on its own, the others kept masked"
                                        if count > 1 else "")
    figure.update_layout(
        height=height,
        margin={"l": 20 + 7 * min(longest, 24), "r": 30, "t": 56, "b": 30},
        bargap=0.25,
        template="plotly_white",
    )
    figure.add_annotation(text=note, xref="paper", yref="paper", x=0, y=1, yshift=26, xanchor="left",
                          yanchor="bottom", showarrow=False, font={"size": 11, "color": "#6c757d"})
    return figure


def render_filled_sentence(result: FillMaskResult) -> str:
    """The sentence with each mask replaced by its top-1 filler, highlighted; escaped HTML.

    The words are those of `filled_sentence` (the CLI's "filled:" line): the typed text, each filler detokenised.
    """
    segments = filled_segments(result)
    if not segments:
        # The mask token is not written literally in the text (rare tokenizers): show the decoded sentence.
        body = escape_label(result.filled_text)
    else:
        body = "".join(
            escape_label(text) if best is None else
            f"<mark class='fill' title='{html.escape(token_label(best.token), quote=True)}: {percent(best.score)}'>"
            f"{escape_label(text)}</mark>"
            for text, best in segments
        )
    note = (
        "<div class='muted'>Each mask is predicted on its own with the others kept masked: the top-1 words are "
        "not a joint prediction.</div>"
        if len(result.masks) > 1 else ""
    )
    return f"<div class='filled-sentence'>{body}</div>{note}"


def render_topk_table(result: FillMaskResult) -> str:
    """The top-k per mask as HTML tables (rank, filler, vocabulary piece, id, probability); escaped."""
    tables = []
    names = mask_names(result.text, len(result.masks))
    for name, mask in zip(names, result.masks, strict=True):
        rows = "".join(
            f"<tr><td>{rank}</td><td>{escape_label(token_label(p.token))}</td><td><code>{escape_label(p.piece)}"
            f"</code></td><td>{p.token_id}</td><td class='prob'>{percent(p.score)}</td></tr>"
            for rank, p in enumerate(mask.predictions, start=1)
        )
        tables.append(
            f"<table class='topk'><caption>{escape_label(name)}</caption>"
            f"<tr><th>#</th><th>filler</th><th>vocabulary piece</th><th>id</th><th>probability</th></tr>{rows}"
            f"</table>"
        )
    return "<div class='topk-tables'>" + "".join(tables) + "</div>"


def render_targets_table(result: FillMaskResult) -> str:
    """How likely each target word is at each mask, as an HTML table; empty string when no targets were asked."""
    if not any(mask.targets for mask in result.masks):
        return ""
    rows = []
    names = mask_names(result.text, len(result.masks))
    for name, mask in zip(names, result.masks, strict=True):
        # Best first: one-piece and multi-piece words are on one scale (the chain rule's whole-word probability).
        ranked = sorted(mask.targets, key=lambda t: -t.probability if t.probability is not None else 1.0)
        for target in ranked:
            rows.append(f"<tr><td>{escape_label(name)}</td><td>{escape_label(target.word)}</td>"
                        f"{_target_cells(target)}</tr>")
    return (
        "<table class='targets'><caption>How likely is THIS word here?</caption>"
        "<tr><th>mask</th><th>word</th><th>probability</th><th>rank</th><th>pieces</th></tr>"
        + "".join(rows) + "</table>"
    )


def _target_cells(target: TargetScore) -> str:
    pieces = " ".join(f"<code>{escape_label(p)}</code>" for p in target.pieces)
    if target.single_token:
        return f"<td>{percent(target.first_piece_probability)}</td><td>{target.first_piece_rank}</td><td>{pieces}</td>"
    if target.probability is None:
        return (
            f"<td><span class='muted'>n/a: {len(target.pieces)} pieces; first piece "
            f"{percent(target.first_piece_probability)}</span></td><td>{target.first_piece_rank} (first piece)</td>"
            f"<td>{pieces}</td>"
        )
    steps = " × ".join(percent(math.exp(v)) for v in target.piece_log_probabilities)
    return (
        f"<td title='chain rule, left to right: {steps}'>{percent(target.probability)}</td>"
        f"<td><span class='muted'>{len(target.pieces)} pieces, chain rule</span></td><td>{pieces}</td>"
    )
