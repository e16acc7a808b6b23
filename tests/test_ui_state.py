"""The app's shared state (explorer/ui/state.py): bounded result caches, one forward pass per model and text."""

from __future__ import annotations

import pytest

import explorer.attention as attention_module
from explorer.attention import analyze_text, extract_attention
from explorer.errors import InputError
from explorer.fill_mask import predict_masks
from explorer.ui.state import AppState


def count_passes(monkeypatch) -> list[int]:
    """A list that grows by one at every forward pass the attention module runs."""
    passes: list[int] = []
    real = attention_module.run_forward
    monkeypatch.setattr(attention_module, "run_forward", lambda *a, **k: passes.append(1) or real(*a, **k))
    return passes


def test_predict_and_attention_tabs_share_one_forward_pass(bundled_assets, monkeypatch):
    state = AppState.create()
    model = state.model("mini-bert")
    passes = count_passes(monkeypatch)
    text = "the cat sat on the [MASK]."
    first = state.analysis(model, text, 5)
    second = state.analysis(model, text, 5)
    assert second == first and len(passes) == 1
    assert state.text_pass(model, text).attention is first.attention and len(passes) == 1
    # The cached analysis holds exactly what the two separate core calls give.
    assert first.fill_mask == predict_masks(model, text, top_k=5)
    assert first.attention == extract_attention(model, text)


def test_changing_top_k_or_targets_does_not_run_the_model_again(bundled_assets, monkeypatch):
    state = AppState.create()
    model = state.model("mini-bert")
    passes = count_passes(monkeypatch)
    text = "the [MASK] sat on the [MASK]."
    results = {(top_k, targets): state.analysis(model, text, top_k, targets).fill_mask
               for top_k in (1, 5, 12) for targets in ((), ("cat",), ("cat", "dog"))}
    assert len(passes) == 1
    for (top_k, targets), result in results.items():
        assert result == predict_masks(model, text, top_k=top_k, targets=list(targets) or None)
    with pytest.raises(InputError, match="top_k"):
        state.analysis(model, text, 0)
    assert len(passes) == 1
    state.analysis(model, "another [MASK].", 5)
    assert len(passes) == 2  # a new text is a new pass


def test_cache_keys_tell_models_apart(bundled_assets):
    state = AppState.create()
    text = "the cat sat on the [MASK]."
    bert = state.analysis(state.model("mini-bert"), text, 5)
    roberta = state.analysis(state.model("mini-roberta"), text, 5)
    assert bert.fill_mask.model_name == "mini-bert" and roberta.fill_mask.model_name == "mini-roberta"
    assert bert.fill_mask.tokens != roberta.fill_mask.tokens


def test_targets_are_part_of_the_analysis(bundled_assets):
    state = AppState.create()
    model = state.model("mini-bert")
    text = "the cat sat on the [MASK]."
    result = state.analysis(model, text, 5, ("cat", "dog")).fill_mask
    assert result == analyze_text(model, text, 5, ["cat", "dog"]).fill_mask
    assert [t.word for t in result.masks[0].targets] == ["cat", "dog"]


def test_attributions_are_cached_per_request(bundled_assets):
    state = AppState.create()
    model = state.model("mini-bert")
    text = "the cat sat on the [MASK]."
    first = state.attribution(model, text, 0, "", "", "ig", 8)
    assert state.attribution(model, text, 0, " ", "", "ig", 8) is first  # blank target = the top-1, same key
    other = state.attribution(model, text, 0, "", "", "occlusion", 8)
    assert other is not first and other.method == "occlusion"


@pytest.mark.parametrize("steps", [0, 1001, 10**7, 2.5, True])
def test_a_request_cannot_ask_for_endless_integration_steps(bundled_assets, steps):
    state = AppState.create()
    with pytest.raises(InputError, match="from 1 to 1000"):
        state.attribution(state.model("mini-bert"), "the [MASK].", 0, "", "", "ig", steps)


def test_compare_redraws_a_new_top_k_from_the_cached_passes(bundled_assets, monkeypatch):
    import explorer.compare as compare_module
    from explorer.compare import compare_models

    state = AppState.create()
    models = [state.model("mini-bert"), state.model("mini-roberta")]
    text = "the [MASK] sat on the [MASK]."
    references = {k: compare_models(models, text, top_k=k) for k in (3, 7)}  # the core's own passes
    passes = count_passes(monkeypatch)
    direct: list[int] = []
    real = compare_module.run_forward
    monkeypatch.setattr(compare_module, "run_forward", lambda *a, **k: direct.append(1) or real(*a, **k))
    for k in (3, 7, 3):
        assert state.comparison(models, text, k) == references[k]
    assert len(passes) == 2 and not direct  # one pass per model, for every top-k
    state.analysis(models[0], text, 5)  # the Predict tab reuses the compared model's pass
    assert len(passes) == 2
    with pytest.raises(InputError, match="Compare takes 2 to 4 models"):  # checked before any pass
        state.comparison(models[:1], "an unseen [MASK] here", 5)
    assert len(passes) == 2
