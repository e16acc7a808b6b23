"""Exports (explorer/ui/export.py): JSON files hold the documents, plots carry a PNG button that needs no server."""

from __future__ import annotations

import json
from pathlib import Path

import plotly.graph_objects as go

from explorer.ui import export
from explorer.ui.export import plot_with_png_button, write_json_file


def test_write_json_file_holds_the_document_under_a_readable_name():
    document = {"model": "mini-bert", "text": "é <b>", "results": [1.5, None]}
    path = Path(write_json_file(document, "predict"))
    assert path.name == "predict.json"
    assert json.loads(path.read_text(encoding="utf-8")) == document


def test_old_exports_are_removed_beyond_the_bound(monkeypatch):
    monkeypatch.setattr(export, "MAX_EXPORTS", 3)
    paths = [Path(write_json_file({"n": n}, "x")) for n in range(6)]
    assert sum(p.exists() for p in paths) <= 3 and paths[-1].exists()


def test_old_exports_are_removed_beyond_the_byte_bound(monkeypatch):
    monkeypatch.setattr(export, "MAX_EXPORT_BYTES", 2500)
    paths = [Path(write_json_file({"n": "x" * 1000}, "x")) for n in range(5)]
    assert sum(p.exists() for p in paths) <= 3 and paths[-1].exists()


def test_file_names_cannot_leave_the_export_folder():
    path = Path(write_json_file({}, "../../etc/passwd"))
    assert path.parent.parent == Path(write_json_file({}, "x")).parent.parent
    assert path.name == "etc-passwd.json"


def test_plots_show_the_png_button_with_the_file_name():
    figure = go.Figure(go.Bar(x=[1, 2], y=[3, 4]))
    data = plot_with_png_button(figure, "mlm-explorer-predict")
    assert data.type == "plotly"
    document = json.loads(data.plot)
    assert document["data"][0]["y"] == [3, 4]
    assert document["config"]["displayModeBar"] is True
    assert document["config"]["toImageButtonOptions"] == {"format": "png", "filename": "mlm-explorer-predict",
                                                          "scale": 2}
