"""Shareable state: the page's inputs in the URL query (`?model=...&text=...`), read when the page opens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from explorer.compare import MAX_MODELS
from explorer.encoding import parse_words
from explorer.ui.page import MAX_TOP_K

VIEWS = ("predict", "attention", "attribution", "compare", "layers", "score")
MAX_TEXT = 2000


@dataclass(frozen=True, slots=True)
class SharedQuery:
    """What a shared link asks for; None where the link says nothing."""

    model: str | None = None
    text: str | None = None
    top_k: int | None = None
    targets: str | None = None
    view: str | None = None
    models: tuple[str, ...] = ()

    @property
    def runs(self) -> bool:
        """Whether the link names something to compute (a sentence or a model), so the page runs on opening."""
        return self.text is not None or self.model is not None


def read_query(params: Mapping[str, str]) -> SharedQuery:
    """Parse the URL query of a shared link; values that make no sense are ignored, never trusted further."""
    def text_of(key: str, limit: int = 200) -> str | None:
        value = params.get(key)
        return value[:limit] if isinstance(value, str) and value.strip() else None

    top_k = None
    raw_k = params.get("top_k") or ""
    if raw_k.isdigit():
        top_k = min(max(int(raw_k), 1), MAX_TOP_K)
    view = (params.get("view") or "").lower()
    models = parse_words(params.get("models"))[:MAX_MODELS]
    return SharedQuery(
        model=text_of("model"),
        text=text_of("text", MAX_TEXT),
        top_k=top_k,
        targets=text_of("targets"),
        view=view if view in VIEWS else None,
        models=models,
    )


def build_share_query(model: str, text: str, top_k: int | None = None, targets: str = "", view: str = "predict",
                      models: tuple[str, ...] = (), settings: Mapping[str, str] | None = None) -> str:
    """The query string (with its leading "?") that reopens the page in this state, on the tab `view`.

    `settings` are a tab's own values (e.g. {"layer": "2", "head": "5"}), read back by
    `explorer.ui.result_frame.apply_links`.
    """
    params: dict[str, str] = {"model": model, "text": text}
    if top_k is not None:
        params["top_k"] = str(top_k)
    if targets.strip():
        params["targets"] = targets.strip()
    params["view"] = view
    if models:
        params["models"] = ",".join(models)
    for key, value in (settings or {}).items():
        params.setdefault(key, value)
    return "?" + urlencode(params)
