"""Plotly figures of attention: one head, an overview of all heads, where each mask looks, and rollout.

Every function takes a result (`AttentionMaps`, `Rollout`) and returns a `plotly.graph_objects.Figure`; no model
runs here. Tokens are user input, so every label and hover text is escaped (plotly renders a subset of HTML in
text); positions index the tokens, so a word that occurs twice keeps two columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.attention import HEAD_SUMMARIES, AttentionMaps, summarize_heads
from explorer.figures.labels import escape_label, mask_names, token_label
from explorer.rollout import Rollout

COLORSCALE = "Blues"
_MASK_OUTLINE = "#d62728"
# One colour per mask in the rollout bars: the Predict tab's bar blue first, then its top-1 orange.
MASK_COLORS = ("#4f6bed", "#e8590c", "#2f9e44", "#ae3ec9", "#1098ad")
# Above this many tokens a per-cell hover text costs more than it helps; hover then shows positions only.
_MAX_HOVER_TOKENS = 160


def token_labels(tokens: Sequence[str], mask_positions: Sequence[int] = ()) -> list[str]:
    """Escaped axis labels, one per position; masks in bold."""
    masks = set(mask_positions)
    labels = []
    for pos, token in enumerate(tokens):
        label = escape_label(token_label(token))
        labels.append(f"<b>{label}</b>" if pos in masks else label)
    return labels


def plot_head(maps: AttentionMaps, layer: int, head: int) -> go.Figure:
    """Heatmap of one head: row = query position (who attends), column = key position (attended to).

    Args:
        maps: the attention weights of one text.
        layer: 0-based layer.
        head: 0-based head in that layer.
    Returns:
        A figure whose heatmap z is [query_pos][key_pos]; mask rows are outlined.
    """
    weights = np.array(maps.head(layer, head))  # [query_pos, key_pos]
    return _square_heatmap(
        weights, maps.tokens, maps.mask_positions, colorbar="weight",
        title=f"Layer {layer}, head {head} <span style='font-size:11px'>(red frame: a mask's row)</span>",
        x_title="key (attended to)", y_title="query (attending)",
    )  # fmt: skip


def _square_heatmap(
    matrix: np.ndarray, tokens: tuple[str, ...], mask_positions: tuple[int, ...], *, colorbar: str, title: str,
    x_title: str, y_title: str,
) -> go.Figure:
    """A [query_pos, key_pos] heatmap over the tokens, mask rows outlined (one head, or the rollout)."""
    n = len(tokens)
    labels = token_labels(tokens, mask_positions)
    figure = go.Figure(go.Heatmap(
        z=matrix, x=list(range(n)), y=list(range(n)), zmin=0.0, zmax=float(matrix.max()), colorscale=COLORSCALE,
        colorbar={"title": {"text": colorbar}}, **_pair_hover(tokens),
    ))  # fmt: skip
    for pos in mask_positions:
        figure.add_shape(
            type="rect", x0=-0.5, x1=n - 0.5, y0=pos - 0.5, y1=pos + 0.5,
            line={"color": _MASK_OUTLINE, "width": 2}, fillcolor="rgba(0,0,0,0)",
        )  # fmt: skip
    side = min(1000, max(420, 22 * n + 160))
    figure.update_layout(
        title={"text": title},
        xaxis=_token_axis(labels, x_title),
        yaxis={**_token_axis(labels, y_title, vertical=True), "autorange": "reversed"},
        height=side, margin={"l": 100, "r": 20, "t": 60, "b": 100},
    )  # fmt: skip
    return figure


def plot_heads_overview(maps: AttentionMaps, summary: str = "entropy") -> go.Figure:
    """A layer x head grid of one summary per head (see `HEAD_SUMMARIES`); hover names each mask's favourite token.

    Args:
        maps: the attention weights of one text.
        summary: "entropy", "max" or "special".
    Returns:
        A figure whose heatmap z is [layer][head].
    """
    values = np.array(summarize_heads(maps, summary))  # [layer, head]
    weights = maps.array()  # [layer, head, query_pos, key_pos]
    names = [escape_label(n) for n in mask_names(maps.text, len(maps.mask_positions))]
    hover = []
    for layer in range(maps.layers):
        row = []
        for head in range(maps.heads):
            lines = [f"layer {layer}, head {head}", f"{summary}: {values[layer, head]:.3f}"]
            for name, pos in zip(names, maps.mask_positions, strict=True):
                mask_row = weights[layer, head, pos]  # [key_pos]
                best = int(mask_row.argmax())
                lines.append(f"{name} looks most at '{escape_label(token_label(maps.tokens[best]))}' "
                             f"(token {best}): {mask_row[best]:.1%}")
            row.append("<br>".join(lines))
        hover.append(row)
    # An absolute scale: 0 to the entropy of a uniform row (log2 of the length), or 0 to 1 for shares.
    top = float(np.log2(len(maps.tokens))) if summary == "entropy" else 1.0
    heatmap = go.Heatmap(
        z=values, x=list(range(maps.heads)), y=list(range(maps.layers)), zmin=0.0, zmax=top, colorscale="Viridis",
        text=hover, hovertemplate="%{text}<extra></extra>", colorbar={"title": {"text": summary}},
    )  # fmt: skip
    figure = go.Figure(heatmap)
    figure.update_layout(
        title={"text": f"All heads: {summary}<br><span style='font-size:11px'>{HEAD_SUMMARIES[summary]}</span>"},
        xaxis={"title": {"text": "head"}, "tickmode": "linear", "dtick": 1},
        yaxis={"title": {"text": "layer"}, "tickmode": "linear", "dtick": 1, "autorange": "reversed"},
        height=max(320, 28 * maps.layers + 150), margin={"l": 60, "r": 20, "t": 75, "b": 50},
    )  # fmt: skip
    return figure


def plot_mask_attention(maps: AttentionMaps) -> go.Figure:
    """Where does the mask look: for each mask, its attention to every token in every layer and head.

    One panel per mask; a row per (layer, head), a column per key position, layers separated by lines.

    Args:
        maps: the attention weights of one text.
    Returns:
        A figure with one heatmap per mask, each z [layer * head][key_pos].
    """
    if not maps.mask_positions:
        return _empty("No mask in this text: nothing to show.")
    weights = maps.array()  # [layer, head, query_pos, key_pos]
    n, rows = len(maps.tokens), maps.layers * maps.heads
    labels = token_labels(maps.tokens, maps.mask_positions)
    titles = [escape_label(n) for n in mask_names(maps.text, len(maps.mask_positions))]
    figure = make_subplots(rows=1, cols=len(maps.mask_positions), shared_yaxes=True, subplot_titles=titles,
                           horizontal_spacing=0.04)
    row_names = [f"layer {layer}, head {head}" for layer in range(maps.layers) for head in range(maps.heads)]
    for col, pos in enumerate(maps.mask_positions, start=1):
        z = weights[:, :, pos, :].reshape(rows, n)  # [layer * head, key_pos]
        hover = [[f"{row_names[r]}<br>{titles[col - 1]} → {labels[k]} (token {k})" for k in range(n)]
                 for r in range(rows)]
        figure.add_trace(
            go.Heatmap(
                z=z, x=list(range(n)), y=list(range(rows)), coloraxis="coloraxis",
                text=hover, hovertemplate="%{text}<br>weight %{z:.4f}<extra></extra>",
            ),
            row=1, col=col,
        )  # fmt: skip
        figure.update_xaxes(_token_axis(labels, "key (attended to)"), row=1, col=col)
        for layer in range(1, maps.layers):
            figure.add_hline(y=layer * maps.heads - 0.5, line={"color": "white", "width": 2}, row=1, col=col)
    if rows <= 48:
        tickvals, ticktext = list(range(rows)), [f"L{r // maps.heads} H{r % maps.heads}" for r in range(rows)]
    else:  # one label per layer, at its first head
        tickvals = [layer * maps.heads for layer in range(maps.layers)]
        ticktext = [f"L{layer}" for layer in range(maps.layers)]
    figure.update_yaxes(tickmode="array", tickvals=tickvals, ticktext=ticktext, autorange="reversed")
    figure.update_yaxes(title={"text": "layer, head"}, row=1, col=1)
    figure.update_layout(
        title={"text": "Where does the mask look? <span style='font-size:11px'>(click a cell: that layer and head)"
                       "</span>"},
        coloraxis={"colorscale": COLORSCALE, "cmin": 0.0, "cmax": float(weights[:, :, list(maps.mask_positions)].max()),
                   "colorbar": {"title": {"text": "weight"}}},
        height=min(1600, max(360, 12 * rows + 200)),
        margin={"l": 80, "r": 20, "t": 80, "b": 100},
    )  # fmt: skip
    return figure


def plot_rollout(rollout: Rollout) -> go.Figure:
    """Heatmap of the attention rollout: row = position, column = input token it draws on; mask rows outlined.

    Args:
        rollout: from `attention_rollout`.
    Returns:
        A figure whose heatmap z is [query_pos][key_pos].
    """
    matrix = rollout.array()  # [query_pos, key_pos]
    return _square_heatmap(
        matrix, rollout.tokens, rollout.mask_positions, colorbar="share",
        title=(f"Attention rollout, {rollout.layers} layers "
               f"<span style='font-size:11px'>(red frame: a mask's row)</span>"),
        x_title="input token", y_title="position (after the last layer)",
    )  # fmt: skip


def plot_rollout_masks(rollout: Rollout) -> go.Figure:
    """Bars of the rollout row of each mask: which input tokens the prediction at that mask draws on.

    Args:
        rollout: from `attention_rollout`.
    Returns:
        A figure with one bar trace per mask, y [key_pos].
    """
    if not rollout.mask_positions:
        return _empty("No mask in this text: nothing to show.")
    n = len(rollout.tokens)
    labels = token_labels(rollout.tokens, rollout.mask_positions)
    names = mask_names(rollout.text, len(rollout.mask_positions))
    figure = go.Figure()
    for number, (name, row) in enumerate(zip(names, rollout.mask_rows, strict=True)):
        figure.add_trace(
            go.Bar(
                x=list(range(n)), y=list(row), name=escape_label(name), text=labels,
                marker_color=MASK_COLORS[number % len(MASK_COLORS)], textposition="none",
                hovertemplate="%{text} (token %{x}): %{y:.1%}<extra>%{fullData.name}</extra>",
            )
        )  # fmt: skip
    figure.update_layout(
        title={"text": "Rollout row of each mask: what it draws on"},
        barmode="group", xaxis=_token_axis(labels, "input token"),
        yaxis={"title": {"text": "share"}, "tickformat": ".0%", "rangemode": "tozero"},
        height=420, margin={"l": 60, "r": 20, "t": 100, "b": 100}, template="plotly_white", bargap=0.25,
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "title": {"text": "bars:"}},
        showlegend=True,
    )  # fmt: skip
    return figure


def _token_axis(labels: Sequence[str], title: str, vertical: bool = False) -> dict:
    return {
        "title": {"text": title}, "tickmode": "array", "tickvals": list(range(len(labels))),
        "ticktext": list(labels), "tickangle": 0 if vertical or len(labels) <= 8 else -60,
    }  # fmt: skip


def _pair_hover(tokens: Sequence[str]) -> dict:
    """Hover of a [query_pos, key_pos] heatmap: the two tokens by name when the text is short enough."""
    if len(tokens) > _MAX_HOVER_TOKENS:
        return {"hovertemplate": "query %{y} → key %{x}<br>weight %{z:.4f}<extra></extra>"}
    # Quoted (repr) as in the overview's hover: "'the' (3) → 'cat' (4)" keeps each token's edges visible.
    names = [f"{escape_label(repr(t))} ({i})" for i, t in enumerate(tokens)]
    text = [[f"{q} → {k}" for k in names] for q in names]
    return {"text": text, "hovertemplate": "%{text}<br>weight %{z:.4f}<extra></extra>"}


def _empty(message: str) -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    figure.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, height=200)
    return figure
