"""The look every chart shares: titles at the left, clear of the toolbar that plotly draws at the top right."""

from __future__ import annotations

import plotly.graph_objects as go

TITLE_FONT = {"size": 15}
SUBPLOT_TITLE_FONT = {"size": 12}


def tidy_titles(figure: go.Figure) -> go.Figure:
    """Put the figure's title and its subplots' titles at the left edge of their plots (the toolbar sits at the
    right), in one font; returns the same figure."""
    if figure.layout.title.text:
        figure.update_layout(title={"x": 0, "xref": "paper", "xanchor": "left", "font": TITLE_FONT})
    domains = [axis.domain for name, axis in _axes(figure, "xaxis")]
    for annotation in figure.layout.annotations:
        # make_subplots writes each subplot title as a paper annotation centred over its subplot's domain
        if annotation.xref == "paper" and annotation.yanchor == "bottom" and annotation.xanchor == "center":
            left = next((d[0] for d in domains if d and abs((d[0] + d[1]) / 2 - annotation.x) < 1e-6), None)
            if left is not None:
                annotation.update(x=left, xanchor="left", font=SUBPLOT_TITLE_FONT)
    return figure


def _axes(figure: go.Figure, prefix: str) -> list:
    layout = figure.layout
    return [(name, layout[name]) for name in layout.to_plotly_json() if name.startswith(prefix)]
