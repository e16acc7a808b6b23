"""Every head's attention weights for one text, and predictions plus attentions from one forward pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from explorer.encoding import Encoding, encode
from explorer.errors import InputError
from explorer.fill_mask import (
    FillMaskResult,
    TargetTokens,
    build_fill_mask_result,
    chain_rule_log_probs,
    check_top_k,
    encode_targets,
)
from explorer.forward import run_forward
from explorer.models import LoadedModel

# The byte layout of `AttentionMaps.weights`: float32, little-endian, C order.
WEIGHTS_DTYPE = np.dtype("<f4")
# What `summarize_heads` can compute for every head, and how to read it.
HEAD_SUMMARIES: dict[str, str] = {
    "entropy": "mean entropy of a query's attention, in bits (low: focused heads, high: broad heads)",
    "max": "mean largest weight of a query's attention (high: each token looks at one token)",
    "special": "mean weight on special tokens such as [CLS] and [SEP] (high: a 'no-op' head)",
}


@dataclass(frozen=True, slots=True)
class AttentionMaps:
    """The attention weights of every head of every layer for one text.

    The weights live in one immutable `bytes` buffer (float32, little-endian, C order, shape
    [layer, head, query_pos, key_pos]) rather than nested tuples: bert-base on 512 tokens has 38M weights, which
    as Python floats in tuples would take over a gigabyte. `array()` is a zero-copy read-only numpy view of it;
    `head()` and `row()` return plain nested tuples of floats. Row `query_pos` of a head is how that position
    spreads its attention over every `key_pos` (each row sums to 1).

    `mask_positions` and `special_positions` ([CLS], [SEP], <s>, ..., never the masks) index `tokens`.
    """

    model_name: str
    text: str
    tokens: tuple[str, ...]
    mask_positions: tuple[int, ...]
    special_positions: tuple[int, ...]
    layers: int
    heads: int
    weights: bytes = field(repr=False)  # float32 [layer, head, query_pos, key_pos]

    def __post_init__(self) -> None:
        expected = self.layers * self.heads * len(self.tokens) ** 2 * WEIGHTS_DTYPE.itemsize
        if len(self.weights) != expected:
            raise ValueError(
                f"weights hold {len(self.weights)} bytes but {self.layers} layers x {self.heads} heads x "
                f"{len(self.tokens)}^2 positions of float32 need {expected}"
            )

    @classmethod
    def from_array(
        cls,
        array: np.ndarray | torch.Tensor,
        *,
        model_name: str,
        text: str,
        tokens: Sequence[str],
        mask_positions: Sequence[int] = (),
        special_positions: Sequence[int] = (),
    ) -> AttentionMaps:
        """Build from an array of weights [layer, head, query_pos, key_pos] (numpy or torch, any float dtype)."""
        if isinstance(array, torch.Tensor):
            array = array.detach().float().cpu().numpy()
        weights = np.ascontiguousarray(array, dtype=WEIGHTS_DTYPE)  # [layer, head, query_pos, key_pos]
        if weights.ndim != 4 or weights.shape[2] != weights.shape[3] or weights.shape[2] != len(tokens):
            raise ValueError(
                f"expected weights [layer, head, {len(tokens)}, {len(tokens)}] for {len(tokens)} tokens, "
                f"got shape {tuple(weights.shape)}"
            )
        return cls(
            model_name=model_name,
            text=text,
            tokens=tuple(tokens),
            mask_positions=tuple(int(p) for p in mask_positions),
            special_positions=tuple(int(p) for p in special_positions),
            layers=int(weights.shape[0]),
            heads=int(weights.shape[1]),
            weights=weights.tobytes(),
        )

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(layer, head, query_pos, key_pos)."""
        n = len(self.tokens)
        return (self.layers, self.heads, n, n)

    def array(self) -> np.ndarray:
        """A read-only float32 numpy view of the weights [layer, head, query_pos, key_pos] (no copy)."""
        return np.frombuffer(self.weights, dtype=WEIGHTS_DTYPE).reshape(self.shape)

    def head(self, layer: int, head: int) -> tuple[tuple[float, ...], ...]:
        """One head's weights as nested tuples [query_pos][key_pos]."""
        self._check_head(layer, head)
        return tuple(tuple(row) for row in self.array()[layer, head].tolist())

    def row(self, layer: int, head: int, query_pos: int) -> tuple[float, ...]:
        """How position `query_pos` attends to every key position in one head [key_pos]."""
        self._check_head(layer, head)
        if not 0 <= query_pos < len(self.tokens):
            raise InputError(f"Position {query_pos} is out of range; this text has {len(self.tokens)} tokens.")
        return tuple(self.array()[layer, head, query_pos].tolist())

    def _check_head(self, layer: int, head: int) -> None:
        if not 0 <= layer < self.layers:
            raise InputError(f"Layer {layer} does not exist; choose a layer from 0 to {self.layers - 1}.")
        if not 0 <= head < self.heads:
            raise InputError(f"Head {head} does not exist; choose a head from 0 to {self.heads - 1}.")


@dataclass(frozen=True, slots=True)
class Analysis:
    """Predictions and attention weights of one text, both from the same single forward pass."""

    fill_mask: FillMaskResult
    attention: AttentionMaps


@dataclass(frozen=True, slots=True, eq=False)
class TextPass:
    """What one forward pass over a text gives, kept so that many results can be built from it without the model.

    An intermediate, not a user-facing result: it holds a tensor, which results never do. `analysis_from_pass`
    turns it into an `Analysis` for any top-k and targets; a cache of passes (the web app's) saves one forward pass
    per change of those. Nothing may write into `mask_logits`: several threads may read one pass at once.
    """

    encoding: Encoding
    mask_logits: torch.Tensor = field(repr=False)  # [mask, vocab] float32 on the CPU
    attention: AttentionMaps

    @property
    def nbytes(self) -> int:
        """What the pass holds in memory: the attention weights and the logits at the masks."""
        return len(self.attention.weights) + self.mask_logits.numel() * self.mask_logits.element_size()


def extract_attention(model: LoadedModel, text: str) -> AttentionMaps:
    """Every head's attention weights for `text`, from one forward pass.

    Args:
        model: a model from `load_model` (loaded with eager attention, which exposes the weights).
        text: a sentence with one or more masks ([MASK], <mask> or the model's own token).
    Returns:
        `AttentionMaps` with weights [layer, head, query_pos, key_pos] in float32.
    Raises:
        InputError: the text is empty, has no mask, or is too long for the model.
        ExplorerError: the model's attention implementation returns no weights.
    """
    return run_text_pass(model, text).attention


def run_text_pass(model: LoadedModel, text: str) -> TextPass:
    """Encode `text` and run the one forward pass that gives both the logits at the masks and every attention.

    Args:
        model: a model from `load_model`.
        text: a sentence with one or more masks ([MASK], <mask> or the model's own token).
    Returns:
        A `TextPass`: the `Encoding`, the logits at the masks [mask, vocab] (float32, CPU) and the `AttentionMaps`.
    Raises:
        InputError: the text is empty, has no mask, or is too long for the model.
    """
    encoding = encode(model, text)
    output = run_forward(model, encoding, attentions=True)
    return TextPass(
        encoding=encoding,
        mask_logits=output.mask_logits,
        attention=build_attention_maps(model, encoding, output.attentions),
    )


def analysis_from_pass(
    model: LoadedModel,
    text_pass: TextPass,
    top_k: int = 5,
    targets: Sequence[str] | None = None,
    *,
    skip_special_tokens: bool = False,
) -> Analysis:
    """The top-k fillers and attentions of a text from a pass already run: no forward pass.

    Args:
        model: the model that ran `text_pass` (its tokenizer names the predictions).
        text_pass: from `run_text_pass(model, text)`.
        top_k: how many fillers per mask, 1 to the vocabulary size.
        targets: words whose probability to report at every mask.
        skip_special_tokens: leave special tokens out of the top-k.
    Returns:
        The `Analysis` that `analyze_text(model, text, top_k, targets)` gives.
    """
    check_top_k(model, top_k)
    return _build_analysis(model, text_pass, top_k, encode_targets(model, targets or ()), skip_special_tokens)


def analyze_text(
    model: LoadedModel,
    text: str,
    top_k: int = 5,
    targets: Sequence[str] | None = None,
    *,
    skip_special_tokens: bool = False,
) -> Analysis:
    """The top-k fillers of every mask and every head's attention, from ONE forward pass (a target word of several
    pieces adds its chain-rule pass).

    The predictions equal `predict_masks(model, text, top_k, targets)` and the attentions equal
    `extract_attention(model, text)`, at the cost of a single pass. To build several analyses of one text (other
    top-k or targets), run the pass once with `run_text_pass` and call `analysis_from_pass` for each.

    Args:
        model: a model from `load_model`.
        text: a sentence with one or more masks.
        top_k: how many fillers per mask, 1 to the vocabulary size.
        targets: words whose probability to report at every mask.
        skip_special_tokens: leave special tokens out of the top-k.
    Returns:
        An `Analysis` holding the `FillMaskResult` and the `AttentionMaps`.
    """
    # Every input is checked before the (costly) pass.
    check_top_k(model, top_k)
    target_specs = encode_targets(model, targets or ())
    return _build_analysis(model, run_text_pass(model, text), top_k, target_specs, skip_special_tokens)


def _build_analysis(model: LoadedModel, text_pass: TextPass, top_k: int, target_specs: Sequence[TargetTokens],
                    skip_special_tokens: bool) -> Analysis:
    if text_pass.attention.model_name != model.info.name:
        raise ValueError(f"the pass was run by {text_pass.attention.model_name}, not by {model.info.name}")
    chains = chain_rule_log_probs(model, text_pass.encoding, target_specs)  # multi-piece targets only
    fill_mask = build_fill_mask_result(model, text_pass.encoding, text_pass.mask_logits, top_k, target_specs,
                                       skip_special_tokens, chains)
    return Analysis(fill_mask=fill_mask, attention=text_pass.attention)


def build_attention_maps(model: LoadedModel, encoding: Encoding, attentions: torch.Tensor) -> AttentionMaps:
    """Turn the attentions of a forward pass [layer, head, query_pos, key_pos] into `AttentionMaps`."""
    tokenizer = model.tokenizer
    special_ids = set(tokenizer.all_special_ids) - {tokenizer.mask_token_id}
    special_positions = tuple(i for i, token_id in enumerate(encoding.input_ids) if token_id in special_ids)
    return AttentionMaps.from_array(
        attentions,
        model_name=model.info.name,
        text=encoding.text,
        tokens=encoding.tokens,
        mask_positions=encoding.mask_positions,
        special_positions=special_positions,
    )


def summarize_heads(maps: AttentionMaps, summary: str = "entropy") -> tuple[tuple[float, ...], ...]:
    """One number per head that says how it attends, averaged over the query positions.

    Args:
        maps: the attention weights of one text.
        summary: a key of `HEAD_SUMMARIES`: "entropy" (bits), "max" or "special".
    Returns:
        Nested tuples [layer][head].
    """
    if summary not in HEAD_SUMMARIES:
        raise InputError(f"Unknown head summary {summary!r}; choose one of {', '.join(HEAD_SUMMARIES)}.")
    weights = maps.array().astype(np.float64)  # [layer, head, query_pos, key_pos]
    if summary == "entropy":
        # 0 * log 0 = 0: sliding-window heads (ModernBERT) give exact zeros outside their window.
        logs = np.log2(weights, out=np.zeros_like(weights), where=weights > 0)
        per_query = -(weights * logs).sum(axis=-1)  # [layer, head, query_pos]
    elif summary == "max":
        per_query = weights.max(axis=-1)  # [layer, head, query_pos]
    else:
        per_query = weights[..., list(maps.special_positions)].sum(axis=-1)  # [layer, head, query_pos]
    return tuple(tuple(row) for row in per_query.mean(axis=-1).tolist())
