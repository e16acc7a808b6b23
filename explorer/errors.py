"""The project's own exception types: every message says what to do next."""

from __future__ import annotations


class ExplorerError(Exception):
    """Base class of every error MLM Explorer reports to a person (CLI, web page, API)."""


class InputError(ExplorerError):
    """The user's input cannot be used as given (empty text, no mask, bad top-k, too long, ...)."""


class ModelLoadError(ExplorerError):
    """A model could not be loaded, or is not a masked language model."""
