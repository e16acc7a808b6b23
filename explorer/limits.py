"""Bounds on what one request may ask for, checked before any tokenising or model work.

A public server must answer every request in bounded memory, disk and time, so each argument a person sends is
checked here first, for its type and then for its size, with one kind of message ("top_k must be a whole number
from 1 to 100 here, not 'ten'."). `Limits` holds the bounds; the web app builds one from `serve` flags and
environment variables (`Limits.from_env`), the CLI uses `CLI_LIMITS` (larger, since a person runs it on their
own machine).

Applying the limits to a new endpoint is one call, naming each argument by its role:

    args = state.limits.check_request(text=text, model=model, top_k=top_k, items=pairs)
    text, top_k = args["text"], args["top_k"]

`check_request` knows the roles in `ROLES` (text, texts, model, models, top_k, mask, steps, target, contrast,
word, words, method, heads, rollout, items, layer, head); a new role is a new entry there. Given a text and a top_k it
also bounds the answer (masks x top_k x models). Sizes that only the model
knows (tokens, layers, heads) are checked after encoding with `check_attention` and `check_answer`.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from explorer.errors import InputError

# Control characters a text may hold: tab and line breaks (a browser's text box sends "\r\n" too).
_ALLOWED_CONTROLS = frozenset("\t\n\r")
# Spellings people type for a mask, whatever the model's own token is (kept here so no tokenizer is imported).
TYPED_MASKS = ("[MASK]", "<mask>")
TYPED_MASK_PATTERN = re.compile("|".join(re.escape(s) for s in TYPED_MASKS), re.IGNORECASE)


def check_parameter_count(parameters: int, limit: int, name: str) -> None:
    """Refuse the model `name` of `parameters` parameters when that is more than `limit`."""
    if parameters > limit:
        raise InputError(f"{name!r} has {parameters / 1e6:,.0f}M parameters; this server loads models of at most "
                         f"{limit / 1e6:,.0f}M. Pick a smaller model.")


def count_typed_masks(text: str) -> int:
    """How many masks a person typed as [MASK] or <mask> (any case), before any model is chosen."""
    return len(TYPED_MASK_PATTERN.findall(text or ""))


@dataclass(frozen=True, slots=True)
class Limits:
    """The most one request may ask for. Every field has an environment variable (`ENVIRONMENT[field]`)."""

    max_chars: int = 5_000  # characters of one text (tokens: the model's own maximum, checked when encoding)
    max_masks: int = 8  # masks in one text
    max_top_k: int = 100  # fillers per mask
    max_predictions: int = 4_000  # masks x top_k x models in one answer
    max_attention_weights: int = 4_000_000  # tokens^2 x layers x heads in one answer (about 45 MB of JSON)
    max_steps: int = 1_000  # integration steps of one attribution
    max_items: int = 64  # sentences or pairs in one scoring request
    max_word_chars: int = 100  # characters of one target or contrast word
    max_model_params: int = 600_000_000  # parameters of a model a request may load (checked before the weights)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: int | None) -> Limits:
        """Defaults, then `MLM_EXPLORER_MAX_*` environment variables, then `overrides` that are not None."""
        environ = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for field in fields(cls):
            raw = environ.get(ENVIRONMENT[field.name], "").strip()
            if raw:
                values[field.name] = _positive_setting(raw, ENVIRONMENT[field.name])
        for name, value in overrides.items():
            if value is not None:
                values[name] = _positive_setting(value, f"--{name.replace('_', '-')}")
        return replace(cls(), **values)

    def check_text(self, value: Any, name: str = "text") -> str:
        """`value` as a text within the bounds: a string, at most `max_chars` characters and `max_masks` masks,
        no control characters but tab and line breaks."""
        text = to_text(value, name)
        if len(text) > self.max_chars:
            raise InputError(f"The {name} is {len(text):,} characters long; this server reads at most "
                             f"{self.max_chars:,}. Shorten it and keep the [MASK].")
        check_characters(text, name)
        masks = count_typed_masks(text)
        if masks > self.max_masks:
            raise InputError(f"The {name} has {masks} masks; this server fills at most {self.max_masks} per text. "
                             f"Remove some [MASK]s.")
        return text

    def check_top_k(self, value: Any, name: str = "top_k") -> int:
        return to_whole_number(value, name, 1, self.max_top_k)

    def check_steps(self, value: Any, name: str = "steps") -> int:
        return to_whole_number(value, name, 1, self.max_steps)

    def check_word(self, value: Any, name: str = "target") -> str:
        """An optional word (a target or contrast): a string, "" meaning none, at most `max_word_chars`."""
        word = to_text(value, name).strip()
        if len(word) > self.max_word_chars:
            raise InputError(f"The {name} is {len(word):,} characters long; give one word of at most "
                             f"{self.max_word_chars} characters.")
        check_characters(word, name)
        return word

    def check_items(self, value: Any, name: str = "items") -> list[Any]:
        """A list of at most `max_items` entries (sentences, pairs); the entries are the caller's to check."""
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise InputError(f"{name} must be a list, not {_shown(value)}.")
        if not value:
            raise InputError(f"{name} is empty; give at least one.")
        if len(value) > self.max_items:
            raise InputError(f"{name} has {len(value)} entries; this server takes at most {self.max_items} per "
                             f"request. Send them in several requests.")
        return value

    def check_texts(self, value: Any, name: str = "texts") -> list[str]:
        return [self.check_text(t, f"{name}[{i}]") for i, t in enumerate(self.check_items(value, name))]

    def check_answer(self, masks: int, top_k: int, models: int = 1) -> None:
        """Refuse an answer of more than `max_predictions` predictions (masks x top_k x models)."""
        size = masks * top_k * models
        if size > self.max_predictions:
            raise InputError(f"That answer would hold {size:,} predictions ({masks} masks x top_k {top_k}"
                             + (f" x {models} models" if models > 1 else "")
                             + f"); this server gives at most {self.max_predictions:,}. Lower top_k or the masks.")

    def check_attention(self, tokens: int, layers: int, heads: int) -> None:
        """Refuse attention weights of more than `max_attention_weights` (tokens^2 x layers x heads)."""
        size = tokens * tokens * layers * heads
        if size > self.max_attention_weights:
            fits = int((self.max_attention_weights / max(1, layers * heads)) ** 0.5)
            raise InputError(
                f"This text is {tokens} tokens: its attention ({layers} layers x {heads} heads x {tokens}^2 = "
                f"{size:,} weights) is over this server's limit of {self.max_attention_weights:,}. Shorten it to "
                f"about {fits} tokens, or run `mlm-explorer attention --out FILE.npz` on your own machine."
            )

    def check_parameters(self, parameters: int, name: str) -> None:
        """Refuse a model with more than `max_model_params` parameters (before its weights are read)."""
        check_parameter_count(parameters, self.max_model_params, name)

    def check_request(self, **arguments: Any) -> dict[str, Any]:
        """Check every argument by its role (`ROLES`), in the order given; returns the checked values by name."""
        checked = {}
        for role, value in arguments.items():
            if role not in ROLES:
                raise TypeError(f"unknown request role {role!r}; add it to explorer.limits.ROLES")
            checked[role] = ROLES[role](self, value)
        if "text" in checked and "top_k" in checked:  # the answer's size: masks x top_k x models
            masks = count_typed_masks(checked["text"])
            self.check_answer(masks, checked["top_k"], len(checked.get("models", ())) or 1)
        return checked


def to_text(value: Any, name: str) -> str:
    """`value` when it is a string; otherwise an error naming the argument and what it got."""
    if not isinstance(value, str):
        raise InputError(f"{name} must be a string, not {_shown(value)}.")
    return value


def to_whole_number(value: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    """`value` as an int when it is a whole number (JSON clients may send 5.0) within [low, high]."""
    number: int | None = None
    if isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    if number is None or (low is not None and number < low) or (high is not None and number > high):
        bounds = (f" from {low} to {high}" if low is not None and high is not None
                  else f" of at least {low}" if low is not None else "")
        raise InputError(f"{name} must be a whole number{bounds} here, not {_shown(value)}.")
    return number


def to_flag(value: Any, name: str) -> bool:
    """`value` when it is true or false (JSON booleans; 0 and 1 too)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise InputError(f"{name} must be true or false, not {_shown(value)}.")


def to_names(value: Any, name: str) -> list[str]:
    """A list of strings (model names, words); one string counts as a list of one."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{name} must be a list of strings, not {_shown(value)}.")
    return list(value)


def check_characters(text: str, name: str = "text") -> None:
    """Refuse control characters other than tab and line breaks, and lone surrogates, which no tokenizer reads.

    Right-to-left text, combining marks, emoji (with their joiners) and CJK are all fine.
    """
    for position, char in enumerate(text):
        category = unicodedata.category(char)
        if (category == "Cc" and char not in _ALLOWED_CONTROLS) or category == "Cs":
            raise InputError(f"The {name} holds the control character U+{ord(char):04X} at position {position}; "
                             f"remove it (only tabs and line breaks may appear).")


def _shown(value: Any) -> str:
    """A wrong value as a message shows it: its type, and its start."""
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def _positive_setting(raw: Any, source: str) -> int:
    try:
        value = int(str(raw).replace("_", "").replace(",", ""))
    except ValueError:
        raise InputError(f"{source} must be a whole number, not {raw!r}.") from None
    if value < 1:
        raise InputError(f"{source} must be at least 1, not {value}.")
    return value


def _model(limits: Limits, value: Any) -> str:
    return to_text(value, "model")


def _optional_word(role: str) -> Callable[[Limits, Any], str]:
    return lambda limits, value: limits.check_word(value, role)


def _words(limits: Limits, value: Any) -> list[str]:
    words = to_names(value, "words")
    if len(words) > limits.max_items:
        raise InputError(f"{len(words)} words given; this server scores at most {limits.max_items} at once.")
    return [limits.check_word(w, "word") for w in words]


# Argument role -> its checker. Every API name uses these, so a wrong type reads like a wrong value everywhere.
ROLES: dict[str, Callable[[Limits, Any], Any]] = {
    "text": lambda limits, value: limits.check_text(value),
    "texts": lambda limits, value: limits.check_texts(value),
    "model": _model,
    "models": lambda limits, value: to_names(value, "models"),
    "top_k": lambda limits, value: limits.check_top_k(value),
    "mask": lambda limits, value: to_whole_number(value, "mask", 0, limits.max_masks - 1),
    "steps": lambda limits, value: limits.check_steps(value),
    "target": _optional_word("target"),
    "contrast": _optional_word("contrast"),
    "word": _optional_word("word"),
    "words": _words,
    "method": lambda limits, value: to_text(value, "method"),
    "heads": lambda limits, value: limits.check_text(value, "heads"),
    "rollout": lambda limits, value: to_flag(value, "rollout"),
    "items": lambda limits, value: limits.check_items(value),
    "layer": lambda limits, value: to_whole_number(value, "layer", 0),
    "head": lambda limits, value: to_whole_number(value, "head", 0),
}

ENVIRONMENT: dict[str, str] = {field.name: f"MLM_EXPLORER_{field.name.upper()}" for field in fields(Limits)}

# The command line runs on the user's own machine: larger bounds, but bounded (a huge --steps would allocate
# Gauss-Legendre's n x n matrix: 10 million steps asked for 728 TiB).
CLI_LIMITS = Limits(max_chars=1_000_000, max_masks=512, max_top_k=1_000_000, max_predictions=10**9,
                    max_attention_weights=4_000_000, max_steps=4_000, max_items=10**6, max_word_chars=1_000,
                    max_model_params=10**12)

