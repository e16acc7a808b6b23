"""The one forward pass: the model run under inference mode, the MLM head applied at mask positions only."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from explorer.errors import ExplorerError

if TYPE_CHECKING:
    from explorer.encoding import Encoding
    from explorer.models import LoadedModel


@dataclass(slots=True)
class _Narrowing:
    module: nn.Module
    positions: torch.Tensor  # [mask], or [batch, mask] for a row's own positions
    applied: bool = False

    def select(self, logits: torch.Tensor) -> torch.Tensor:
        """The logits at the narrowed positions [batch, mask, vocab], whether the head already ran only there
        (`applied`) or over every position [batch, pos, vocab] (a model the hook cannot reach)."""
        return logits if self.applied else _take(logits, self.positions)


def _take(values: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """`values` [batch, pos, dim] at `positions`: [mask] for every row, or [batch, mask] for a row's own ->
    [batch, mask, dim]."""
    positions = positions.to(values.device)
    if positions.dim() == 2:  # its own positions for every row (masked copies of different sentences)
        return values.gather(1, positions.unsqueeze(-1).expand(-1, -1, values.shape[-1]))
    return values.index_select(1, positions)


# Per thread/task, so concurrent requests on one shared model never see each other's positions.
_NARROWING: ContextVar[_Narrowing | None] = ContextVar("explorer_narrowing", default=None)


@dataclass(frozen=True, slots=True)
class ForwardOutput:
    """Tensors from one forward pass, on the CPU in float32."""

    mask_logits: torch.Tensor  # [mask, vocab]
    attentions: torch.Tensor | None  # [layer, head, query_pos, key_pos]


def install_position_narrowing(model: nn.Module) -> None:
    """Let `narrow_positions` cut the base model's output to chosen positions before the MLM head runs.

    Every `*ForMaskedLM` feeds its base model's first output to its head, so narrowing that output is
    generic: the head (about a fifth of the work at 128 tokens on bert-base) then projects only the masks.
    """
    base = getattr(model, "base_model", model)
    if base is model or getattr(base, "_explorer_narrowing", False):
        return
    base.register_forward_hook(_narrow_hook)
    base._explorer_narrowing = True


def _narrow_hook(module: nn.Module, args: Any, output: Any) -> Any:
    state = _NARROWING.get()
    if state is None or state.module is not module:
        return None
    narrowed = _take(output[0], state.positions)  # [batch, pos, hidden] -> [batch, mask, hidden]
    state.applied = True
    if isinstance(output, tuple):
        return (narrowed, *output[1:])
    output["last_hidden_state"] = narrowed
    return output


@contextlib.contextmanager
def narrow_positions(model: nn.Module, positions: Sequence[int] | torch.Tensor) -> Iterator[_Narrowing]:
    """Within the block, `model`'s logits cover only `positions` (when the model allows it: check `.applied`).

    `positions` is one list for every row of the batch, or a [batch, mask] tensor giving each row its own.
    """
    base = getattr(model, "base_model", model)
    index = positions if isinstance(positions, torch.Tensor) else torch.tensor(list(positions), dtype=torch.long)
    state = _Narrowing(module=base, positions=index.long())
    token = _NARROWING.set(state)
    try:
        yield state
    finally:
        _NARROWING.reset(token)


def model_inputs(model: LoadedModel, encoding: Encoding) -> dict[str, torch.Tensor]:
    """The encoding's tokenizer outputs as a batch of one on the model's device."""
    device = next(model.model.parameters()).device
    return {name: torch.tensor([values], device=device) for name, values in encoding.model_inputs.items()}


def run_forward(model: LoadedModel, encoding: Encoding, *, attentions: bool = False) -> ForwardOutput:
    """Run the model once on `encoding`.

    Args:
        model: the loaded model.
        encoding: the encoded text.
        attentions: also return every layer's attention weights from the same pass.
    Returns:
        Logits at the mask positions [mask, vocab] and, if asked, attentions [layer, head, query_pos, key_pos].
    """
    inputs = model_inputs(model, encoding)
    with torch.inference_mode(), narrow_positions(model.model, encoding.mask_positions) as narrowing:
        output = model.model(**inputs, output_attentions=attentions, return_dict=True)
        mask_logits = narrowing.select(output.logits)[0].float().cpu()  # [mask, vocab]
        weights = None
        if attentions:
            layers = [a for a in (output.attentions or ()) if a is not None]
            if not layers:
                raise ExplorerError(
                    f"{model.info.name} ({model.info.architecture}) returned no attention weights; this "
                    f"architecture's attention implementation cannot expose them."
                )
            weights = torch.stack([a[0] for a in layers]).float().cpu()  # [layer, head, query_pos, key_pos]
    return ForwardOutput(mask_logits=mask_logits, attentions=weights)
