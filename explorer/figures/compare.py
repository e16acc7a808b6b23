"""A comparison of models as pictures: top-k columns side by side, each model's tokens, and their agreement.

Model names, words and tokens come from users and tokenizers: every one is escaped before it goes into HTML or a
plotly label.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.compare import MIN_SHARED_WORDS, Comparison, CrossProbability, MaskAgreement, word_key
from explorer.figures.labels import escape_label, mask_names, percent, token_label
from explorer.figures.predictions import BAR_COLOR, TOP1_COLOR, percent_format

SHARED_COLOR = "#2f9e44"


def shared_scale(comparison: Comparison, mask: int) -> float:
    """The largest probability any compared model gives at `mask`: every model's bars there are drawn against it,
    so equal lengths mean equal probabilities."""
    return max((p.score for r in comparison.results for p in r.masks[mask].predictions), default=1.0) or 1.0


def render_compare_columns(comparison: Comparison) -> str:
    """One column per model with its top-k at every mask; words in every model's top-k are marked as shared.

    At each mask the bars of all models share one scale (`shared_scale`) and one track width in pixels.
    """
    masks = len(comparison.agreement)
    names = mask_names(comparison.text, masks)
    scales = [shared_scale(comparison, m) for m in range(masks)]
    columns = []
    for name, device, result in zip(comparison.models, comparison.devices, comparison.results, strict=True):
        blocks = []
        for number, mask in enumerate(result.masks):
            shared = comparison.agreement[number].common_words
            top = scales[number]
            items = []
            for rank, p in enumerate(mask.predictions):
                classes = "shared" if word_key(p.token) in shared else ""
                width = 100 * p.score / top
                color = TOP1_COLOR if rank == 0 else BAR_COLOR
                items.append(
                    f"<li class='{classes}' title='{html.escape(p.piece, quote=True)} (id {p.token_id})'>"
                    f"<span class='word'>{escape_label(token_label(p.token))}</span>"
                    f"<span class='bar-track'><span class='bar' data-probability='{p.score:.6g}' "
                    f"style='width:{width:.2f}%;background:{color}'></span></span>"
                    f"<span class='prob'>{percent(p.score)}</span></li>"
                )
            blocks.append(f"<div class='compare-mask'><div class='compare-mask-title'>"
                          f"{escape_label(names[number])}</div><ol class='compare-topk'>{''.join(items)}</ol></div>")
        columns.append(
            f"<div class='compare-column' data-model='{html.escape(name, quote=True)}'>"
            f"<h4>{escape_label(name)}</h4><div class='muted'>{escape_label(device)} · "
            f"{len(result.tokens)} tokens</div>{''.join(blocks)}</div>"
        )
    scale_text = ", ".join(f"{escape_label(names[m])}: {percent(scales[m])}" for m in range(masks))
    legend = (f"<div class='muted compare-legend'>Bars: <span style='color:{TOP1_COLOR}'>■</span> each model's top-1, "
              f"<span style='color:{BAR_COLOR}'>■</span> the rest; <b style='color:{SHARED_COLOR}'>green words</b> "
              f"are in every model's top-k. All models' bars share one scale: a full bar is the largest probability "
              f"at that mask ({scale_text}). Each mask is predicted on its own, the others kept masked.</div>")
    return f"<div class='compare-columns'>{''.join(columns)}</div>{legend}"


def render_tokenisations(comparison: Comparison) -> str:
    """How each model split the sentence into tokens; its mask token highlighted."""
    rows = []
    for name, result in zip(comparison.models, comparison.results, strict=True):
        masks = {m.position for m in result.masks}
        chips = "".join(
            f"<span class='chip{' mask' if pos in masks else ''}' title='token {pos}: "
            f"{html.escape(token, quote=True)}'>"
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
    names = mask_names(comparison.text, len(comparison.agreement))
    for agreement in comparison.agreement:
        title = escape_label(names[agreement.mask])
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
    k = comparison.top_k
    return _matrix_table(f"Top-{k} overlap (words in both top-{k} ÷ {k})", comparison.models, cells)


def correlation_cell(rho: float | None, size: int) -> str:
    """One Spearman cell as a person reads it: the number and its set's size, or why there is no number."""
    if size < MIN_SHARED_WORDS:
        return f"too few words to correlate (n = {size})"
    if rho is None:
        return f"n/a: one side is constant (n = {size})"
    return f"{rho:+.2f} (n = {size})"


def _correlation_table(comparison: Comparison, agreement: MaskAgreement) -> str:
    cells = []
    for row, shared_row in zip(agreement.rank_correlation, agreement.shared_words, strict=True):
        cells.append([
            f"<td class='spearman{'' if rho is not None else ' muted'}' data-n='{size}'>"
            f"{correlation_cell(rho, size)}</td>"
            for rho, size in zip(row, shared_row, strict=True)
        ])
    caption = (f"Spearman rank correlation over the words in either model's top-{comparison.top_k} that both "
               f"write as one token (n = how many; under {MIN_SHARED_WORDS}: too few words to correlate)")
    return _matrix_table(caption, comparison.models, cells)


def _cross_table(cross: tuple[CrossProbability, ...]) -> str:
    if not cross:
        return ""
    rows = []
    for c in cross:
        if c.probability is not None:
            value = percent(c.probability)
            rank = str(c.first_piece_rank)
        else:
            value = f"<span class='muted'>n/a: several pieces; first piece {percent(c.first_piece_probability)}</span>"
            rank = f"{c.first_piece_rank} (first piece)"
        rows.append(f"<tr><td>{escape_label(c.model)}</td><td>{escape_label(c.word)}</td>"
                    f"<td>{escape_label(c.word_of)}</td><td>{value}</td><td>{rank}</td></tr>")
    return ("<table class='cross'><caption>Each model's probability for the other models' top-1 word</caption>"
            "<tr><th>model</th><th>word</th><th>top-1 of</th><th>probability</th><th>rank</th></tr>"
            + "".join(rows) + "</table>")


def plot_compare(comparison: Comparison) -> go.Figure:
    """Bar charts side by side: a column per model, a row per mask, the top-k fillers with probabilities.

    Every subplot has the same x axis (one range, linked zoom), so equal bars mean equal probabilities.

    Args:
        comparison: from `compare_models`.
    Returns:
        A plotly figure with [mask] x [model] subplots.
    """
    masks = len(comparison.agreement)
    models = len(comparison.models)
    names = mask_names(comparison.text, masks)
    titles = [
        escape_label(name) + (f" — {escape_label(names[m])}" if masks > 1 else "")
        for m in range(masks) for name in comparison.models
    ]
    figure = make_subplots(rows=masks, cols=models, subplot_titles=titles, horizontal_spacing=0.12,
                           vertical_spacing=min(0.3, 70 / max(1, masks * (comparison.top_k * 24 + 70))))
    top = max(shared_scale(comparison, m) for m in range(masks))
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
                    text=[percent(p.score) for p in predictions], textposition="outside", cliponaxis=False,
                    hovertext=labels, hovertemplate="%{hovertext}: %{x:.2%}<extra></extra>",
                ),
                row=m + 1, col=col,
            )  # fmt: skip
            figure.update_yaxes(tickmode="array", tickvals=positions, ticktext=labels, autorange="reversed",
                                row=m + 1, col=col)
    # One scale for every model and mask: the same range on every x axis, and zooming one zooms all.
    figure.update_xaxes(range=[0, min(1.0, top * 1.3)], tickformat=percent_format(top), matches="x")
    figure.update_layout(
        height=110 + masks * (comparison.top_k * 24 + 70),
        margin={"l": 80, "r": 30, "t": 90, "b": 30},
        template="plotly_white",
        title={"text": "Top-k side by side<br><span style='font-size:11px'>one scale for all · green: in every "
                       "model's top-k</span>", "font": {"size": 14}},
    )
    return figure
