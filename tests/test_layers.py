"""layer_predictions: the last layer against predict_masks, earlier layers against the head applied by hand."""

from __future__ import annotations

import pytest
import torch
from tiny_models import ARCHITECTURES, SENTENCES
from transformers import AutoModelForMaskedLM

from explorer import InputError, load_model, predict_masks
from explorer.encoding import encode
from explorer.layers import layer_predictions

TWO_MASKS = next(s for s in SENTENCES if s.count("[MASK]") == 2)

# The MLM head of each family written out by hand, from an independently loaded model's own modules.
HAND_HEADS = {
    "bert": lambda m, h: m.cls(h),
    "roberta": lambda m, h: m.lm_head(h),
    "xlm-roberta": lambda m, h: m.lm_head(h),
    "electra": lambda m, h: m.generator_lm_head(m.generator_predictions(h)),
    "distilbert": lambda m, h: m.vocab_projector(m.vocab_layer_norm(m.activation(m.vocab_transform(h)))),
    "modernbert": lambda m, h: m.decoder(m.head(m.model.final_norm(h))),
}


def test_last_layer_equals_predict_masks(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    lens = layer_predictions(model, TWO_MASKS, top_k=6)
    expected = predict_masks(model, TWO_MASKS, top_k=6)
    assert lens.layers == model.model.config.num_hidden_layers
    assert lens.tokens == expected.tokens
    for mask, reference in zip(lens.masks, expected.masks, strict=True):
        assert mask.position == reference.position
        assert len(mask.layers) == lens.layers + 1
        assert mask.layers[-1].predictions == reference.predictions
        final = mask.layers[-1].final_top1
        assert final.rank == 1 and final.token_id == reference.predictions[0].token_id
        assert final.score == reference.predictions[0].score


@pytest.mark.parametrize("arch", list(HAND_HEADS))
def test_every_layer_equals_the_head_applied_by_hand(tiny_model_dirs, arch):
    folder = str(tiny_model_dirs[arch])
    model = load_model(folder)
    lens = layer_predictions(model, TWO_MASKS, top_k=4)
    independent = AutoModelForMaskedLM.from_pretrained(folder, attn_implementation="eager").eval()
    encoding = encode(model, TWO_MASKS)
    inputs = {k: torch.tensor([v]) for k, v in encoding.model_inputs.items()}
    with torch.no_grad():
        states = independent.base_model(**inputs, output_hidden_states=True).hidden_states
        for layer, hidden in enumerate(states[:-1]):  # the last one is the model's output, checked above
            probs = HAND_HEADS[arch](independent, hidden)[0].softmax(-1)  # [pos, vocab]
            for mask in lens.masks:
                ours = mask.layers[layer]
                top = probs[mask.position].topk(4)
                assert [p.token_id for p in ours.predictions] == top.indices.tolist()
                assert [p.score for p in ours.predictions] == pytest.approx(top.values.tolist(), abs=1e-6)
                final = mask.layers[-1].final_top1.token_id
                assert ours.final_top1.rank == int((probs[mask.position] > probs[mask.position, final]).sum()) + 1


def test_modernbert_final_norm_is_what_follows_its_last_layer(tiny_model_dirs):
    """The raw output of the last layer, captured by a hook, through final_norm and the head gives the output."""
    folder = str(tiny_model_dirs["modernbert"])
    model = load_model(folder)
    assert layer_predictions(model, TWO_MASKS).final_modules == ("final_norm",)
    independent = AutoModelForMaskedLM.from_pretrained(folder, attn_implementation="eager").eval()
    captured = {}
    handle = independent.model.layers[-1].register_forward_hook(lambda m, a, out: captured.setdefault("raw", out))
    encoding = encode(model, TWO_MASKS)
    inputs = {k: torch.tensor([v]) for k, v in encoding.model_inputs.items()}
    try:
        with torch.no_grad():
            logits = independent(**inputs).logits[0]
            raw = captured["raw"][0] if isinstance(captured["raw"], tuple) else captured["raw"]
            by_hand = HAND_HEADS["modernbert"](independent, raw)[0]
    finally:
        handle.remove()
    torch.testing.assert_close(by_hand, logits)


def test_first_layer_is_the_embedding_output(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["bert"]))
    lens = layer_predictions(model, SENTENCES[0], top_k=3)
    assert [entry.layer for entry in lens.masks[0].layers] == list(range(lens.layers + 1))


@pytest.mark.parametrize(("text", "top_k", "message"), [
    ("the cat sat.", 5, "No \\[MASK\\]"),
    ("the [MASK] sat.", 0, "top_k must be"),
])
def test_bad_input(tiny_model_dirs, text, top_k, message):
    model = load_model(str(tiny_model_dirs["bert"]))
    with pytest.raises(InputError, match=message):
        layer_predictions(model, text, top_k=top_k)


@pytest.mark.parametrize("arch", ARCHITECTURES[:1])
def test_result_is_frozen(tiny_model_dirs, arch):
    lens = layer_predictions(load_model(str(tiny_model_dirs[arch])), SENTENCES[0])
    with pytest.raises(AttributeError):
        lens.layers = 3  # type: ignore[misc]
    assert type(lens.masks[0].layers[0].final_top1.score) is float
