"""attention_rollout against numbers worked out by hand, and its invariants on real tiny models."""

from __future__ import annotations

import numpy as np
import pytest
from test_fill_mask import TWO_MASKS

from explorer import AttentionMaps, attention_rollout, extract_attention, load_model


def maps_of(weights: list, mask_positions=(1,)) -> AttentionMaps:
    weights = np.array(weights, dtype=np.float32)  # [layer, head, query_pos, key_pos]
    tokens = ["[CLS]", "[MASK]", "[SEP]"][: weights.shape[-1]]
    return AttentionMaps.from_array(weights, model_name="hand", text="[MASK]", tokens=tokens,
                                    mask_positions=mask_positions)


# Two layers, two heads, three tokens.
LAYER_0 = [
    [[1, 0, 0], [1, 0, 0], [1, 0, 0]],  # head 0: everyone looks at token 0
    [[0, 1, 0], [0, 1, 0], [0, 0, 1]],  # head 1
]
LAYER_1 = [
    [[0, 0, 1], [0, 0, 1], [0, 0, 1]],  # both heads: everyone looks at token 2
    [[0, 0, 1], [0, 0, 1], [0, 0, 1]],
]
# By hand. Layer 0: mean of heads = [[.5 .5 0] [.5 .5 0] [.5 0 .5]]; + I = [[1.5 .5 0] [.5 1.5 0] [.5 0 1.5]];
# each row sums to 2, so Â0 = [[.75 .25 0] [.25 .75 0] [.25 0 .75]].
# Layer 1: mean = [[0 0 1]] * 3; + I = [[1 0 1] [0 1 1] [0 0 2]]; / 2 gives Â1 = [[.5 0 .5] [0 .5 .5] [0 0 1]].
# Rollout Â1 · Â0, row by row:
#   row 0 = .5 * Â0[0] + .5 * Â0[2] = .5 * [.75 .25 0] + .5 * [.25 0 .75] = [.5 .125 .375]
#   row 1 = .5 * Â0[1] + .5 * Â0[2] = .5 * [.25 .75 0] + .5 * [.25 0 .75] = [.25 .375 .375]
#   row 2 = Â0[2]                                                          = [.25 0 .75]
EXPECTED = [
    [0.5, 0.125, 0.375],
    [0.25, 0.375, 0.375],
    [0.25, 0.0, 0.75],
]
# The other order, Â0 · Â1, would give row 0 = .75 * Â1[0] + .25 * Â1[1] = [.375 .125 .5]: not what rollout is.


def test_two_layer_rollout_equals_the_hand_computation():
    rollout = attention_rollout(maps_of([LAYER_0, LAYER_1]))
    assert rollout.layers == 2
    assert rollout.tokens == ("[CLS]", "[MASK]", "[SEP]") and rollout.mask_positions == (1,)
    assert np.array(rollout.matrix) == pytest.approx(np.array(EXPECTED), abs=1e-12)
    assert rollout.mask_rows == (pytest.approx((0.25, 0.375, 0.375), abs=1e-12),)
    assert all(isinstance(v, float) for row in rollout.matrix for v in row)


def test_one_layer_rollout_is_the_mixed_attention():
    rollout = attention_rollout(maps_of([LAYER_0]))
    assert np.array(rollout.matrix) == pytest.approx(np.array([[0.75, 0.25, 0], [0.25, 0.75, 0], [0.25, 0, 0.75]]))


def test_each_mask_gets_its_own_row():
    rollout = attention_rollout(maps_of([LAYER_0, LAYER_1], mask_positions=(0, 2)))
    assert rollout.mask_rows == (pytest.approx(EXPECTED[0]), pytest.approx(EXPECTED[2]))


def test_rollout_of_real_models_is_row_stochastic(tiny_model_dirs):
    for arch in ("bert", "modernbert"):  # modernbert: a sliding-window layer with exact zeros
        maps = extract_attention(load_model(str(tiny_model_dirs[arch])), TWO_MASKS[0])
        rollout = attention_rollout(maps)
        matrix = rollout.array()
        assert matrix.shape == (len(maps.tokens), len(maps.tokens))
        assert (matrix >= 0).all()
        np.testing.assert_allclose(matrix.sum(axis=-1), 1.0, atol=1e-9)
        assert rollout.mask_rows == tuple(rollout.matrix[p] for p in maps.mask_positions)
        assert len(rollout.mask_rows) == 2
