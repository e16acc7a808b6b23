"""Turning typed text into model input: mask spellings mapped to the model's mask token, checked, tokenised once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from explorer.errors import InputError
from explorer.limits import TYPED_MASKS, check_characters
from explorer.models import LoadedModel

EXAMPLE = "Paris is the [MASK] of France."


@dataclass(frozen=True, slots=True)
class Encoding:
    """One text as the model reads it; plain Python values, no tensors.

    `model_inputs` holds every tokenizer output the model's forward takes (input_ids, attention_mask,
    token_type_ids, ...), each a tuple with one entry per position.
    """

    text: str
    model_text: str
    tokens: tuple[str, ...]
    input_ids: tuple[int, ...]
    mask_positions: tuple[int, ...]
    model_inputs: Mapping[str, tuple[int, ...]]


def parse_words(text: str | None) -> tuple[str, ...]:
    """Comma-separated words as typed in a box or a flag ("capital, city,"), blanks dropped."""
    return tuple(word.strip() for word in (text or "").split(",") if word.strip())


def normalize_masks(text: str, mask_token: str) -> str:
    """`text` with every typed mask ([MASK], <mask>, any case, or the model's own token) as `mask_token`."""
    spellings = sorted({mask_token, *TYPED_MASKS}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(s) for s in spellings), re.IGNORECASE)
    return pattern.sub(lambda _: mask_token, text)


def encode(model: LoadedModel, text: str) -> Encoding:
    """Check `text` and tokenise it once for `model`.

    Args:
        model: the loaded model whose tokenizer and limits apply.
        text: what the user typed, with one or more masks written as [MASK], <mask> or the model's token.
    Returns:
        The `Encoding`; `mask_positions` index `tokens`.
    """
    if not isinstance(text, str):
        raise InputError(f"The text must be a string, not {type(text).__name__}; type a sentence with [MASK] "
                         f'in it, e.g. "{EXAMPLE}"')
    if not text.strip():
        raise InputError(f'The text is empty; type a sentence with [MASK] in it, e.g. "{EXAMPLE}"')
    check_characters(text)
    tokenizer = model.tokenizer
    model_text = normalize_masks(text, tokenizer.mask_token)
    # No truncation: a silently cut text could lose its mask.
    batch = tokenizer(model_text, truncation=False, verbose=False)
    input_ids = tuple(int(i) for i in batch["input_ids"])
    check_token_count(model, len(input_ids), "The text", "shorten it and keep the [MASK].")
    mask_positions = tuple(i for i, token_id in enumerate(input_ids) if token_id == tokenizer.mask_token_id)
    if not mask_positions:
        raise InputError(f'No [MASK] in the text; try "{EXAMPLE}"')
    model_inputs = {name: tuple(int(v) for v in values) for name, values in batch.items()}
    return Encoding(
        text=text,
        model_text=model_text,
        tokens=tuple(tokenizer.convert_ids_to_tokens(list(input_ids))),
        input_ids=input_ids,
        mask_positions=mask_positions,
        model_inputs=model_inputs,
    )


def check_token_count(model: LoadedModel, count: int, subject: str, advice: str) -> None:
    """Refuse `count` tokens when the model reads fewer; `subject` names what is too long, `advice` the fix."""
    limit = model.info.max_length
    if count > limit:
        raise InputError(f"{subject} is {count} tokens long but {model.info.name} reads at most {limit} tokens; "
                         f"{advice}")
