"""Head ablation: predictions with chosen attention heads removed, and each head's effect on one prediction.

A head is removed where its output enters the attention output projection: its slice of the projection's input
[batch, pos, head * head_dim] is zeroed, or replaced by its mean over the text's positions. transformers 5 has no
`head_mask`, so forward pre-hooks do it; they are installed once per model and stay idle unless the calling
thread/task has set an ablation (a ContextVar), so concurrent requests on one shared model never see each other's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from explorer.encoding import encode
from explorer.errors import ExplorerError, InputError
from explorer.fill_mask import FillMaskResult, build_fill_mask_result, check_top_k, encode_targets
from explorer.forward import model_inputs, narrow_positions
from explorer.models import LoadedModel

Mode = Literal["zero", "mean"]
Head = tuple[int, int]  # (layer, head)

# Where each family's attention output projection sits inside a layer: a suffix of its qualified module name.
OUTPUT_PROJECTIONS: dict[str, str] = {
    "attention.output.dense": "BERT, RoBERTa, XLM-R, ELECTRA, DeBERTa-v2",
    "attention.out_lin": "DistilBERT",
    "attention.dense": "ALBERT",
    "attn.Wo": "ModernBERT",
}
# Ablation rows per forward batch are bounded by this many positions in all (rows x tokens).
BATCH_POSITIONS = 4096


def _zero(heads: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(heads)


def _mean(heads: torch.Tensor) -> torch.Tensor:
    return heads.mean(dim=1, keepdim=True).expand_as(heads)  # [batch, pos, head, head_dim]


# What replaces a removed head's output [batch, pos, head, head_dim].
REPLACEMENTS: dict[str, Any] = {"zero": _zero, "mean": _mean}


@dataclass(frozen=True, slots=True)
class AblationResult:
    """Predictions with heads removed; `fill_mask` is shaped as `predict_masks`'s result."""

    fill_mask: FillMaskResult
    ablated: tuple[Head, ...]
    mode: str


@dataclass(frozen=True, slots=True)
class HeadEffects:
    """How one mask's target probability changes when each head alone is removed.

    `effects[layer][head]` = probability with that head removed − `baseline` (negative: the head helped the word).
    """

    model_name: str
    text: str
    tokens: tuple[str, ...]
    mask: int
    mask_position: int
    target_id: int
    target: str
    baseline: float
    effects: tuple[tuple[float, ...], ...]
    mode: str


@dataclass(slots=True)
class _Ablation:
    sites: frozenset[int]
    keep: torch.Tensor  # [batch, layer, head] bool
    replace: Any
    calls: int = 0


_ABLATION: ContextVar[_Ablation | None] = ContextVar("explorer_ablation", default=None)
_install_lock = threading.Lock()


def projection_sites(model: nn.Module) -> tuple[nn.Module, ...]:
    """The distinct attention output projections of `model` (one per layer; one shared by all in ALBERT)."""
    base = getattr(model, "base_model", model)
    found: dict[int, nn.Module] = {}
    for name, module in base.named_modules():
        if isinstance(module, nn.Linear) and any(name == s or name.endswith("." + s) for s in OUTPUT_PROJECTIONS):
            found.setdefault(id(module), module)
    return tuple(found.values())


def install_head_ablation(model: nn.Module) -> None:
    """Put the (idle) ablation pre-hooks on every attention output projection; calling it again does nothing."""
    with _install_lock:
        if getattr(model, "_explorer_ablation", False):
            return
        for site in projection_sites(model):
            site.register_forward_pre_hook(_ablate_hook)
        model._explorer_ablation = True


def _ablate_hook(module: nn.Module, args: Any) -> Any:
    state = _ABLATION.get()
    if state is None or id(module) not in state.sites:
        return None
    # Layers call their projection in order (ALBERT calls one shared projection once per layer).
    layer = state.calls
    state.calls += 1
    if layer >= state.keep.shape[1]:
        return None
    keep = state.keep[:, layer].to(args[0].device)  # [batch, head]
    if bool(keep.all()):
        return None
    x = args[0]  # [batch, pos, head * head_dim]
    batch, pos, width = x.shape
    heads = x.view(batch, pos, keep.shape[1], width // keep.shape[1])  # [batch, pos, head, head_dim]
    kept = torch.where(keep[:, None, :, None], heads, state.replace(heads))  # [batch, pos, head, head_dim]
    return (kept.reshape(batch, pos, width), *args[1:])


def head_counts(model: LoadedModel) -> tuple[int, int]:
    """(layers, heads per layer) of `model`, or an error naming the architecture when heads cannot be split."""
    config = model.model.config
    layers = getattr(config, "num_hidden_layers", None)
    heads = getattr(config, "num_attention_heads", None)
    sites = projection_sites(model.model)
    width = sites[0].in_features if sites else 0
    if not sites or not layers or not heads or width % heads:
        known = "; ".join(f"{families}: {suffix}" for suffix, families in OUTPUT_PROJECTIONS.items())
        raise InputError(
            f"{model.info.name} ({model.info.architecture}) has no attention output projection that can be split "
            f"by head, so its heads cannot be removed; head ablation knows {known}. Choose a model of one of "
            f"those families."
        )
    return int(layers), int(heads)


def parse_heads(spec: str | Sequence[Any], layers: int, heads: int) -> tuple[Head, ...]:
    """Heads written "2:5,3:7" ("L:*" = every head of layer L) or as (layer, head) pairs, checked against the model.

    Returns:
        Distinct (layer, head) pairs, sorted.
    """
    pairs: list[tuple[Any, Any]] = []
    if isinstance(spec, str):
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            layer_text, sep, head_text = item.partition(":")
            if not sep:
                raise InputError(f"Write each head as LAYER:HEAD (e.g. 2:5, or 2:* for all of layer 2), not {item!r}.")
            try:
                layer = int(layer_text)
                head_list = range(heads) if head_text.strip() == "*" else [int(head_text)]
            except ValueError:
                raise InputError(f"Write each head as LAYER:HEAD with whole numbers (e.g. 2:5), not {item!r}.") \
                    from None
            pairs.extend((layer, h) for h in head_list)
    else:
        for pair in spec:
            if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
                raise InputError(f"Give each head as a (layer, head) pair, not {pair!r}.")
            pairs.append((pair[0], pair[1]))
    chosen: dict[Head, None] = {}
    for layer, head in pairs:
        for value, name in ((layer, "layer"), (head, "head")):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"The {name} of a head must be a whole number, not {value!r}.")
        if not 0 <= layer < layers or not 0 <= head < heads:
            raise InputError(f"Head {layer}:{head} does not exist; this model has layers 0-{layers - 1} and heads "
                             f"0-{heads - 1} in each.")
        chosen[(layer, head)] = None
    return tuple(sorted(chosen))


def check_mode(mode: str) -> None:
    """Refuse an ablation mode other than "zero" or "mean"."""
    if mode not in REPLACEMENTS:
        raise InputError(f"Unknown ablation mode {mode!r}; choose {' or '.join(REPLACEMENTS)}.")


@contextmanager
def _ablating(model: LoadedModel, keep: torch.Tensor, mode: str) -> Iterator[_Ablation]:
    install_head_ablation(model.model)
    state = _Ablation(sites=frozenset(id(s) for s in projection_sites(model.model)), keep=keep,
                      replace=REPLACEMENTS[mode])
    token = _ABLATION.set(state)
    try:
        yield state
    finally:
        _ABLATION.reset(token)


def _ablated_logits(model: LoadedModel, inputs: dict[str, torch.Tensor], positions: Sequence[int],
                    keep: torch.Tensor, mode: str) -> torch.Tensor:
    """One forward pass of a batch whose row b removes the heads where `keep[b]` [layer, head] is False.

    Returns:
        Logits at `positions` [batch, mask, vocab], float32 on the CPU.
    """
    layers = keep.shape[1]
    with (torch.inference_mode(), _ablating(model, keep, mode) as state,
          narrow_positions(model.model, positions) as narrowing):
        logits = model.model(**inputs, return_dict=True).logits  # [batch, mask, vocab] when narrowed
        if state.calls != layers:
            raise ExplorerError(
                f"{model.info.name} ({model.info.architecture}) ran its attention output projection {state.calls} "
                f"times for {layers} layers, so its heads cannot be told apart by layer."
            )
        return narrowing.select(logits).float().cpu()  # [batch, mask, vocab]


def ablate_heads(model: LoadedModel, text: str, heads: str | Sequence[Any] = (), mode: Mode = "zero",
                 top_k: int = 5) -> AblationResult:
    """The predictions of `text` with `heads` removed, from one forward pass.

    Args:
        model: a model from `load_model`.
        text: a sentence with one or more masks.
        heads: "2:5,3:7" ("L:*" = all of layer L) or (layer, head) pairs, counted from 0; none = `predict_masks`.
        mode: "zero" (the head's output set to 0) or "mean" (its mean over this text's positions, in this pass).
        top_k: fillers per mask.
    Returns:
        An `AblationResult` whose `fill_mask` is shaped as `predict_masks`'s result.
    """
    check_top_k(model, top_k)
    check_mode(mode)
    layers, per_layer = head_counts(model)
    chosen = parse_heads(heads, layers, per_layer)
    encoding = encode(model, text)
    keep = torch.ones(1, layers, per_layer, dtype=torch.bool)  # [batch, layer, head]
    for layer, head in chosen:
        keep[0, layer, head] = False
    logits = _ablated_logits(model, model_inputs(model, encoding), encoding.mask_positions, keep, mode)
    result = build_fill_mask_result(model, encoding, logits[0], top_k)
    return AblationResult(fill_mask=result, ablated=chosen, mode=mode)


def head_effects(model: LoadedModel, text: str, mask: int = 0, target: str | None = None,
                 mode: Mode = "zero") -> HeadEffects:
    """The change of the target's probability at one mask when each head alone is removed.

    Every (layer, head) ablation is one row of a forward batch (rows of one batch remove different heads), so the
    whole table takes about layers x heads x tokens / BATCH_POSITIONS passes, plus one unablated pass.

    Args:
        model: a model from `load_model`.
        text: a sentence with one or more masks.
        mask: which mask, 0 = the first.
        target: a word that is one vocabulary piece (default: the unablated top-1).
        mode: "zero" or "mean", as in `ablate_heads`.
    Returns:
        `HeadEffects` with effects [layer][head].
    """
    check_mode(mode)
    layers, per_layer = head_counts(model)
    if isinstance(mask, bool) or not isinstance(mask, int):
        raise InputError(f"mask must be a whole number (0 = the first mask), not {mask!r}.")
    target_ids = None
    if target is not None and str(target).strip():
        (spec,) = encode_targets(model, [target])
        if len(spec.token_ids) != 1:
            raise InputError(f"The target {spec.word!r} is {len(spec.token_ids)} pieces {list(spec.pieces)} for this "
                             f"model; head effects need a word that is one piece.")
        target_ids = spec.token_ids
    encoding = encode(model, text)
    if not 0 <= mask < len(encoding.mask_positions):
        raise InputError(f"Mask {mask} does not exist; this text has {len(encoding.mask_positions)} mask(s), "
                         f"numbered from 0.")
    position = encoding.mask_positions[mask]
    inputs = model_inputs(model, encoding)
    # The baseline over every mask, as predict_masks runs it, so that it equals predict_masks' number exactly.
    unablated = torch.ones(1, layers, per_layer, dtype=torch.bool)  # [batch, layer, head]
    baseline_probs = _ablated_logits(model, inputs, encoding.mask_positions, unablated, mode)[0, mask].softmax(-1)
    target_id = target_ids[0] if target_ids else int(baseline_probs.argmax())
    baseline = float(baseline_probs[target_id])
    count = layers * per_layer
    rows = max(1, min(count, BATCH_POSITIONS // len(encoding.input_ids)))
    changes = []
    for start in range(0, count, rows):
        chunk = range(start, min(count, start + rows))
        keep = torch.ones(len(chunk), layers * per_layer, dtype=torch.bool)  # [batch, layer * head]
        keep[torch.arange(len(chunk)), torch.tensor(list(chunk))] = False
        batch = {name: value.repeat(len(chunk), 1) for name, value in inputs.items()}  # [batch, pos]
        logits = _ablated_logits(model, batch, [position], keep.view(len(chunk), layers, per_layer), mode)
        changes.extend((logits[:, 0].softmax(-1)[:, target_id] - baseline).tolist())  # [batch]
    effects = tuple(tuple(changes[layer * per_layer:(layer + 1) * per_layer]) for layer in range(layers))
    return HeadEffects(
        model_name=model.info.name,
        text=encoding.text,
        tokens=encoding.tokens,
        mask=mask,
        mask_position=position,
        target_id=target_id,
        target=model.tokenizer.decode([target_id]),
        baseline=baseline,
        effects=effects,
        mode=mode,
    )
