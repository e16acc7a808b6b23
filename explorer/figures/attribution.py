"""Attributions as pictures: the sentence with each token coloured by its score, a bar chart, and the
completeness check f(x) − f(x') against the sum of the scores and Captum's delta.

Colours come from one diverging palette (ColorBrewer RdBu, readable with the common colour-vision deficiencies):
blue pushed the attributed score up, red pushed it down, white did nothing; the scale is symmetric around 0 and set
by the largest |score|. Every string from a user or a tokenizer is escaped before it goes into HTML or a plotly label.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

from explorer.attribution import METHOD_NAMES, TokenAttribution, convergence_warning
from explorer.figures.labels import escape_label, token_label, typed_mask_name

POSITIVE = (33, 102, 172)  # RdBu #2166ac
NEGATIVE = (178, 24, 43)  # RdBu #b2182b
NEUTRAL = (247, 247, 247)  # RdBu #f7f7f7
SPECIAL_COLOR = "#adb5bd"
MASK_OUTLINE = "#e8590c"


def score_color(score: float, scale: float) -> str:
    """The palette colour of `score` on a symmetric scale [-scale, scale], as "#rrggbb"."""
    if scale <= 0 or score == 0:
        return _hex(NEUTRAL)
    share = min(1.0, abs(score) / scale)
    end = POSITIVE if score > 0 else NEGATIVE
    return _hex(tuple(round(n + (e - n) * share) for n, e in zip(NEUTRAL, end, strict=True)))


def render_attribution_tokens(result: TokenAttribution) -> str:
    """The text as coloured token chips (escaped HTML with inline styles), a caption and a colour legend.

    Args:
        result: an attribution from `attribute_tokens`.
    Returns:
        An HTML fragment; hovering a token shows its position and score.
    """
    scale = _scale(result)
    chips = []
    for pos, (text, score) in enumerate(zip(result.token_texts, result.scores, strict=True)):
        color = score_color(score, scale)
        ink = "#ffffff" if scale > 0 and abs(score) / scale > 0.6 else "#212529"
        outline = f"outline:2px solid {MASK_OUTLINE};" if pos == result.mask_position else ""
        note = " (the mask being explained)" if pos == result.mask_position else (
            " (special token, kept in the baseline)" if result.special[pos] else "")
        title = f"token {pos} '{token_label(result.tokens[pos])}': {score:+.4g}{note}"
        chips.append(
            f"<span class='attribution-token' title='{html.escape(title, quote=True)}' "
            f"style='display:inline-block;margin:2px;padding:2px 5px;border-radius:4px;background:{color};"
            f"color:{ink};{outline}font-family:monospace'>{escape_label(token_label(text))}</span>"
        )
    target = escape_label(result.score_label)
    caption = (
        f"<p class='attribution-caption'>{escape_label(METHOD_NAMES[result.method])} of <b>{target}</b> at "
        f"{escape_label(_mask_name(result))} (<span style='outline:2px solid {MASK_OUTLINE}'>outlined</span>): "
        f"<span style='color:{_hex(POSITIVE)}'>blue</span> raised it, <span style='color:{_hex(NEGATIVE)}'>red"
        f"</span> lowered it, <span style='color:{SPECIAL_COLOR}'>grey</span> special tokens (kept in the "
        f"baseline).</p>"
    )
    legend = (
        f"<div class='attribution-legend' style='font-size:0.85em'>{-scale:+.3g} "
        f"<span style='display:inline-block;width:160px;height:0.8em;vertical-align:middle;background:"
        f"linear-gradient(to right,{_hex(NEGATIVE)},{_hex(NEUTRAL)},{_hex(POSITIVE)})'></span> {scale:+.3g}</div>"
    )
    return (f"<div class='mlm-attribution'>{caption}<div class='attribution-tokens' style='line-height:2'>"
            f"{''.join(chips)}</div>{legend}</div>")


def plot_attribution(result: TokenAttribution) -> go.Figure:
    """A bar per token: its score, coloured by sign; special tokens grey, the explained mask outlined.

    Args:
        result: an attribution from `attribute_tokens`.
    Returns:
        A plotly figure, tokens in text order along x.
    """
    positions = list(range(len(result.tokens)))
    labels = [escape_label(token_label(t)) for t in result.token_texts]
    colors = [
        SPECIAL_COLOR if special else _hex(POSITIVE if score >= 0 else NEGATIVE)
        for score, special in zip(result.scores, result.special, strict=True)
    ]
    figure = go.Figure(
        go.Bar(
            x=positions,
            y=list(result.scores),
            marker_color=colors,
            marker_line_color=[MASK_OUTLINE if p == result.mask_position else "rgba(0,0,0,0)" for p in positions],
            marker_line_width=2,
            customdata=[[escape_label(piece)] for piece in result.tokens],
            hovertext=labels,
            hovertemplate="token %{x}: %{hovertext} (%{customdata[0]})<br>score %{y:+.4g}<extra></extra>",
            showlegend=False,
        )
    )
    # The legend explains the colours and the orange outline; its entries draw nothing on the chart.
    for name, color, line in (("raised it", _hex(POSITIVE), None), ("lowered it", _hex(NEGATIVE), None),
                              ("special token", SPECIAL_COLOR, None),
                              ("the mask being explained", "rgba(0,0,0,0)", MASK_OUTLINE)):
        figure.add_trace(go.Bar(x=[None], y=[None], name=name, marker_color=color, hoverinfo="skip",
                                marker_line_color=line or color, marker_line_width=2 if line else 0))
    title = f"{escape_label(METHOD_NAMES[result.method])} of {escape_label(result.score_label)}"
    figure.update_xaxes(tickmode="array", tickvals=positions, ticktext=labels, tickangle=-45 if len(labels) > 12 else 0)
    figure.update_yaxes(title_text=f"attribution ({result.attributed.replace('_', ' ')})", zeroline=True)
    figure.update_layout(
        title={"text": title + f" <span style='font-size:11px'>at {escape_label(_mask_name(result))}</span>"},
        height=400, margin={"l": 60, "r": 20, "t": 90, "b": 80}, template="plotly_white", bargap=0.2,
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}, barmode="overlay",
    )
    return figure


def _mask_name(result: TokenAttribution) -> str:
    """The explained mask as every view names it ("mask 1 · 'the [MASK] of'")."""
    return typed_mask_name(result.text, result.mask_index)


def render_completeness(result: TokenAttribution) -> str:
    """f(x), f(x'), f(x) − f(x'), the sum of the scores and the delta as an HTML table, with a visible warning
    (suggesting more steps) when |delta| is large against f(x) − f(x').

    Args:
        result: an attribution from `attribute_tokens`.
    Returns:
        An HTML fragment.
    """
    label = escape_label(result.score_label)
    rows = [
        (f"f(x): {label} at the input", _number(result.score_input)),
        (f"f(x′): {label} at the baseline", _number(result.score_baseline)),
        ("f(x) − f(x′)", _number(result.change)),
        ("sum of the token scores", _number(result.total)),
    ]
    if result.delta is not None:
        rows.append(("convergence delta (sum − (f(x) − f(x′)))",
                     f"{_number(result.delta)} ({result.relative_delta:.2%} of f(x) − f(x′))"))
    table = "".join(f"<tr><td>{name}</td><td style='text-align:right;font-family:monospace'>{value}</td></tr>"
                    for name, value in rows)
    parts = [f"<table class='attribution-completeness'>{table}</table>",
             f"<p class='attribution-baseline' style='font-size:0.85em'>Baseline x′: "
             f"{escape_label(result.baseline)}.</p>"]
    if result.method == "ig":
        parts.append(f"<p style='font-size:0.85em'>{result.steps} integration steps; integrated gradients promise "
                     f"sum of scores = f(x) − f(x′), the delta is how far they miss it.</p>")
    else:
        parts.append(f"<p style='font-size:0.85em'>{escape_label(METHOD_NAMES[result.method]).capitalize()} does not "
                     f"promise that the scores add up to f(x) − f(x′), so there is no convergence delta.</p>")
    warning = convergence_warning(result)
    if warning is not None:
        parts.append(
            f"<div class='attribution-warning' role='alert' style='border-left:4px solid #e8590c;"
            f"background:#fff4e6;padding:6px 10px;margin-top:6px'>⚠ {escape_label(warning)}</div>"
        )
    return f"<div class='mlm-attribution-check'>{''.join(parts)}</div>"


def _scale(result: TokenAttribution) -> float:
    return max((abs(s) for s in result.scores), default=0.0)


def _number(value: float) -> str:
    return escape_label(f"{value:+.6g}")


def _hex(rgb: tuple[int, ...]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)
