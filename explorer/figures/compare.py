"""A comparison of models as pictures: top-k columns side by side, each model's tokens, and their agreement.

Model names, words and tokens come from users and tokenizers: every one is escaped before it goes into HTML or a
plotly label.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.compare import Comparison, CrossProbability, MaskAgreement, word_key
from explorer.figures.labels import escape_label, mask_label, token_label
from explorer.figures.predictions import BAR_COLOR, TOP1_COLOR, percent_format

SHARED_COLOR = "#2f9e44"


def render_compare_columns(comparison: Comparison) -> str:
    """One column per model with its top-k at every mask; words in every model's top-k are marked as shared."""
    masks = len(comparison.agreement)
    columns = []
    for name, device, result in zip(comparison.models, comparison.devices, comparison.results, strict=True):
        blocks = []
        for number, mask in enumerate(result.masks):
            shared = comparison.agreement[number].common_words
            top = max((p.score for p in mask.predictions), default=1.0) or 1.0
            items = []
            for rank, p in enumerate(mask.predictions):
                classes = "shared" if word_key(p.token) in shared else ""
                width = 100 * p.score / top
                color = TOP1_COLOR if rank == 0 else BAR_COLOR
                items.append(
                    f"<li class='{classes}' title='{html.escape(p.piece, quote=True)} (id {p.token_id})'>"
                    f"<span class='word'>{escape_label(token_label(p.token))}</span>"
                    f"<span class='bar-track'><span class='bar' style='width:{width:.1f}%;background:{color}'>"
                    f"</span></span><span class='prob'>{p.score:.1%}</span></li>"
                )
            title = mask_label(number + 1, masks)
            blocks.append(f"<div class='compare-mask'><div class='compare-mask-title'>{title}</div>"
                          f"<ol class='compare-topk'>{''.join(items)}</ol></div>")
        columns.append(
            f"<div class='compare-column' data-model='{html.escape(name, quote=True)}'>"
            f"<h4>{escape_label(name)}</h4><div class='muted'>{escape_label(device)} · "
            f"{len(result.tokens)} tokens</div>{''.join(blocks)}</div>"
        )
    legend = ("<div class='muted'>Green words are in every model's top-k. Each mask is predicted on its own, the "
              "others kept masked.</div>")
    return f"<div class='compare-columns'>{''.join(columns)}</div>{legend}"


def render_tokenisations(comparison: Comparison) -> str:
    """How each model split the sentence into tokens; its mask token highlighted."""
    rows = []
    for name, result in zip(comparison.models, comparison.results, strict=True):
        masks = {m.position for m in result.masks}
        chips = "".join(
            f"<span class='chip{' mask' if pos in masks else ''}' title='position {pos}'>"
            f"{escape_label(token_label(token))}</span>"
            for pos, token in enumerate(result.tokens)
        )
        rows.append(f"<div class='tokenisation'><div class='tokenisation-model'>{escape_label(name)} "
                    f"<span class='muted'>({len(result.tokens)} tokens)</span></div><div>{chips}</div></div>")
    return "<div class='tokenisations'>" + "".join(rows) + "</div>"


def render_agreement(comparison: Comparison) -> str:
    """Per mask: each model's top-1, the top-k overlap and rank correlation of every pair, and each model's
    probability for the other models' top-1 word."""
    sections = []
    count = len(comparison.agreement)
    for agreement in comparison.agreement:
        title = mask_label(agreement.mask + 1, count).capitalize() if count > 1 else "The mask"
        top1 = " · ".join(
            f"{escape_label(name)}: <b>{escape_label(word) if word else '∅'}</b>"
            for name, word in zip(comparison.models, agreement.top1, strict=True)
        )
        sections.append(
            f"<div class='agreement'><h4>{title}</h4><div>Top-1: {top1}</div>"
            f"<div class='agreement-tables'>{_overlap_table(comparison, agreement)}"
            f"{_correlation_table(comparison, agreement)}</div>"
            f"{_cross_table(agreement.cross_probabilities)}</div>"
        )
    return "<div class='agreements'>" + "".join(sections) + "</div>"


def _matrix_table(caption: str, names: tuple[str, ...], cells: list[list[str]]) -> str:
    header = "".join(f"<th>{escape_label(n)}</th>" for n in names)
    body = "".join(
        f"<tr><th>{escape_label(name)}</th>{''.join(row)}</tr>" for name, row in zip(names, cells, strict=True)
    )
    return f"<table class='matrix'><caption>{caption}</caption><tr><th></th>{header}</tr>{body}</table>"


def _overlap_table(comparison: Comparison, agreement: MaskAgreement) -> str:
    cells = [[f"<td>{value:.0%}</td>" for value in row] for row in agreement.topk_overlap]
    return _matrix_table(f"Top-{comparison.top_k} overlap (shared words ÷ k)", comparison.models, cells)


def _correlation_table(comparison: Comparison, agreement: MaskAgreement) -> str:
    cells = []
    for row, shared_row in zip(agreement.rank_correlation, agreement.shared_words, strict=True):
        cells.append([
            f"<td title='over {shared} shared one-piece words'>{rho:+.2f}</td>" if rho is not None
            else f"<td class='muted' title='over {shared} shared one-piece words'>n/a</td>"
            for rho, shared in zip(row, shared_row, strict=True)
        ])
    return _matrix_table("Spearman rank correlation on shared words", comparison.models, cells)


def _cross_table(cross: tuple[CrossProbability, ...]) -> str:
    if not cross:
        return ""
    rows = []
    for c in cross:
        if c.probability is not None:
            value = f"{c.probability:.4f}"
            rank = str(c.first_piece_rank)
        else:
            value = f"<span class='muted'>n/a: several pieces; first piece {c.first_piece_probability:.4f}</span>"
            rank = f"{c.first_piece_rank} (first piece)"
        rows.append(f"<tr><td>{escape_label(c.model)}</td><td>{escape_label(c.word)}</td>"
                    f"<td>{escape_label(c.word_of)}</td><td>{value}</td><td>{rank}</td></tr>")
    return ("<table class='cross'><caption>Each model's probability for the other models' top-1 word</caption>"
            "<tr><th>model</th><th>word</th><th>top-1 of</th><th>probability</th><th>rank</th></tr>"
            + "".join(rows) + "</table>")


def plot_compare(comparison: Comparison) -> go.Figure:
    """Bar charts side by side: a column per model, a row per mask, the top-k fillers with probabilities.

    Args:
        comparison: from `compare_models`.
    Returns:
        A plotly figure with [mask] x [model] subplots.
    """
    masks = len(comparison.agreement)
    models = len(comparison.models)
    titles = [
        escape_label(name) + (f" — mask {m + 1}" if masks > 1 else "")
        for m in range(masks) for name in comparison.models
    ]
    figure = make_subplots(rows=masks, cols=models, subplot_titles=titles, horizontal_spacing=0.12,
                           vertical_spacing=0.12 / max(masks, 1))
    for m in range(masks):
        shared = comparison.agreement[m].common_words
        for col, result in enumerate(comparison.results, start=1):
            predictions = result.masks[m].predictions
            positions = list(range(len(predictions)))
            labels = [escape_label(token_label(p.token)) for p in predictions]
            figure.add_trace(
                go.Bar(
                    x=[p.score for p in predictions], y=positions, orientation="h", showlegend=False,
                    marker_color=[SHARED_COLOR if word_key(p.token) in shared else BAR_COLOR
                                  for p in predictions],
                    hovertext=labels, hovertemplate="%{hovertext}: %{x:.4f}<extra></extra>",
                ),
                row=m + 1, col=col,
            )  # fmt: skip
            figure.update_yaxes(tickmode="array", tickvals=positions, ticktext=labels, autorange="reversed",
                                row=m + 1, col=col)
            top = max((p.score for p in predictions), default=1.0)
            figure.update_xaxes(tickformat=percent_format(top), rangemode="tozero", row=m + 1, col=col)
    figure.update_layout(
        height=80 + masks * (comparison.top_k * 24 + 70),
        margin={"l": 80, "r": 20, "t": 60, "b": 30},
        template="plotly_white",
        title={"text": "Top-k side by side (green: in every model's top-k)", "font": {"size": 14}},
    )
    return figure
