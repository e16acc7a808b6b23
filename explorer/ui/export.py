"""Exports from the page: results as JSON files (the CLI's schema) and plots whose toolbar saves a PNG.

PNG export runs in the browser: plotly's own toolbar button ("Download plot as a png") draws the chart to a canvas
and saves it, with no server round trip, no extra dependency and no network (kaleido, plotly's server-side route,
needs a Chrome driven per export).
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from gradio.components.plot import PlotData
from gradio.utils import get_upload_folder

from explorer.figures.layout import tidy_titles

# Downloads written per process; the oldest are removed beyond this many, or beyond this many bytes in all.
MAX_EXPORTS = 200
MAX_EXPORT_BYTES = 1024 * 2**20

_lock = threading.Lock()
_export_root: Path | None = None


def plot_with_png_button(figure: go.Figure, name: str) -> PlotData:
    """A figure for `gr.Plot` whose toolbar is always shown and saves `<name>.png` at twice the screen size.

    The toolbar keeps three buttons (PNG, zoom, reset), so it stays short and clear of the left-aligned titles.
    """
    document = json.loads(tidy_titles(figure).to_json())
    document["config"] = {
        "displayModeBar": True,
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": _safe_name(name), "scale": 2},
        "modeBarButtonsToRemove": ["select2d", "lasso2d", "pan2d", "zoomIn2d", "zoomOut2d", "autoScale2d"],
    }
    return PlotData(type="plotly", plot=json.dumps(document))


def write_json_file(document: dict[str, Any], name: str) -> str:
    """Write `document` to `<name>.json` in a fresh folder and return its path, for a `gr.DownloadButton`.

    The folder is inside Gradio's own cache folder, so Gradio serves the file from there instead of keeping a
    second copy; it holds at most `MAX_EXPORTS` downloads and is removed when the process exits.
    """
    folder = _export_dir() / uuid.uuid4().hex
    folder.mkdir()
    path = folder / f"{_safe_name(name)}.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return str(path)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:80] or "mlm-explorer"


def _export_dir() -> Path:
    global _export_root
    with _lock:
        if _export_root is None or not _export_root.is_dir():
            cache = Path(get_upload_folder())
            cache.mkdir(parents=True, exist_ok=True)
            _export_root = Path(tempfile.mkdtemp(prefix="mlm-explorer-exports-", dir=cache))
        folders = sorted(_export_root.iterdir(), key=lambda p: p.stat().st_mtime)
        for old in folders[: max(0, len(folders) - MAX_EXPORTS + 1)]:
            shutil.rmtree(old, ignore_errors=True)
        kept = folders[max(0, len(folders) - MAX_EXPORTS + 1):]
        sizes = [sum(f.stat().st_size for f in folder.iterdir()) for folder in kept]
        while kept and sum(sizes) > MAX_EXPORT_BYTES:
            shutil.rmtree(kept.pop(0), ignore_errors=True)
            sizes.pop(0)
        return _export_root


def remove_exports() -> None:
    """Delete this process's download folder (run at exit)."""
    global _export_root
    with _lock:
        if _export_root is not None:
            shutil.rmtree(_export_root, ignore_errors=True)
            _export_root = None


atexit.register(remove_exports)
