"""extract_attention, analyze_text, run_text_pass with analysis_from_pass, and `mlm-explorer attention`, against the
model's own eager output_attentions."""

from __future__ import annotations

import dataclasses
import json
from functools import cache

import numpy as np
import pytest
import torch
from test_fill_mask import ONE_MASK, TWO_MASKS, as_model_text
from tiny_models import SINGLE_PIECE_WORD
from transformers import AutoModelForMaskedLM, AutoTokenizer

from explorer import (
    AttentionMaps,
    ExplorerError,
    InputError,
    LoadedModel,
    analyze_text,
    extract_attention,
    load_model,
    predict_masks,
)
from explorer.attention import HEAD_SUMMARIES, analysis_from_pass, run_text_pass, summarize_heads
from explorer.cli import main
from explorer.figures.labels import mask_names, token_label


@cache
def reference_model(path: str):
    """The tokenizer and model loaded by transformers itself, with eager attention, independent of explorer."""
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForMaskedLM.from_pretrained(path, attn_implementation="eager").eval()
    return tokenizer, model


def reference_attentions(path: str, sentence: str) -> tuple[list[str], np.ndarray]:
    """Tokens and output_attentions [layer, head, query_pos, key_pos] of the reference model."""
    tokenizer, model = reference_model(path)
    batch = tokenizer(as_model_text(sentence, tokenizer.mask_token), return_tensors="pt")
    with torch.no_grad():
        output = model(**batch, output_attentions=True)
    assert len(output.attentions) == model.config.num_hidden_layers
    attentions = torch.stack([a[0] for a in output.attentions]).numpy()  # [layer, head, query_pos, key_pos]
    return tokenizer.convert_ids_to_tokens(batch["input_ids"][0].tolist()), attentions


def reference_rollout(attentions: np.ndarray) -> np.ndarray:
    """Rollout written independently, in torch: R = Â_L-1 ... Â_0 with Â = rownorm(mean_heads(A) + I)."""
    weights = torch.from_numpy(attentions).double()
    result = None
    for layer in weights:
        mixed = layer.mean(0) + torch.eye(layer.shape[-1], dtype=torch.float64)
        mixed = mixed / mixed.sum(-1, keepdim=True)
        result = mixed if result is None else mixed @ result
    return result.numpy()


@pytest.mark.parametrize("sentence", [ONE_MASK[1], TWO_MASKS[0]], ids=["one-mask", "two-masks"])
def test_maps_equal_eager_output_attentions(tiny_model_dir, sentence):
    model = load_model(str(tiny_model_dir))
    maps = extract_attention(model, sentence)
    tokens, expected = reference_attentions(str(tiny_model_dir), sentence)
    assert maps.tokens == tuple(tokens)
    assert maps.shape == expected.shape
    assert (maps.layers, maps.heads) == (model.info.layers, model.info.heads)
    np.testing.assert_allclose(maps.array(), expected, rtol=0, atol=1e-6)
    assert [maps.tokens[p] for p in maps.mask_positions] == [model.tokenizer.mask_token] * sentence.count("[MASK]")
    assert maps.model_name == model.info.name and maps.text == sentence


def test_rows_sum_to_one(tiny_model_dir):
    maps = extract_attention(load_model(str(tiny_model_dir)), ONE_MASK[2])
    weights = maps.array()
    assert weights.dtype == np.float32 and (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)


def test_special_positions_are_the_tokenizer_specials(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    maps = extract_attention(model, ONE_MASK[0])
    tokenizer = model.tokenizer
    assert maps.special_positions[0] == 0 and maps.tokens[0] == tokenizer.cls_token
    assert maps.tokens[maps.special_positions[-1]] == tokenizer.sep_token
    assert not set(maps.special_positions) & set(maps.mask_positions)


class CountingForward:
    """Counts the forward passes of a model's top module while active."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.module, self.calls = module, 0

    def __enter__(self) -> CountingForward:
        self.handle = self.module.register_forward_hook(self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.remove()

    def _count(self, *args: object) -> None:
        self.calls += 1


def test_analyze_text_is_one_pass_equal_to_predict_masks_and_extract_attention(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    sentence = TWO_MASKS[0]
    with CountingForward(model.model) as counter:
        analysis = analyze_text(model, sentence, top_k=4, targets=[SINGLE_PIECE_WORD])
    assert counter.calls == 1
    assert analysis.fill_mask == predict_masks(model, sentence, top_k=4, targets=[SINGLE_PIECE_WORD])
    assert analysis.attention == extract_attention(model, sentence)
    with CountingForward(model.model) as counter:
        extract_attention(model, sentence)
    assert counter.calls == 1


def test_one_text_pass_gives_an_analysis_for_any_top_k_and_targets(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    sentence = TWO_MASKS[0]
    with CountingForward(model.model) as counter:
        text_pass = run_text_pass(model, sentence)
    assert counter.calls == 1
    assert text_pass.mask_logits.shape == (2, model.info.vocab_size)
    assert text_pass.mask_logits.dtype == torch.float32 and text_pass.mask_logits.device.type == "cpu"
    assert text_pass.attention == extract_attention(model, sentence)
    assert text_pass.nbytes == len(text_pass.attention.weights) + 2 * model.info.vocab_size * 4
    requests = [(1, None, False), (4, [SINGLE_PIECE_WORD], False), (9, [SINGLE_PIECE_WORD, "the"], False),
                (3, None, True)]
    with CountingForward(model.model) as counter:
        analyses = [analysis_from_pass(model, text_pass, top_k, targets, skip_special_tokens=skip)
                    for top_k, targets, skip in requests]
        with pytest.raises(InputError, match="top_k"):
            analysis_from_pass(model, text_pass, 0)
    assert counter.calls == 0
    for (top_k, targets, skip), analysis in zip(requests, analyses, strict=True):
        assert analysis.fill_mask == predict_masks(model, sentence, top_k, targets, skip_special_tokens=skip)
        assert analysis.attention is text_pass.attention


def test_analyze_text_checks_input_before_running(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["bert"]))
    with CountingForward(model.model) as counter:
        with pytest.raises(InputError, match="top_k"):
            analyze_text(model, ONE_MASK[0], top_k=0)
        with pytest.raises(InputError, match="No \\[MASK\\]"):
            analyze_text(model, "no mask here")
        with pytest.raises(InputError, match="empty"):
            analyze_text(model, ONE_MASK[0], targets=[" "])
    assert counter.calls == 0


def test_extract_attention_rejects_bad_text(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["bert"]))
    with pytest.raises(InputError, match="No \\[MASK\\]"):
        extract_attention(model, "the cat sat on the mat.")
    with pytest.raises(InputError, match="empty"):
        extract_attention(model, "  ")


def test_a_model_without_attention_weights_gets_a_clear_message(tiny_model_dirs):
    path = str(tiny_model_dirs["bert"])
    loaded = load_model(path)
    sdpa = AutoModelForMaskedLM.from_pretrained(path, attn_implementation="sdpa").eval()
    model = LoadedModel(model=sdpa, tokenizer=loaded.tokenizer, info=loaded.info)
    with pytest.raises(ExplorerError, match="returned no attention weights"):
        extract_attention(model, ONE_MASK[0])


def hand_maps(weights: np.ndarray, tokens=None, special=()) -> AttentionMaps:
    tokens = tokens or [f"t{i}" for i in range(weights.shape[-1])]
    return AttentionMaps.from_array(weights, model_name="hand", text="hand", tokens=tokens, mask_positions=(1,),
                                    special_positions=special)


def test_attention_maps_accessors_and_immutability():
    weights = np.random.default_rng(0).dirichlet(np.ones(3), size=(2, 2, 3)).astype(np.float32)
    maps = hand_maps(weights)
    assert maps.shape == (2, 2, 3, 3)
    np.testing.assert_array_equal(maps.array(), weights)
    assert maps.head(1, 0) == tuple(tuple(float(v) for v in row) for row in weights[1, 0])
    assert maps.row(0, 1, 2) == tuple(float(v) for v in weights[0, 1, 2])
    assert all(isinstance(v, float) for row in maps.head(0, 0) for v in row)
    with pytest.raises(ValueError):
        maps.array()[0, 0, 0, 0] = 1.0  # a read-only view
    with pytest.raises(dataclasses.FrozenInstanceError):
        maps.layers = 3
    assert maps == hand_maps(weights) and hash(maps) == hash(hand_maps(weights))
    with pytest.raises(InputError, match="Layer 2 does not exist; choose a layer from 0 to 1"):
        maps.head(2, 0)
    with pytest.raises(InputError, match="Head -1 does not exist"):
        maps.row(0, -1, 0)
    with pytest.raises(InputError, match="Position 3 is out of range"):
        maps.row(0, 0, 3)
    torch_maps = AttentionMaps.from_array(torch.from_numpy(weights).half(), model_name="m", text="t",
                                          tokens=["a", "b", "c"])
    np.testing.assert_allclose(torch_maps.array(), weights, atol=1e-3)


def test_attention_maps_refuse_inconsistent_shapes():
    with pytest.raises(ValueError, match="for 2 tokens"):
        AttentionMaps.from_array(np.ones((1, 1, 3, 3)), model_name="m", text="t", tokens=["a", "b"])
    with pytest.raises(ValueError, match="need 16"):
        AttentionMaps(model_name="m", text="t", tokens=("a", "b"), mask_positions=(), special_positions=(),
                      layers=1, heads=1, weights=b"\0" * 12)


def test_summarize_heads_by_hand():
    uniform = np.full((4, 4), 0.25)  # 2 bits per query, largest weight 0.25
    one_hot = np.eye(4)[[0, 0, 0, 3]]  # 0 bits, largest weight 1; tokens 0 and 3 are special
    weights = np.stack([np.stack([uniform, one_hot])])  # [layer=1, head=2, 4, 4]
    maps = hand_maps(weights, special=(0, 3))
    (entropy,) = summarize_heads(maps, "entropy")
    assert entropy == pytest.approx((2.0, 0.0), abs=1e-6)
    assert summarize_heads(maps, "max") == (pytest.approx((0.25, 1.0)),)
    # uniform: 0.25 + 0.25 on the specials; one-hot: every query looks at token 0 or token 3.
    assert summarize_heads(maps, "special") == (pytest.approx((0.5, 1.0)),)
    assert set(HEAD_SUMMARIES) == {"entropy", "max", "special"}
    with pytest.raises(InputError, match="Unknown head summary 'mean'; choose one of entropy, max, special"):
        summarize_heads(maps, "mean")


# ----------------------------------------------------------------------------------------------------------------
# mlm-explorer attention
# ----------------------------------------------------------------------------------------------------------------


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_json_equals_eager_output_attentions(tiny_model_dir, capsys):
    sentence = TWO_MASKS[0]
    status, out, err = run_cli(capsys, "attention", "--model", str(tiny_model_dir), "--json", sentence)
    assert status == 0, err
    document = json.loads(out)
    assert set(document) == {"model", "tokens", "layers", "heads", "attention"}
    tokens, expected = reference_attentions(str(tiny_model_dir), sentence)
    assert document["model"] == str(tiny_model_dir)
    assert document["tokens"] == tokens
    assert (document["layers"], document["heads"]) == expected.shape[:2]
    np.testing.assert_allclose(np.array(document["attention"]), expected, rtol=0, atol=1e-6)


def test_cli_json_rollout(tiny_model_dirs, capsys):
    path, sentence = str(tiny_model_dirs["deberta-v2"]), ONE_MASK[1]
    status, out, err = run_cli(capsys, "attention", "--model", path, "--rollout", "--json", sentence)
    assert status == 0, err
    document = json.loads(out)
    assert set(document) == {"model", "tokens", "layers", "heads", "attention", "rollout"}
    _, expected = reference_attentions(path, sentence)
    np.testing.assert_allclose(np.array(document["rollout"]), reference_rollout(expected), rtol=0, atol=1e-6)


def test_cli_npz_holds_the_same_arrays(tiny_model_dirs, capsys, tmp_path):
    path, sentence = str(tiny_model_dirs["roberta"]), ONE_MASK[0]
    status, out, err = run_cli(capsys, "attention", "--model", path, "--rollout", "--out",
                               str(tmp_path / "weights"), sentence)
    assert status == 0, err
    written = tmp_path / "weights.npz"
    assert str(written) in out
    tokens, expected = reference_attentions(path, sentence)
    with np.load(written) as arrays:  # allow_pickle stays off: plain arrays only
        assert set(arrays.files) == {"model", "tokens", "layers", "heads", "attention", "rollout"}
        assert str(arrays["model"]) == path
        assert arrays["tokens"].tolist() == tokens
        assert (int(arrays["layers"]), int(arrays["heads"])) == expected.shape[:2]
        assert arrays["attention"].dtype == np.float32
        np.testing.assert_allclose(arrays["attention"], expected, rtol=0, atol=1e-6)
        np.testing.assert_allclose(arrays["rollout"], reference_rollout(expected), rtol=0, atol=1e-6)


def test_cli_readable_output(tiny_model_dirs, capsys):
    model = load_model(str(tiny_model_dirs["bert"]))
    status, out, _ = run_cli(capsys, "attention", "--model", str(tiny_model_dirs["bert"]), "--rollout", TWO_MASKS[0])
    assert status == 0
    maps = extract_attention(model, TWO_MASKS[0])
    assert f"{maps.layers} layers x {maps.heads} heads, {len(maps.tokens)} tokens" in out
    names = mask_names(TWO_MASKS[0], 2)
    assert f"{names[0]} (token {maps.mask_positions[0]})" in out
    assert f"{names[1]} (token {maps.mask_positions[1]})" in out
    assert out.count("  layer  0: ") == 2 and out.count("  rollout:  ") == 2
    # The first entry of each layer line is the token the mask attends to most (mean of the heads).
    top = int(maps.array()[1, :, maps.mask_positions[0]].mean(axis=0).argmax())
    assert f"  layer  1: '{token_label(maps.tokens[top])}' ({top}) " in out


def test_cli_errors(tiny_model_dirs, capsys, tmp_path):
    path = str(tiny_model_dirs["bert"])
    status, out, err = run_cli(capsys, "attention", "--model", path, "--json", "no mask here")
    assert status == 2 and out == "" and "No [MASK]" in err and "Traceback" not in err
    status, _, err = run_cli(capsys, "attention", "--model", path, "--out", str(tmp_path / "missing" / "x.npz"),
                             ONE_MASK[0])
    assert status == 1 and "Cannot write" in err and "check the folder exists" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["attention", "--model", path, "--json", "--out", str(tmp_path / "x.npz"), ONE_MASK[0]])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
