"""Joint filling and ablated predictions as HTML: words side by side with what changed marked; escaped."""

from __future__ import annotations

import html

from explorer.figures.labels import escape_label, mask_name, token_label
from explorer.fill_mask import FillMaskResult
from explorer.joint import JointFill


def render_joint_fill(joint: JointFill) -> str:
    """The jointly filled sentence beside the independent top-1s, one row per mask, differences marked.

    Args:
        joint: from `fill_jointly`.
    Returns:
        An HTML fragment: the filled sentence, then a table of masks (joint word and its probability at its step,
        independent top-1 and its probability) where a differing row has the class "differs".
    """
    step_of = {step.mask: number for number, step in enumerate(joint.steps, start=1)}
    rows = []
    for mask, independent in enumerate(joint.independent):
        step = joint.steps[step_of[mask] - 1]
        differs = joint.differs[mask]
        mark = " class='differs'" if differs else ""
        rows.append(
            f"<tr{mark}><td>{mask_name(mask + 1)}</td><td>{step_of[mask]}</td>"
            f"<td><b>{escape_label(token_label(step.token))}</b></td><td>{step.probability:.4f}</td>"
            f"<td>{escape_label(token_label(independent.token))}</td><td>{independent.score:.4f}</td>"
            f"<td>{'≠ differs' if differs else '='}</td></tr>"
        )
    changed = sum(joint.differs)
    summary = (f"{changed} of {len(joint.independent)} mask(s) differ from the independent top-1s" if changed
               else "same words as the independent top-1s")
    return (
        f"<div class='joint-fill' id='joint-fill-result'>"
        f"<div class='filled-sentence'>{escape_label(joint.filled_text)}</div>"
        f"<div class='muted'>Filled one mask at a time ({html.escape(joint.order)}, beam {joint.beam}), the model "
        f"re-run with each word: log-probability {joint.log_probability:.3f}; {summary}.</div>"
        f"<table class='topk joint'><tr><th>mask</th><th>step</th><th>joint word</th><th>p at its step</th>"
        f"<th>independent top-1</th><th>p</th><th></th></tr>{''.join(rows)}</table></div>"
    )


def render_ablation_table(ablated: FillMaskResult, plain: FillMaskResult) -> str:
    """Top-k with the heads removed beside the top-k without removal, per mask; a word new to the top-k is bold."""
    tables = []
    for number, (after, before) in enumerate(zip(ablated.masks, plain.masks, strict=True), start=1):
        known = {p.token_id for p in before.predictions}
        rows = "".join(
            f"<tr><td>{rank}</td><td>{escape_label(token_label(b.token))}</td><td>{b.score:.4f}</td>"
            f"<td>{_maybe_bold(a.token, a.token_id not in known)}</td><td>{a.score:.4f}</td></tr>"
            for rank, (a, b) in enumerate(zip(after.predictions, before.predictions, strict=True), start=1)
        )
        tables.append(
            f"<table class='topk ablation'><caption>{mask_name(number)} (token {after.position})</caption>"
            f"<tr><th>#</th><th>all heads</th><th>p</th><th>heads removed</th><th>p</th></tr>{rows}</table>"
        )
    return "<div class='topk-tables' id='ablation-table'>" + "".join(tables) + "</div>"


def _maybe_bold(token: str, bold: bool) -> str:
    label = escape_label(token_label(token))
    return f"<b>{label}</b>" if bold else label
