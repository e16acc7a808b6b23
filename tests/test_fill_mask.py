"""predict_masks against the transformers fill-mask pipeline, on tiny models of eight architectures."""

from __future__ import annotations

import math
import threading
from functools import cache

import pytest
import torch
from minicons_reference import minicons_token_scores
from tiny_models import ARCHITECTURES, MULTI_PIECE_WORD, SENTENCES, SINGLE_PIECE_WORD
from transformers import AutoModelForMaskedLM, AutoTokenizer, pipeline

from explorer import InputError, load_model, predict_masks
from explorer.encoding import encode
from explorer.forward import narrow_positions

ONE_MASK = [s for s in SENTENCES if s.count("[MASK]") == 1]
TWO_MASKS = [s for s in SENTENCES if s.count("[MASK]") == 2]
# How each tokenizer family writes a word that starts after a space.
WORD_START = {
    "bert": "{}", "distilbert": "{}", "electra": "{}",
    "roberta": "Ġ{}", "modernbert": "Ġ{}",
    "xlm-roberta": "▁{}", "albert": "▁{}", "deberta-v2": "▁{}",
}


@cache
def reference(path: str):
    """An independent fill-mask pipeline, loaded by transformers itself from the same folder."""
    return pipeline("fill-mask", model=path, device="cpu")


def as_model_text(sentence: str, mask_token: str) -> str:
    return sentence.replace("[MASK]", mask_token)


def assert_same(ours, theirs) -> None:
    assert [p.token_id for p in ours.predictions] == [r["token"] for r in theirs]
    assert [p.token for p in ours.predictions] == [r["token_str"] for r in theirs]
    for p, r in zip(ours.predictions, theirs, strict=True):
        assert p.score == pytest.approx(r["score"], abs=1e-4)


@pytest.mark.parametrize("sentence", ONE_MASK)
def test_one_mask_matches_pipeline(tiny_model_dir, sentence):
    model = load_model(str(tiny_model_dir))
    result = predict_masks(model, sentence, top_k=7)
    expected = reference(str(tiny_model_dir))(as_model_text(sentence, model.tokenizer.mask_token), top_k=7)
    assert len(result.masks) == 1
    assert_same(result.masks[0], expected)
    assert result.tokens[result.masks[0].position] == model.tokenizer.mask_token


def test_several_masks_match_pipeline_independently(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    sentence = TWO_MASKS[0]
    result = predict_masks(model, sentence, top_k=5)
    expected = reference(str(tiny_model_dir))(as_model_text(sentence, model.tokenizer.mask_token), top_k=5)
    assert result.independent_masks
    assert len(result.masks) == 2 == len(expected)
    for ours, theirs in zip(result.masks, expected, strict=True):
        assert_same(ours, theirs)
    assert result.masks[0].position < result.masks[1].position


def test_single_piece_target_matches_pipeline(tiny_model_dir, request):
    arch = request.node.callspec.params["tiny_model_dir"]
    model = load_model(str(tiny_model_dir))
    sentence = ONE_MASK[0]
    result = predict_masks(model, sentence, targets=[SINGLE_PIECE_WORD])
    (target,) = result.masks[0].targets
    piece = WORD_START[arch].format(SINGLE_PIECE_WORD)
    (expected,) = reference(str(tiny_model_dir))(
        as_model_text(sentence, model.tokenizer.mask_token), targets=[piece], top_k=1
    )
    assert target.single_token and target.pieces == (piece,)
    assert target.token_ids == (expected["token"],)
    assert target.probability == pytest.approx(expected["score"], abs=1e-4)
    all_probs = predict_masks(model, sentence, top_k=model.info.vocab_size).masks[0].predictions
    assert [p.token_id for p in all_probs].index(expected["token"]) + 1 == target.first_piece_rank


@cache
def reference_model(path: str):
    """The same folder loaded by transformers itself, for hand-written references."""
    model = AutoModelForMaskedLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager").eval()
    return model, AutoTokenizer.from_pretrained(path)


def hand_chain_rule(path: str, text: str, mask: int, pieces: list[int]) -> list[float]:
    """Piece i's log-probability with the mask `mask` replaced by len(pieces) masks, pieces < i filled in."""
    model, tokenizer = reference_model(path)
    ids = tokenizer(text)["input_ids"]
    position = [i for i, t in enumerate(ids) if t == tokenizer.mask_token_id][mask]
    steps = []
    for i in range(len(pieces)):
        row = ids[:position] + pieces[:i] + [tokenizer.mask_token_id] * (len(pieces) - i) + ids[position + 1:]
        with torch.no_grad():
            logits = model(torch.tensor([row])).logits[0, position + i]
        steps.append(logits.log_softmax(-1)[pieces[i]].item())
    return steps


def test_multi_piece_target_is_the_chain_rule(tiny_model_dir, request):
    arch = request.node.callspec.params["tiny_model_dir"]
    model = load_model(str(tiny_model_dir))
    word = MULTI_PIECE_WORD[arch]
    text = as_model_text(ONE_MASK[1], model.tokenizer.mask_token)
    result = predict_masks(model, ONE_MASK[1], targets=[word, SINGLE_PIECE_WORD])
    multi, single = result.masks[0].targets
    assert not multi.single_token and len(multi.pieces) > 1 and multi.method == "chain-rule-l2r"
    assert multi.pieces[0] == WORD_START[arch].format(multi.pieces[0].lstrip("Ġ▁"))
    expected = hand_chain_rule(str(tiny_model_dir), text, 0, list(multi.token_ids))
    assert list(multi.piece_log_probabilities) == pytest.approx(expected, abs=1e-4)
    assert multi.log_probability == pytest.approx(sum(expected), abs=1e-4)
    assert multi.probability == pytest.approx(math.exp(sum(expected)), rel=1e-4)
    # minicons' within_word_l2r on the filled-in sentence, restricted to the word's pieces, is the same chain.
    filled = ONE_MASK[1].replace("[MASK]", word)
    filled_ids = model.tokenizer(filled)["input_ids"]
    position = result.masks[0].position
    assert tuple(filled_ids[position:position + len(multi.token_ids)]) == multi.token_ids
    (scores,) = minicons_token_scores(str(tiny_model_dir), [filled], "pll-word-l2r")
    # minicons leaves out [CLS] at position 0.
    assert list(multi.piece_log_probabilities) == pytest.approx(
        scores[position - 1:position - 1 + len(multi.token_ids)], abs=1e-4)
    # The first piece's own number in the one-mask distribution is still given, and differs from the chain's.
    (first,) = reference(str(tiny_model_dir))(text, targets=[multi.pieces[0]], top_k=1)
    assert multi.first_piece_probability == pytest.approx(first["score"], abs=1e-4)
    assert single.single_token and single.method == "single-piece"
    assert single.log_probability == pytest.approx(math.log(single.probability), abs=1e-5)


def test_chain_rule_keeps_the_other_masks_masked(tiny_model_dirs):
    path = str(tiny_model_dirs["bert"])
    model = load_model(path)
    result = predict_masks(model, TWO_MASKS[0], targets=["sunflower"])
    for mask in range(2):
        (target,) = result.masks[mask].targets
        expected = hand_chain_rule(path, TWO_MASKS[0], mask, list(target.token_ids))
        assert list(target.piece_log_probabilities) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("arch", [a for a in ARCHITECTURES if WORD_START[a] != "{}"])
def test_a_target_may_name_an_exact_vocabulary_piece(tiny_model_dirs, arch):
    """BPE and SentencePiece pieces carry a word-start marker; naming the piece itself selects it."""
    model = load_model(str(tiny_model_dirs[arch]))
    piece = WORD_START[arch].format(SINGLE_PIECE_WORD)
    by_piece, by_word = predict_masks(model, ONE_MASK[0], targets=[piece, SINGLE_PIECE_WORD]).masks[0].targets
    assert by_piece.pieces == by_word.pieces == (piece,)
    assert by_piece.first_piece_probability == by_word.first_piece_probability


@pytest.mark.parametrize("spelling", ["[MASK]", "<mask>", "[mask]", "<MASK>", "own"])
def test_every_mask_spelling_maps_to_the_model_token(tiny_model_dir, spelling):
    model = load_model(str(tiny_model_dir))
    token = model.tokenizer.mask_token if spelling == "own" else spelling
    typed = ONE_MASK[1].replace("[MASK]", token)
    result = predict_masks(model, typed)
    canonical = predict_masks(model, as_model_text(ONE_MASK[1], model.tokenizer.mask_token))
    assert result.text == typed
    assert result.tokens == canonical.tokens
    assert result.masks == canonical.masks


def test_mask_eats_the_space_as_the_family_does(tiny_model_dir):
    """No stray word-boundary piece appears before the mask, for any family."""
    model = load_model(str(tiny_model_dir))
    encoding = encode(model, "the cat sat on the [MASK].")
    before = encoding.tokens[encoding.mask_positions[0] - 1]
    assert before not in {"▁", "Ġ"}
    assert before.lstrip("Ġ▁") == "the"


def test_head_runs_only_at_mask_positions(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    encoding = encode(model, TWO_MASKS[0])
    inputs = {k: torch.tensor([v]) for k, v in encoding.model_inputs.items()}
    with torch.inference_mode(), narrow_positions(model.model, encoding.mask_positions) as narrowing:
        logits = model.model(**inputs).logits
    assert narrowing.applied
    assert logits.shape == (1, 2, model.info.vocab_size)


def test_narrowed_logits_equal_the_full_logits_at_the_masks(tiny_model_dir):
    """`select` gives the same rows whether the head ran at the masks only or everywhere (a model the narrowing
    hook cannot reach), for one list of positions and for a position per row."""
    model = load_model(str(tiny_model_dir))
    encoding = encode(model, TWO_MASKS[0])
    inputs = {k: torch.tensor([v] * 2) for k, v in encoding.model_inputs.items()}  # [batch, pos] each
    per_row = torch.tensor([[encoding.mask_positions[0]], [encoding.mask_positions[1]]])  # [batch, 1]
    with torch.inference_mode():
        full = model.model(**inputs).logits  # [batch, pos, vocab]
        for positions in (list(encoding.mask_positions), per_row):
            with narrow_positions(model.model, positions) as narrowed:
                a = narrowed.select(model.model(**inputs).logits)
            with narrow_positions(torch.nn.Identity(), positions) as untouched:  # not the hooked model
                b = untouched.select(model.model(**inputs).logits)
            assert narrowed.applied and not untouched.applied
            rows = [list(encoding.mask_positions)] * 2 if isinstance(positions, list) else per_row.tolist()
            expected = torch.stack([full[i, r] for i, r in enumerate(rows)])  # [batch, mask, vocab]
            torch.testing.assert_close(b, expected)
            torch.testing.assert_close(a, expected, atol=1e-5, rtol=1e-5)


def test_skip_special_tokens_hides_them_but_keeps_probabilities(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    vocab = model.info.vocab_size
    full = predict_masks(model, ONE_MASK[0], top_k=vocab).masks[0].predictions
    hidden = predict_masks(model, ONE_MASK[0], top_k=10, skip_special_tokens=True).masks[0].predictions
    special = set(model.tokenizer.all_special_ids)
    assert not special & {p.token_id for p in hidden}
    assert list(hidden) == [p for p in full if p.token_id not in special][:10]


def test_filled_text_is_the_pipelines_sequence(tiny_model_dir):
    model = load_model(str(tiny_model_dir))
    sentence = ONE_MASK[1]
    (best, *_) = reference(str(tiny_model_dir))(as_model_text(sentence, model.tokenizer.mask_token), top_k=1)
    assert predict_masks(model, sentence).filled_text == best["sequence"].strip()


def test_concurrent_calls_on_one_model_agree_with_sequential(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["bert"]))
    texts = [*SENTENCES, "the [MASK] sat on the mat.", "[MASK] is here."]
    expected = [predict_masks(model, t, top_k=4) for t in texts]
    results: dict[int, object] = {}

    def work(i: int) -> None:
        for _ in range(5):
            results[i] = predict_masks(model, texts[i], top_k=4)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(len(texts))] == expected


@pytest.mark.parametrize(
    ("text", "top_k", "targets", "message"),
    [
        ("the cat sat on the mat.", 5, None, "No [MASK] in the text"),
        ("", 5, None, "The text is empty"),
        ("   \n", 5, None, "The text is empty"),
        ("the [MASK] sat.", 0, None, "top_k must be"),
        ("the [MASK] sat.", -3, None, "top_k must be"),
        ("the [MASK] sat.", 10**9, None, "top_k must be"),
        ("the [MASK] sat.", 2.5, None, "top_k must be"),
        ("the [MASK] sat.", 5, [""], "target word is empty"),
        ("the [MASK] sat.", 5, ["two words"], "contains spaces"),
        ("the [MASK] sat.", 5, ["zq" * 80], "more than the 128"),
        ("the cat " * 100 + "[MASK].", 5, None, "reads at most 128 tokens"),
    ],
)
def test_bad_input_raises_our_error(tiny_model_dirs, text, top_k, targets, message):
    model = load_model(str(tiny_model_dirs["roberta"]))
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        predict_masks(model, text, top_k=top_k, targets=targets)


@pytest.mark.parametrize(("arch", "word"), [("bert", "🍕"), ("bert", "a" * 100_000), ("xlm-roberta", "🍕")])
def test_a_target_the_tokenizer_cannot_spell_is_refused(tiny_model_dirs, arch, word):
    model = load_model(str(tiny_model_dirs[arch]))
    with pytest.raises(InputError, match="is not in .* vocabulary"):
        predict_masks(model, "the [MASK] sat.", targets=["cat", word])


def test_deterministic(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["deberta-v2"]))
    assert predict_masks(model, SENTENCES[0]) == predict_masks(model, SENTENCES[0])


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_result_is_plain_and_frozen(tiny_model_dirs, arch):
    result = predict_masks(load_model(str(tiny_model_dirs[arch])), SENTENCES[0])
    with pytest.raises(AttributeError):
        result.text = "x"  # type: ignore[misc]
    prediction = result.masks[0].predictions[0]
    assert type(prediction.score) is float and type(prediction.token_id) is int
