"""Attention rollout (Abnar & Zuidema 2020): how much each input token flows into each position's final state."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from explorer.attention import AttentionMaps


@dataclass(frozen=True, slots=True)
class Rollout:
    """The rolled-out attention of one text through all layers.

    `matrix[query_pos][key_pos]` estimates how much input token `key_pos` contributes to the last layer's
    representation at `query_pos`; every row sums to 1. `mask_rows[i]` is the row of the i-th mask, at
    position `mask_positions[i]`: which input tokens the prediction at that mask draws on.
    """

    model_name: str
    text: str
    tokens: tuple[str, ...]
    mask_positions: tuple[int, ...]
    layers: int
    matrix: tuple[tuple[float, ...], ...] = field(repr=False)  # [query_pos][key_pos]
    mask_rows: tuple[tuple[float, ...], ...] = field(repr=False)  # [mask][key_pos]

    def array(self) -> np.ndarray:
        """The matrix as a float64 numpy array [query_pos, key_pos] (a fresh copy)."""
        return np.array(self.matrix, dtype=np.float64)


def attention_rollout(maps: AttentionMaps) -> Rollout:
    """Roll attention out through every layer.

    Per layer the heads are averaged, the identity is added for the residual connection and rows are
    renormalised: Â_l = norm(mean_h A_l,h + I). The rollout is Â_L-1 · ... · Â_1 · Â_0, so row q says how
    position q's output mixes the input tokens.

    Args:
        maps: attention weights of one text [layer, head, query_pos, key_pos].
    Returns:
        A `Rollout` with the [query_pos, key_pos] matrix and the row of each mask.
    """
    weights = maps.array().astype(np.float64)  # [layer, head, query_pos, key_pos]
    mixed = weights.mean(axis=1) + np.eye(len(maps.tokens))  # [layer, query_pos, key_pos]
    mixed /= mixed.sum(axis=-1, keepdims=True)
    rolled = np.eye(len(maps.tokens))  # [query_pos, key_pos]
    for layer_matrix in mixed:
        rolled = layer_matrix @ rolled  # [query_pos, key_pos]
    matrix = tuple(tuple(row) for row in rolled.tolist())
    return Rollout(
        model_name=maps.model_name,
        text=maps.text,
        tokens=maps.tokens,
        mask_positions=maps.mask_positions,
        layers=maps.layers,
        matrix=matrix,
        mask_rows=tuple(matrix[p] for p in maps.mask_positions),
    )
