"""Plotly figures of the layers view: the logit lens (layers x words) with the final word's rank, and head effects.

No model runs here: each function turns a result (`LayerPredictions`, `HeadEffects`) into a figure. Words come from
a tokenizer, so every label and hover text is escaped.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.ablation import HeadEffects
from explorer.figures.labels import escape_label, mask_names, token_label
from explorer.layers import LayerPredictions

LENS_COLORSCALE = "Blues"
EFFECT_COLORSCALE = "RdBu"  # red: removing the head lowers the word's probability; blue: raises it
RANK_COLOR = "#e8590c"
# At most this many words (columns) in the lens picture; the best-ranked ones are kept.
MAX_LENS_WORDS = 30


def plot_layer_lens(result: LayerPredictions, mask: int = 0) -> go.Figure:
    """Layers x words heatmap of one mask's probabilities, beside the final top-1's rank at every layer.

    Args:
        result: from `layer_predictions`.
        mask: which mask, 0 = the first.
    Returns:
        A figure: left a heatmap z [layer][word] over the words in some layer's top-k; right the rank (log axis) of
        the last layer's top-1 word per layer.
    """
    entry = result.masks[mask]
    count = min(MAX_LENS_WORDS, len(entry.word_ids))
    words = [escape_label(token_label(w)) for w in entry.words[:count]]
    z = [list(row[:count]) for row in entry.word_scores]  # [layer, word]
    layers = list(range(result.layers + 1))
    layer_names = ["embeddings" if layer == 0 else f"layer {layer}" for layer in layers]
    final = entry.layers[-1].final_top1
    titles = ("probability of each word", f"rank of {escape_label(token_label(final.token))}")
    figure = make_subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.78, 0.22], horizontal_spacing=0.03,
                           subplot_titles=titles)
    figure.add_trace(go.Heatmap(
        z=z, x=list(range(count)), y=layers, colorscale=LENS_COLORSCALE, zmin=0.0,
        colorbar={"title": {"text": "probability"}, "x": 1.02},
        text=[[f"{layer_names[layer]}<br>{words[w]}: {z[layer][w]:.4f}" for w in range(count)] for layer in layers],
        hoverinfo="text",
    ), row=1, col=1)
    ranks = [e.final_top1.rank for e in entry.layers]
    figure.add_trace(go.Scatter(
        x=ranks, y=layers, mode="lines+markers", line={"color": RANK_COLOR}, showlegend=False,
        text=[f"{layer_names[i]}: rank {r}, p={e.final_top1.score:.4f}" for i, (r, e) in
              enumerate(zip(ranks, entry.layers, strict=True))],
        hoverinfo="text",
    ), row=1, col=2)
    title = (f"{escape_label(mask_names(result.text, len(result.masks))[mask])} (token {entry.position}), layer by "
             f"layer — "
             f"{escape_label(result.model_name)}")
    figure.update_layout(
        title={"text": title}, height=max(320, 34 * len(layers) + 200),
        margin={"l": 90, "r": 90, "t": 80, "b": 110},
    )
    figure.update_xaxes(tickmode="array", tickvals=list(range(count)), ticktext=words, tickangle=-45, row=1, col=1)
    decades = [10**k for k in range(len(str(max(ranks))) + 1)]
    figure.update_xaxes(type="log", autorange="reversed", title={"text": "rank (1 = top)"}, tickmode="array",
                        tickvals=decades, ticktext=[str(d) for d in decades], row=1, col=2)
    figure.update_yaxes(tickmode="array", tickvals=layers, ticktext=layer_names, row=1, col=1)
    return figure


def plot_head_effects(effects: HeadEffects) -> go.Figure:
    """Layer x head heatmap of how the target's probability changes when each head alone is removed.

    Args:
        effects: from `head_effects`.
    Returns:
        A diverging heatmap z [layer][head] centred on 0, with a colorbar.
    """
    layers = len(effects.effects)
    heads = len(effects.effects[0]) if layers else 0
    bound = max((abs(v) for row in effects.effects for v in row), default=0.0) or 1e-9
    target = escape_label(token_label(effects.target))
    figure = go.Figure(go.Heatmap(
        z=[list(row) for row in effects.effects], x=list(range(heads)), y=list(range(layers)),
        colorscale=EFFECT_COLORSCALE, zmid=0.0, zmin=-bound, zmax=bound,
        colorbar={"title": {"text": f"Δ p({target})"}},
        text=[[f"layer {layer}, head {head}: {effects.effects[layer][head]:+.4f}" for head in range(heads)]
              for layer in range(layers)],
        hoverinfo="text",
    ))
    figure.update_layout(
        title={"text": f"Removing one head ({effects.mode}): change of p({target}) = {effects.baseline:.4f} at token "
                       f"{effects.mask_position} — {escape_label(effects.model_name)}"},
        xaxis={"title": {"text": "head"}, "dtick": 1},
        yaxis={"title": {"text": "layer"}, "dtick": 1, "autorange": "reversed"},
        height=max(300, 28 * layers + 160), margin={"l": 70, "r": 20, "t": 70, "b": 60},
    )
    return figure
