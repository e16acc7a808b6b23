"""Head ablation against hooks written by hand on an independently loaded model, on eight architectures."""

from __future__ import annotations

import threading

import pytest
import torch
from tiny_models import SENTENCES, _wordpiece
from transformers import AutoModelForMaskedLM, BertTokenizer, MPNetConfig

from explorer import InputError, load_model, predict_masks
from explorer.ablation import _ABLATION, ablate_heads, head_effects
from explorer.encoding import encode

TEXT = next(s for s in SENTENCES if s.count("[MASK]") == 2)

# Each family's attention output projection of layer `n`, spelled out by hand (ALBERT shares one for all layers).
PROJECTION = {
    "bert": lambda b, n: b.encoder.layer[n].attention.output.dense,
    "roberta": lambda b, n: b.encoder.layer[n].attention.output.dense,
    "xlm-roberta": lambda b, n: b.encoder.layer[n].attention.output.dense,
    "electra": lambda b, n: b.encoder.layer[n].attention.output.dense,
    "deberta-v2": lambda b, n: b.encoder.layer[n].attention.output.dense,
    "distilbert": lambda b, n: b.transformer.layer[n].attention.out_lin,
    "albert": lambda b, n: b.encoder.albert_layer_groups[0].albert_layers[0].attention.dense,
    "modernbert": lambda b, n: b.layers[n].attn.Wo,
}


def hand_ablated_probs(folder, arch, model, text, heads, mode="zero"):
    """Probabilities at the masks [mask, vocab] with `heads` removed by pre-hooks written here, independently."""
    independent = AutoModelForMaskedLM.from_pretrained(str(folder), attn_implementation="eager").eval()
    n_layers, n_heads = independent.config.num_hidden_layers, independent.config.num_attention_heads
    modules = [PROJECTION[arch](independent.base_model, layer) for layer in range(n_layers)]
    calls = []

    def hook(module, args):
        layer = len(calls) if len({id(m) for m in modules}) == 1 else modules.index(module)
        calls.append(layer)
        x = args[0].clone()
        width = x.shape[-1] // n_heads
        for removed_layer, head in heads:
            if removed_layer == layer:
                piece = x[..., head * width:(head + 1) * width]
                x[..., head * width:(head + 1) * width] = 0.0 if mode == "zero" else piece.mean(dim=1, keepdim=True)
        return (x,)

    handles = [m.register_forward_pre_hook(hook) for m in {id(m): m for m in modules}.values()]
    encoding = encode(model, text)
    try:
        with torch.no_grad():
            logits = independent(**{k: torch.tensor([v]) for k, v in encoding.model_inputs.items()}).logits[0]
    finally:
        for handle in handles:
            handle.remove()
    assert calls == list(range(n_layers))
    return logits[list(encoding.mask_positions)].softmax(-1)


def test_no_head_removed_equals_predict_masks(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    result = ablate_heads(model, TEXT, "", top_k=6)
    assert result.ablated == ()
    assert result.fill_mask == predict_masks(model, TEXT, top_k=6)


def test_removed_heads_equal_a_hand_written_hook(tiny_model_dir, request):
    arch = request.node.callspec.params["tiny_model_dir"]
    model = load_model(str(tiny_model_dir))
    heads_per_layer = model.model.config.num_attention_heads
    heads = [(0, 0), (1, heads_per_layer - 1)]
    result = ablate_heads(model, TEXT, heads, top_k=5)
    expected = hand_ablated_probs(tiny_model_dir, arch, model, TEXT, heads)
    assert result.ablated == tuple(heads)
    assert result.fill_mask != predict_masks(model, TEXT, top_k=5)
    for row, mask in enumerate(result.fill_mask.masks):
        top = expected[row].topk(5)
        assert [p.token_id for p in mask.predictions] == top.indices.tolist()
        assert [p.score for p in mask.predictions] == pytest.approx(top.values.tolist(), abs=1e-6)


@pytest.mark.parametrize("arch", ["bert", "albert", "modernbert"])
def test_mean_ablation_equals_a_hand_written_hook(tiny_model_dirs, arch):
    model = load_model(str(tiny_model_dirs[arch]))
    result = ablate_heads(model, TEXT, "0:*,1:0", mode="mean", top_k=5)
    heads = [(0, h) for h in range(model.model.config.num_attention_heads)] + [(1, 0)]
    expected = hand_ablated_probs(tiny_model_dirs[arch], arch, model, TEXT, heads, mode="mean")
    for row, mask in enumerate(result.fill_mask.masks):
        assert [p.token_id for p in mask.predictions] == expected[row].topk(5).indices.tolist()
        assert [p.score for p in mask.predictions] == pytest.approx(expected[row].topk(5).values.tolist(), abs=1e-6)


def test_head_effects_equal_single_ablations(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    effects = head_effects(model, TEXT, mask=1)
    independent = predict_masks(model, TEXT, top_k=1).masks[1].predictions[0]
    assert effects.target_id == independent.token_id and effects.baseline == independent.score
    vocab = model.info.vocab_size
    layers, heads = model.model.config.num_hidden_layers, model.model.config.num_attention_heads
    assert len(effects.effects) == layers and {len(row) for row in effects.effects} == {heads}
    for layer in range(layers):
        for head in range(heads):
            alone = ablate_heads(model, TEXT, [(layer, head)], top_k=vocab).fill_mask.masks[1].predictions
            probability = next(p.score for p in alone if p.token_id == effects.target_id)
            assert effects.effects[layer][head] == pytest.approx(probability - effects.baseline, abs=1e-7)


def test_head_effects_of_a_named_target(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["roberta"]))
    effects = head_effects(model, SENTENCES[0], target="cat", mode="mean")
    (expected,) = predict_masks(model, SENTENCES[0], targets=["cat"]).masks[0].targets
    assert effects.target_id == expected.token_ids[0]
    assert effects.baseline == expected.probability
    alone = ablate_heads(model, SENTENCES[0], "1:2", mode="mean", top_k=model.info.vocab_size).fill_mask
    probability = next(p.score for p in alone.masks[0].predictions if p.token_id == effects.target_id)
    assert effects.effects[1][2] == pytest.approx(probability - effects.baseline, abs=1e-7)


def test_hooks_are_idle_after_an_error_and_in_other_threads(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["bert"]))
    before = predict_masks(model, TEXT)

    def fail(module, args, output):
        raise RuntimeError("boom")

    handle = model.model.base_model.register_forward_hook(fail)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            ablate_heads(model, TEXT, "0:*")
    finally:
        handle.remove()
    assert _ABLATION.get() is None
    assert predict_masks(model, TEXT) == before
    ablated = ablate_heads(model, TEXT, "0:*,1:*").fill_mask
    results: dict[str, list] = {"plain": [], "ablated": []}

    def work(kind):
        for _ in range(6):
            if kind == "plain":
                results[kind].append(predict_masks(model, TEXT))
            else:
                results[kind].append(ablate_heads(model, TEXT, "0:*,1:*").fill_mask)

    threads = [threading.Thread(target=work, args=(kind,)) for kind in ("plain", "ablated", "plain", "ablated")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == before for r in results["plain"]) and all(r == ablated for r in results["ablated"])


@pytest.fixture(scope="module")
def mpnet(tmp_path_factory):
    """A masked LM whose attention output projection head ablation does not know (MPNet's `attn.o`)."""
    tokenizer = _wordpiece(BertTokenizer)
    config = MPNetConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=130, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("mpnet")
    AutoModelForMaskedLM.from_config(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return load_model(str(folder))


def test_an_architecture_that_cannot_be_split_says_so(mpnet):
    for call in (lambda: ablate_heads(mpnet, TEXT, "0:0"), lambda: head_effects(mpnet, TEXT)):
        with pytest.raises(InputError, match=r"MPNetForMaskedLM\) has no attention output projection"):
            call()


@pytest.mark.parametrize(("heads", "mode", "message"), [
    ("2:0", "zero", "Head 2:0 does not exist; this model has layers 0-1 and heads 0-1"),
    ("0:2", "zero", "Head 0:2 does not exist"),
    ("-1:0", "zero", "Head -1:0 does not exist"),
    ("0-1", "zero", "Write each head as LAYER:HEAD"),
    ("a:b", "zero", "whole numbers"),
    ([(0, 1.5)], "zero", "must be a whole number"),
    ([3], "zero", "pair"),
    ("0:0", "half", "Unknown ablation mode 'half'"),
])
def test_bad_ablation_input(tiny_model_dirs, heads, mode, message):
    model = load_model(str(tiny_model_dirs["bert"]))
    with pytest.raises(InputError, match=message):
        ablate_heads(model, TEXT, heads, mode=mode)


@pytest.mark.parametrize(("mask", "target", "message"), [
    (2, None, "Mask 2 does not exist; this text has 2 mask"),
    (-1, None, "Mask -1 does not exist"),
    (True, None, "mask must be a whole number"),
    (0, "sunflower", "is 3 pieces|pieces"),
    (0, "two words", "contains spaces"),
])
def test_bad_head_effects_input(tiny_model_dirs, mask, target, message):
    model = load_model(str(tiny_model_dirs["bert"]))
    with pytest.raises(InputError, match=message):
        head_effects(model, TEXT, mask=mask, target=target)
