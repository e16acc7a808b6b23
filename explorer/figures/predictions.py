"""Predictions as pictures: a bar chart of the top-k per mask, the filled-in sentence and the targets table.

Every string that came from a user or a tokenizer is escaped before it goes into HTML or a plotly label (plotly
renders a few HTML tags in labels, so "<b>" typed as a sentence would otherwise turn bold).
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.figures.labels import escape_label, mask_label, token_label
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
    titles = [_mask_title(number, count, mask.position) for number, mask in enumerate(result.masks, start=1)]
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
                text=[f"{p.score:.1%}" if p.score >= 0.001 else f"{p.score:.1e}" for p in predictions],
                textposition="outside",
                cliponaxis=False,
                customdata=[[escape_label(p.piece), p.token_id] for p in predictions],
                hovertext=labels,
                hovertemplate="%{hovertext}: %{x:.4f}<br>piece %{customdata[0]}, id %{customdata[1]}<extra></extra>",
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
    figure.update_layout(
        height=height,
        margin={"l": 20 + 7 * min(longest, 24), "r": 30, "t": 50, "b": 30},
        bargap=0.25,
        template="plotly_white",
    )
    return figure


def _mask_title(number: int, count: int, position: int) -> str:
    if count == 1:
        return f"Top fillers for the mask (token {position})"
    return f"{mask_label(number, count).capitalize()} (token {position}), predicted with the other masks kept masked"


def render_filled_sentence(result: FillMaskResult) -> str:
    """The sentence with each mask replaced by its top-1 filler, highlighted; escaped HTML."""
    mask_token = result.tokens[result.masks[0].position] if result.masks else ""
    parts = result.model_text.split(mask_token) if mask_token else []
    if len(parts) != len(result.masks) + 1:
        # The mask token is not written literally in the text (rare tokenizers): show the decoded sentence.
        body = escape_label(result.filled_text)
    else:
        pieces = [escape_label(parts[0])]
        for mask, after in zip(result.masks, parts[1:], strict=True):
            best = mask.predictions[0]
            pieces.append(
                f"<mark class='fill' title='{html.escape(best.token, quote=True)}: {best.score:.1%}'>"
                f"{escape_label(token_label(best.token))}</mark>"
            )
            pieces.append(escape_label(after))
        body = "".join(pieces)
    note = (
        "<div class='muted'>Each mask is predicted on its own with the others kept masked: the top-1 words are "
        "not a joint prediction.</div>"
        if len(result.masks) > 1 else ""
    )
    return f"<div class='filled-sentence'>{body}</div>{note}"


def render_topk_table(result: FillMaskResult) -> str:
    """The top-k per mask as HTML tables (rank, filler, vocabulary piece, id, probability); escaped."""
    tables = []
    count = len(result.masks)
    for number, mask in enumerate(result.masks, start=1):
        rows = "".join(
            f"<tr><td>{rank}</td><td>{escape_label(token_label(p.token))}</td><td><code>{escape_label(p.piece)}"
            f"</code></td><td>{p.token_id}</td><td>{p.score:.4f}</td></tr>"
            for rank, p in enumerate(mask.predictions, start=1)
        )
        tables.append(
            f"<table class='topk'><caption>{mask_label(number, count)} (token {mask.position})</caption>"
            f"<tr><th>#</th><th>filler</th><th>piece</th><th>id</th><th>probability</th></tr>{rows}</table>"
        )
    return "<div class='topk-tables'>" + "".join(tables) + "</div>"


def render_targets_table(result: FillMaskResult) -> str:
    """How likely each target word is at each mask, as an HTML table; empty string when no targets were asked."""
    if not any(mask.targets for mask in result.masks):
        return ""
    rows = []
    for number, mask in enumerate(result.masks, start=1):
        for target in mask.targets:
            rows.append(f"<tr><td>{number}</td><td>{escape_label(target.word)}</td>{_target_cells(target)}</tr>")
    return (
        "<table class='targets'><caption>How likely is THIS word here?</caption>"
        "<tr><th>mask</th><th>word</th><th>probability</th><th>rank</th><th>pieces</th></tr>"
        + "".join(rows) + "</table>"
    )


def _target_cells(target: TargetScore) -> str:
    pieces = " ".join(f"<code>{escape_label(p)}</code>" for p in target.pieces)
    if target.single_token:
        return f"<td>{target.first_piece_probability:.4f}</td><td>{target.first_piece_rank}</td><td>{pieces}</td>"
    return (
        f"<td><span class='muted'>n/a: {len(target.pieces)} pieces cannot fill one mask; first piece "
        f"{target.first_piece_probability:.4f}</span></td><td>{target.first_piece_rank} (first piece)</td>"
        f"<td>{pieces}</td>"
    )
