"""Figures and HTML made from results: plotly figures and escaped HTML, never tensor math."""
