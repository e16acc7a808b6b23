"""How tokens, words, masks, probabilities and filled sentences are written on charts, in HTML and in the terminal:
one rule for every view.

- A token is shown as `token_label` writes it, whether it comes decoded (" cat") or as a vocabulary piece
  ("Ġcat", "▁cat"): word-start marks and byte-level escapes are dropped, a WordPiece continuation keeps its
  "##" (the sign that it is glued to the piece before). Tables may add the raw piece in a column of its own.
- A mask is named `mask_name(number, context)`, e.g. "mask 1 · 'the [MASK] of'", in the page, the CLI's tables and
  the figures' titles; `mask_contexts(text)` gives each typed mask's context.
- A probability reads as a percentage (`percent`); JSON documents keep probabilities.

Plotly renders a subset of HTML in its labels and hover texts, and HTML fragments are inserted as markup, so every
string from a user or a tokenizer passes `escape_label` before it reaches either. `token_label` itself does not
escape (the terminal needs no escaping).
"""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

from explorer.limits import TYPED_MASK_PATTERN

_CONTEXT_WORD_CHARS = 14


def token_label(token: str) -> str:
    """A token or vocabulary piece as a label: surrounding whitespace dropped (" cat" reads "cat"), a token that is
    only whitespace shown as one "␣" per character, the empty token as "∅".

    Args:
        token: a decoded token (a pipeline's token_str) or a vocabulary piece.
    Returns:
        Text that is never blank; not escaped.
    """
    token = _readable_piece(token)
    if token == "":
        return "∅"
    if token.strip() == "":
        return "␣" * len(token)
    return token.strip()


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet, reversed: the character a BPE vocabulary writes for each byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    codes = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(printable, codes, strict=True)}


def _readable_piece(token: str) -> str:
    """A vocabulary piece's text: SentencePiece's "▁" and byte-level BPE's shifted bytes ("Ġ" space, "Ċ" newline,
    "Ã©" é) decoded; anything else (decoded tokens, WordPiece pieces) unchanged."""
    if "▁" in token:
        return token.replace("▁", " ")
    # Byte-level only when the piece has a shifted byte (U+0100-U+0143: "Ġ", "Ċ") or non-ASCII that reads as UTF-8
    # ("Ã©"); a WordPiece "très" is no valid UTF-8 as bytes, so it stays as it is.
    if any(ord(c) >= 0x80 for c in token):
        decoder = _byte_decoder()
        if all(c in decoder for c in token):
            try:
                return bytes(decoder[c] for c in token).decode("utf-8")
            except UnicodeDecodeError:
                return token  # part of a multi-byte character: the piece as written
    return token


def percent(probability: float) -> str:
    """A probability as a percentage for people: "46.0%", "0.42%", and "3.1e-05%" below a thousandth of one."""
    value = 100 * probability
    if value >= 1:
        return f"{value:.1f}%"
    if value >= 0.001:
        return f"{value:.3g}%"
    return f"{value:.1e}%"


def mask_contexts(text: str) -> list[str]:
    """For each mask typed in `text` ([MASK] or <mask>), the word before, the mask and the word after, as typed:
    "Paris is the [MASK] of France." gives ["the [MASK] of"]."""
    spans = [m.span() for m in TYPED_MASK_PATTERN.finditer(text or "")]
    contexts = []
    for start, end in spans:
        before = text[:start].split()
        after = text[end:].split()
        glued_before = bool(before) and not text[:start][-1:].isspace()
        glued_after = bool(after) and not text[end:][:1].isspace()
        word_before = TYPED_MASK_PATTERN.sub("[MASK]", before[-1])[-_CONTEXT_WORD_CHARS:] if before else ""
        word_after = TYPED_MASK_PATTERN.sub("[MASK]", after[0])[:_CONTEXT_WORD_CHARS] if after else ""
        context = (word_before + ("" if glued_before else " ") if word_before else "") + "[MASK]"
        context += ("" if glued_after else " ") + word_after if word_after else ""
        contexts.append(context.strip())
    return contexts


def mask_name(number: int, context: str = "") -> str:
    """The one name of a mask in every view: "mask 2 · 'the [MASK] was'" (without a context: "mask 2").

    Args:
        number: the mask, counting from 1.
        context: from `mask_contexts`; not escaped.
    """
    return f"mask {number} · '{context}'" if context else f"mask {number}"


def typed_mask_name(text: str, index: int) -> str:
    """The name of the typed mask `index` (from 0) of `text`, with its context when the text has that many."""
    contexts = mask_contexts(text)
    return mask_name(index + 1, contexts[index] if index < len(contexts) else "")


def mask_names(text: str, count: int) -> list[str]:
    """The names of the `count` masks a model found in `text`; contexts only when they match the typed masks."""
    contexts = mask_contexts(text)
    if len(contexts) != count:
        contexts = [""] * count
    return [mask_name(number, context) for number, context in enumerate(contexts, start=1)]


def filled_segments(result: Any) -> list[tuple[str, Any]]:
    """The typed sentence with each mask's top-1 filler, detokenised as the model would write it, in pieces:
    (text, None) for typed text and (word, prediction) for a filler.

    A filler that continues a word (a WordPiece "##us", or a byte-level/SentencePiece piece without its word-start
    mark) is glued to the text before it: "très [MASK]" filled with "##us" reads "trèsus", never "très ##us".

    Args:
        result: a `FillMaskResult` (duck-typed, so that this module imports no torch).
    Returns:
        Segments whose texts joined give the filled sentence; empty when the masks cannot be found in the text.
    """
    if not result.masks:
        return [(result.text, None)]
    mask_token = result.tokens[result.masks[0].position]
    parts = result.model_text.split(mask_token)
    if len(parts) != len(result.masks) + 1:
        return []
    marks_starts = any(t.startswith(("Ġ", "▁")) for t in result.tokens)
    segments: list[tuple[str, Any]] = [(parts[0], None)]
    for mask, after in zip(result.masks, parts[1:], strict=True):
        best = mask.predictions[0]
        piece = best.piece
        continues = piece.startswith("##") and len(piece) > 2 or (
            marks_starts and not piece.startswith(("Ġ", "▁")) and not best.token[:1].isspace()
            and best.token.strip() != "" and best.token.strip()[0].isalnum())
        word = token_label(piece[2:] if piece.startswith("##") and len(piece) > 2 else best.token)
        if continues:
            text, _ = segments[-1]
            segments[-1] = (text.rstrip(), None)
        segments.append((word, best))
        segments.append((after, None))
    return [(text, p) for text, p in segments if text or p is not None]


def filled_sentence(result: Any) -> str:
    """The filled sentence as plain text (the CLI's "filled:" line; the page highlights the same words)."""
    segments = filled_segments(result)
    return "".join(text for text, _ in segments) if segments else result.filled_text


def escape_label(text: str) -> str:
    """`text` safe as plotly label text and as HTML element content: `&`, `<` and `>` become entities.

    Quotes are left alone: plotly decodes only a few named entities and would show `&quot;` literally, and element
    content needs no quote escaping. A value inside an HTML attribute needs `html.escape(text, quote=True)`.
    """
    return html.escape(text, quote=False)


