"""Layer by layer: the model's own MLM head applied to every layer's hidden state at the masks (a logit lens)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from explorer.encoding import encode
from explorer.errors import ExplorerError
from explorer.fill_mask import Prediction, check_top_k, to_predictions
from explorer.forward import model_inputs, narrow_positions
from explorer.models import LoadedModel


@dataclass(frozen=True, slots=True)
class FinalTop1:
    """Where the last layer's top-1 word stands at one layer: `rank` 1 = that layer's top."""

    token_id: int
    token: str
    rank: int
    score: float


@dataclass(frozen=True, slots=True)
class LayerPrediction:
    """The head's top-k at one mask from one layer's hidden state (layer 0 = the embedding output)."""

    layer: int
    predictions: tuple[Prediction, ...]
    final_top1: FinalTop1


@dataclass(frozen=True, slots=True)
class MaskLayers:
    """Every layer's predictions at one mask; `position` indexes the result's `tokens`.

    `word_ids` are the words in the top-k of at least one layer (by their best rank, then first layer); `word_scores`
    [layer][word] is each one's probability at every layer, for a layers x words picture.
    """

    position: int
    layers: tuple[LayerPrediction, ...]
    word_ids: tuple[int, ...] = ()
    words: tuple[str, ...] = ()
    word_scores: tuple[tuple[float, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class LayerPredictions:
    """The logit lens of one text: for every mask, layers 0..`layers` (0 = embeddings, `layers` = the output).

    The last layer's entry is the model's own output (it equals `predict_masks`); every earlier layer's hidden state
    goes through what the architecture applies between its last layer and the head (`final_modules`, e.g.
    ModernBERT's final norm), then through the head.
    """

    model_name: str
    text: str
    tokens: tuple[str, ...]
    layers: int
    masks: tuple[MaskLayers, ...]
    final_modules: tuple[str, ...] = ()


@dataclass(slots=True)
class _Lens:
    model: nn.Module
    base_output: torch.Tensor | None = None
    calls: list[tuple[nn.Module, Any, Any]] = field(default_factory=list)


# Per thread/task, as forward.py's narrowing: a request on a shared model never records another's calls.
_LENS: ContextVar[_Lens | None] = ContextVar("explorer_lens", default=None)
_install_lock = threading.Lock()
# Module types that normalise a hidden state; a direct child of the base model of such a type runs after the layers.
_NORM_TYPES: tuple[type[nn.Module], ...] = (nn.LayerNorm, nn.RMSNorm, nn.GroupNorm)


def install_layer_lens(model: nn.Module) -> None:
    """Let `layer_predictions` find the MLM head as the model runs it: the calls between base model and logits.

    Hooks on the base model and on the masked-LM model's other direct children record, during a lens pass only,
    what ran on the base model's output. Installed at load (after the position narrowing, so the base model's
    recorded output is the narrowed one); calling it again does nothing.
    """
    base = getattr(model, "base_model", model)
    with _install_lock:
        if base is model or getattr(model, "_explorer_lens", False):
            return
        base.register_forward_hook(_record_base_output)
        for child in model.children():
            if child is not base:
                child.register_forward_hook(_record_call)
        model._explorer_lens = True


def _record_base_output(module: nn.Module, args: Any, output: Any) -> None:
    state = _LENS.get()
    if state is not None and getattr(state.model, "base_model", None) is module:
        state.base_output = output[0]


def _record_call(module: nn.Module, args: Any, output: Any) -> None:
    state = _LENS.get()
    if state is not None and state.base_output is not None and args:
        state.calls.append((module, args[0], output))


def final_modules(model: nn.Module) -> tuple[tuple[str, nn.Module], ...]:
    """What the base model applies to the last layer's output before returning it (ModernBERT's `final_norm`).

    Found from the structure: the base model's own direct children that are normalisation layers. Embedding norms
    sit inside the embeddings block and layer norms inside the layers, so neither is a direct child.
    """
    base = getattr(model, "base_model", model)
    return tuple(
        (name, child) for name, child in base.named_children()
        if isinstance(child, _NORM_TYPES) or type(child).__name__.endswith(("LayerNorm", "RMSNorm"))
    )


def _head_chain(model: LoadedModel, state: _Lens, logits: torch.Tensor) -> tuple[nn.Module, ...]:
    """The modules the model ran from its base model's output to `logits`, checked to be a plain chain."""
    chain = []
    value = state.base_output
    for module, argument, output in state.calls:
        if argument is not value:
            break
        chain.append(module)
        value = output
    if value is not logits or not chain:
        raise ExplorerError(
            f"{model.info.name} ({model.info.architecture}) does not run its MLM head as a chain of modules on its "
            f"base model's output, so its layers cannot be read through the head."
        )
    return tuple(chain)


@contextmanager
def _lens(model: nn.Module) -> Iterator[_Lens]:
    state = _Lens(model=model)
    token = _LENS.set(state)
    try:
        yield state
    finally:
        _LENS.reset(token)


def layer_predictions(model: LoadedModel, text: str, top_k: int = 5) -> LayerPredictions:
    """The MLM head's top-k at every mask from every layer's hidden state, from one forward pass.

    The last layer's numbers are the model's own logits (those of `predict_masks`); each earlier layer's hidden
    state at the masks goes through what follows the last layer (`final_modules`) and the same head modules.

    Args:
        model: a model from `load_model`.
        text: a sentence with one or more masks.
        top_k: words per layer and mask, 1 to the vocabulary size.
    Returns:
        `LayerPredictions`: per mask, layers 0..L with their top-k and the final top-1's rank and probability.
    """
    check_top_k(model, top_k)
    encoding = encode(model, text)
    install_layer_lens(model.model)
    positions = list(encoding.mask_positions)
    with (torch.inference_mode(), _lens(model.model) as lens,
          narrow_positions(model.model, positions) as narrowing):
        output = model.model(**model_inputs(model, encoding), output_hidden_states=True, return_dict=True)
        last = narrowing.select(output.logits)[0]  # [mask, vocab]
        chain = _head_chain(model, lens, output.logits)
        inner = torch.stack([h[0, positions] for h in output.hidden_states[:-1]])  # [layer, mask, hidden]
        for _, final in final_modules(model.model):
            inner = final(inner)
        hidden = inner.reshape(1, -1, inner.shape[-1])  # [1, layer * mask, hidden]
        for module in chain:
            hidden = module(hidden)
        inner_logits = hidden.reshape(inner.shape[0], len(positions), -1)  # [layer, mask, vocab]
        logits = torch.cat([inner_logits, last[None]]).float().cpu()  # [layer, mask, vocab]
    return _build_result(model, encoding, logits.softmax(dim=-1), top_k)


def _build_result(model: LoadedModel, encoding: Any, probs: torch.Tensor, top_k: int) -> LayerPredictions:
    tokenizer = model.tokenizer
    top_ids = probs.topk(top_k, dim=-1).indices  # [layer, mask, top_k]
    final_ids = top_ids[-1, :, 0]  # [mask]
    masks = []
    for row, position in enumerate(encoding.mask_positions):
        final_id = int(final_ids[row])
        final_token = tokenizer.decode([final_id])
        layers = []
        for layer in range(probs.shape[0]):
            predictions = to_predictions(tokenizer, top_ids[layer, row].tolist(), probs[layer, row])
            p_final = probs[layer, row, final_id]
            final = FinalTop1(token_id=final_id, token=final_token,
                              rank=int((probs[layer, row] > p_final).sum()) + 1, score=float(p_final))
            layers.append(LayerPrediction(layer=layer, predictions=predictions, final_top1=final))
        # Words by the best rank they reach at any layer, then by the layer that first ranks them there.
        firsts: dict[int, tuple[int, int]] = {}
        for layer in range(probs.shape[0]):
            for rank, token_id in enumerate(top_ids[layer, row].tolist()):
                firsts[token_id] = min(firsts.get(token_id, (rank, layer)), (rank, layer))
        word_ids = sorted(firsts, key=lambda i: firsts[i])
        scores = probs[:, row, word_ids]  # [layer, word]
        masks.append(MaskLayers(
            position=position,
            layers=tuple(layers),
            word_ids=tuple(word_ids),
            words=tuple(tokenizer.decode([i]) for i in word_ids),
            word_scores=tuple(tuple(r) for r in scores.tolist()),
        ))
    return LayerPredictions(
        model_name=model.info.name,
        text=encoding.text,
        tokens=encoding.tokens,
        layers=probs.shape[0] - 1,
        masks=tuple(masks),
        final_modules=tuple(name for name, _ in final_modules(model.model)),
    )
