"""fill_jointly against predict_masks and against fill-in loops written here on an independently loaded model."""

from __future__ import annotations

import math
from functools import cache

import pytest
import torch
from tiny_models import SENTENCES
from transformers import AutoModelForMaskedLM

from explorer import InputError, load_model, predict_masks
from explorer.encoding import encode
from explorer.joint import fill_jointly

ONE_MASK = SENTENCES[1]
TWO_MASKS = next(s for s in SENTENCES if s.count("[MASK]") == 2)
THREE_MASKS = "the [MASK] was cold and the [MASK] [MASK] was hot."


@cache
def independent_model(folder: str):
    return AutoModelForMaskedLM.from_pretrained(folder, attn_implementation="eager").eval()


def independent_log_probs(folder, model, ids):
    """log p at every position [pos, vocab], -inf for special tokens, from a model loaded here."""
    independent = independent_model(str(folder))
    tokenizer = model.tokenizer
    with torch.no_grad():
        log_probs = independent(input_ids=torch.tensor([ids])).logits[0].log_softmax(-1)
    log_probs[:, list(tokenizer.all_special_ids)] = -math.inf
    log_probs[:, len(tokenizer):] = -math.inf
    return log_probs


def test_one_mask_is_the_argmax(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    expected = predict_masks(model, ONE_MASK, top_k=1, skip_special_tokens=True)
    for order in ("confidence", "left-to-right"):
        for beam in (1, 5):
            joint = fill_jointly(model, ONE_MASK, order=order, beam=beam)
            (step,) = joint.steps
            assert step.token_id == expected.masks[0].predictions[0].token_id
            assert step.probability == pytest.approx(expected.masks[0].predictions[0].score, rel=1e-5)
            assert joint.filled_text == expected.filled_text == joint.independent_text
            assert joint.differs == (False,)


@pytest.mark.parametrize("arch", ["bert", "roberta", "deberta-v2", "modernbert"])
def test_beam_never_scores_below_greedy(tiny_model_dirs, arch):
    model = load_model(str(tiny_model_dirs[arch]))
    for order in ("confidence", "left-to-right"):
        greedy = fill_jointly(model, THREE_MASKS, order=order)
        for beam in (2, 3, 8):
            assert fill_jointly(model, THREE_MASKS, order=order, beam=beam).log_probability >= greedy.log_probability


@pytest.mark.parametrize("arch", ["bert", "xlm-roberta"])
def test_greedy_left_to_right_equals_a_hand_loop(tiny_model_dirs, arch):
    folder = tiny_model_dirs[arch]
    model = load_model(str(folder))
    joint = fill_jointly(model, THREE_MASKS, order="left-to-right")
    ids = list(encode(model, THREE_MASKS).input_ids)
    total, words = 0.0, []
    for position in [i for i, t in enumerate(ids) if t == model.tokenizer.mask_token_id]:
        log_probs = independent_log_probs(folder, model, ids)[position]
        best = int(log_probs.argmax())
        total += float(log_probs[best])
        words.append(best)
        ids[position] = best
    assert [s.token_id for s in joint.steps] == words
    assert [s.mask for s in joint.steps] == [0, 1, 2]
    assert joint.log_probability == pytest.approx(total, abs=1e-4)
    assert joint.filled_text == model.tokenizer.decode(ids, skip_special_tokens=True).strip()


def test_confidence_order_fills_the_surest_mask_first(tiny_model_dirs):
    folder = tiny_model_dirs["electra"]
    model = load_model(str(folder))
    joint = fill_jointly(model, THREE_MASKS, order="confidence")
    ids = list(encode(model, THREE_MASKS).input_ids)
    log_probs = independent_log_probs(folder, model, ids)
    positions = [i for i, t in enumerate(ids) if t == model.tokenizer.mask_token_id]
    first = max(range(len(positions)), key=lambda m: float(log_probs[positions[m]].max()))
    assert joint.steps[0].mask == first
    assert joint.steps[0].token_id == int(log_probs[positions[first]].argmax())


def test_wide_beam_with_two_masks_is_the_best_of_its_first_words(tiny_model_dirs):
    """Left to right with beam 8 over two masks: the best over the 8 best first words of first + best second."""
    folder = tiny_model_dirs["roberta"]
    model = load_model(str(folder))
    joint = fill_jointly(model, TWO_MASKS, order="left-to-right", beam=8)
    ids = list(encode(model, TWO_MASKS).input_ids)
    first_pos, second_pos = [i for i, t in enumerate(ids) if t == model.tokenizer.mask_token_id]
    first = independent_log_probs(folder, model, ids)[first_pos].topk(8)
    best = -math.inf
    for value, word in zip(first.values.tolist(), first.indices.tolist(), strict=True):
        filled = list(ids)
        filled[first_pos] = word
        best = max(best, value + float(independent_log_probs(folder, model, filled)[second_pos].max()))
    assert joint.log_probability == pytest.approx(best, abs=1e-4)


def test_independent_column_is_predict_masks(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["distilbert"]))
    joint = fill_jointly(model, THREE_MASKS, beam=2)
    expected = predict_masks(model, THREE_MASKS, top_k=1, skip_special_tokens=True)
    assert joint.independent == tuple(m.predictions[0] for m in expected.masks)
    assert joint.differs == tuple(w != p.token for w, p in zip(joint.words, joint.independent, strict=True))
    assert sorted(s.mask for s in joint.steps) == [0, 1, 2]
    assert joint.log_probability == pytest.approx(sum(math.log(s.probability) for s in joint.steps))


@pytest.mark.parametrize(("order", "beam", "message"), [
    ("random", 1, "Unknown order 'random'"),
    ("confidence", 0, "beam must be a whole number from 1 to 8"),
    ("confidence", 9, "beam must be"),
    ("confidence", 2.5, "beam must be"),
    ("confidence", True, "beam must be"),
])
def test_bad_options(tiny_model_dirs, order, beam, message):
    model = load_model(str(tiny_model_dirs["bert"]))
    with pytest.raises(InputError, match=message):
        fill_jointly(model, TWO_MASKS, order=order, beam=beam)
    with pytest.raises(InputError, match="No \\[MASK\\]"):
        fill_jointly(model, "no mask here.")
