"""One log line per web request: endpoint, model, sizes, duration, outcome — never the user's text.

`--log-format json` writes each line as one JSON object for log collectors.
"""

from __future__ import annotations

import inspect
import json
import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any

from explorer.limits import count_typed_masks

LOGGER = logging.getLogger("explorer.requests")
LOG_FORMATS = ("text", "json")

# Handler parameter name -> the size field it gives (its value, never the text itself).
_SIZES: dict[str, Callable[[Any], tuple[str, Any]]] = {
    "text": lambda v: ("chars", len(v)),
    "top_k": lambda v: ("top_k", v),
    "steps": lambda v: ("steps", v),
    "step_count": lambda v: ("steps", v),
    "mask": lambda v: ("mask", v),
    "mask_index": lambda v: ("mask", v),
    "models": lambda v: ("models", len(v)),
    "model_names": lambda v: ("models", len(v)),
    "texts": lambda v: ("items", len(v)),
    "pairs": lambda v: ("items", len(v)),
}
_MODEL_PARAMETERS = ("model", "model_name")


def request_fields(handler: Callable[..., Any], args: tuple, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The loggable facts of one call: the model's name and the sizes of the arguments (not their text)."""
    try:
        bound = inspect.signature(handler).bind_partial(*args, **kwargs).arguments
    except (TypeError, ValueError):
        return {}
    fields: dict[str, Any] = {}
    for name, value in bound.items():
        if name in _MODEL_PARAMETERS and isinstance(value, str):
            fields["model"] = value[:100]
        elif name in _SIZES:
            try:
                key, size = _SIZES[name](value)
            except TypeError:  # a wrong type: the request is refused, and its size is not a number
                continue
            if isinstance(size, (int, float)) and not isinstance(size, bool):
                fields[key] = size
        if name == "text" and isinstance(value, str):
            fields["masks"] = count_typed_masks(value)
    return fields


def log_request(endpoint: str, handler: Callable[..., Any], args: tuple, kwargs: Mapping[str, Any],
                seconds: float, outcome: str) -> None:
    """Log one line at INFO (at WARNING for failures) for a finished request."""
    if not LOGGER.isEnabledFor(logging.INFO):
        return
    fields = {"endpoint": endpoint, **request_fields(handler, args, kwargs), "seconds": round(seconds, 4),
              "outcome": outcome}
    level = logging.WARNING if outcome == "failure" else logging.INFO
    LOGGER.log(level, " ".join(f"{k}={v}" for k, v in fields.items()), extra={"request": fields})


class JsonFormatter(logging.Formatter):
    """Each record as one JSON object: time, level, logger, message, and a request's fields at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {"time": self.formatTime(record), "level": record.levelname,
                                    "logger": record.name}
        request = getattr(record, "request", None)
        if isinstance(request, dict):
            document.update(request)
        else:
            document["message"] = record.getMessage()
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """Send the app's request lines to stderr, as text or JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("explorer")
    logger.handlers = [handler]
    logger.setLevel(level)
    logger.propagate = False
