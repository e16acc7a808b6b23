"""How tokens, words and masks are written on charts, in HTML and in the terminal: one rule for every view.

Plotly renders a subset of HTML in its labels and hover texts, and HTML fragments are inserted as markup, so every
string from a user or a tokenizer passes `escape_label` before it reaches either. `token_label` itself does not
escape (the terminal needs no escaping).
"""

from __future__ import annotations

import html


def token_label(token: str) -> str:
    """A token or vocabulary piece as a label: surrounding whitespace dropped (" cat" reads "cat"), a token that is
    only whitespace shown as one "␣" per character, the empty token as "∅".

    Args:
        token: a decoded token (a pipeline's token_str) or a vocabulary piece.
    Returns:
        Text that is never blank; not escaped.
    """
    if token == "":
        return "∅"
    if token.strip() == "":
        return "␣" * len(token)
    return token.strip()


def escape_label(text: str) -> str:
    """`text` safe as plotly label text and as HTML element content: `&`, `<` and `>` become entities.

    Quotes are left alone: plotly decodes only a few named entities and would show `&quot;` literally, and element
    content needs no quote escaping. A value inside an HTML attribute needs `html.escape(text, quote=True)`.
    """
    return html.escape(text, quote=False)


def mask_label(number: int, count: int) -> str:
    """Which mask, in words: "mask" when the text has one, else "mask 2 of 3".

    Args:
        number: the mask, counting from 1.
        count: how many masks the text has.
    """
    return "mask" if count == 1 else f"mask {number} of {count}"
