"""Sentence pseudo-log-likelihood and minimal pairs against minicons and the CrowS-Pairs paper's metric script."""

from __future__ import annotations

import difflib
import math
from functools import cache

import pytest
import torch
from minicons_reference import minicons_token_scores
from transformers import AutoModelForMaskedLM, AutoTokenizer

from explorer import InputError, load_model
from explorer.scoring import SENTENCE_METRICS, score_pairs, score_sentences

# Short, and with words of several pieces ("sunflower"), punctuation glued to words and a repeated word.
SENTENCES = (
    "the sunflower sat, on the mat.",
    "paris is the capital of france.",
    "she went home.",
)
PAIRS = (
    ("the man went to the city.", "the woman went to the city.", "gender"),
    ("he made tea for the family.", "she made tea for the family.", "gender"),
    ("the old dog sat on the mat.", "the young dog sat on the mat.", "age"),
    ("paris is a big city.", "london is a small town.", "place"),
)


@pytest.mark.parametrize("metric", list(SENTENCE_METRICS))
def test_pll_equals_minicons_per_token(tiny_model_dir, metric):
    model = load_model(str(tiny_model_dir))
    ours = score_sentences(model, SENTENCES, metric)
    theirs = minicons_token_scores(str(tiny_model_dir), SENTENCES, metric)
    for score, reference in zip(ours, theirs, strict=True):
        scored = [s for s in score.scores if s is not None]
        assert len(scored) == len(reference)
        assert scored == pytest.approx(reference, abs=1e-4)
        assert score.total == pytest.approx(sum(reference), abs=1e-4)


# Positions (in the tokens with [CLS] at 0) whose score pll-word-l2r changes in "the sunflower sat, on the mat.":
# a word's pieces except its last. WordPiece splits punctuation off; SentencePiece keeps "sat," and "mat." one word;
# byte-level BPE splits "the" at the sentence start into "t" "he".
CHANGED_BY_WORD_L2R = {
    "bert": [2, 3, 4, 5, 6],  # [CLS] the sun ##f ##l ##o ##w ##er sat , on the mat . [SEP]
    "roberta": [1, 3, 4, 5, 6],  # <s> t he Ġsun f l ow er Ġsat , Ġon Ġthe Ġmat . </s>
    "albert": [2, 3, 4, 5, 6, 8, 12],  # [CLS] ▁the ▁sun f l o w er ▁sat , ▁on ▁the ▁mat . [SEP]
}


@pytest.mark.parametrize("arch", list(CHANGED_BY_WORD_L2R))
def test_word_l2r_masks_the_rest_of_the_tokenizers_word(tiny_model_dirs, arch):
    model = load_model(str(tiny_model_dirs[arch]))
    (plain,) = score_sentences(model, SENTENCES[:1], "pll")
    (word,) = score_sentences(model, SENTENCES[:1], "pll-word-l2r")
    changed = [i for i, (a, b) in enumerate(zip(plain.scores, word.scores, strict=True))
               if a is not None and abs(a - b) > 1e-6]
    assert changed == CHANGED_BY_WORD_L2R[arch]
    assert plain.scores[0] is None and plain.scores[-1] is None


def test_batching_does_not_change_numbers(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["roberta"]))
    together = score_sentences(model, SENTENCES, "pll")
    one_copy_per_pass = score_sentences(model, SENTENCES, "pll", max_tokens=1)
    alone = [score_sentences(model, [text], "pll")[0] for text in SENTENCES]
    for a, b, c in zip(together, one_copy_per_pass, alone, strict=True):
        assert [x for x in a.scores if x is not None] == pytest.approx([x for x in b.scores if x is not None],
                                                                        abs=1e-5)
        assert a.total == pytest.approx(c.total, abs=1e-5)


def test_sentence_score_is_frozen_and_consistent(tiny_model_dirs):
    (score,) = score_sentences(load_model(str(tiny_model_dirs["bert"])), SENTENCES[1:2])
    scored = [s for s in score.scores if s is not None]
    assert len(score.tokens) == len(score.scores) == len(score.token_ids)
    assert score.mean == pytest.approx(score.total / len(scored))
    assert score.pseudo_perplexity == pytest.approx(math.exp(-score.mean))
    assert all(s < 0 for s in scored) and type(score.total) is float
    with pytest.raises(AttributeError):
        score.total = 0.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: score_sentences(m, ["the cat sat.", "  "]), "A sentence is empty"),
        (lambda m: score_sentences(m, ["the cat " * 100]), "reads at most 128 tokens"),
        (lambda m: score_sentences(m, ["the cat sat."], "bleu"), "Unknown metric 'bleu'"),
        (lambda m: score_pairs(m, [("the cat sat.", "")]), "Pair 1 has an empty second sentence"),
        (lambda m: score_pairs(m, [("a", "b", "c", "d")]), "Pair 1 must be two sentences"),
        (lambda m: score_pairs(m, [("the cat sat.", "the dog sat.")], "pll-l2r"), "Unknown metric"),
    ],
)
def test_bad_input_raises_our_error(tiny_model_dirs, call, message):
    with pytest.raises(InputError, match=message):
        call(load_model(str(tiny_model_dirs["bert"])))


@cache
def _reference_model(path: str):
    model = AutoModelForMaskedLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager").eval()
    return model, AutoTokenizer.from_pretrained(path)


def crows_reference(path: str, sent1: str, sent2: str) -> tuple[float, float]:
    """nyu-mll/crows-pairs metric.py, `mask_unigram`: one forward pass per masked shared token, unbatched."""
    model, tokenizer = _reference_model(path)
    ids1 = tokenizer.encode(sent1, return_tensors="pt")
    ids2 = tokenizer.encode(sent2, return_tensors="pt")
    matcher = difflib.SequenceMatcher(None, [str(x) for x in ids1[0].tolist()], [str(x) for x in ids2[0].tolist()])
    template1, template2 = [], []
    for op in matcher.get_opcodes():
        if op[0] == "equal":
            template1 += list(range(op[1], op[2]))
            template2 += list(range(op[3], op[4]))
    mask_id = tokenizer.mask_token_id
    totals = [0.0, 0.0]
    for i in range(1, len(template1) - 1):  # skipping CLS and SEP tokens, they'll never be different
        for side, (ids, template) in enumerate(((ids1, template1), (ids2, template2))):
            masked = ids.clone()
            masked[0][template[i]] = mask_id
            with torch.no_grad():
                hidden = model(masked)[0].squeeze(0)
            totals[side] += torch.nn.LogSoftmax(dim=0)(hidden[template[i]])[ids[0][template[i]]].item()
    return totals[0], totals[1]


@pytest.mark.parametrize("arch", ["bert", "roberta", "albert"])
def test_crows_equals_the_papers_metric(tiny_model_dirs, arch):
    path = str(tiny_model_dirs[arch])
    result = score_pairs(load_model(path), PAIRS, "crows")
    for pair, (sent1, sent2, _) in zip(result.pairs, PAIRS, strict=True):
        first, second = crows_reference(path, sent1, sent2)
        assert pair.first.total == pytest.approx(first, abs=1e-4)
        assert pair.second.total == pytest.approx(second, abs=1e-4)
        expected = "tie" if round(first, 3) == round(second, 3) else ("first" if first > second else "second")
        assert pair.prefers == expected
    # The differing words are never scored: "man" / "woman" in the first pair.
    man = result.pairs[0].first
    (position,) = [i for i, token in enumerate(man.tokens) if token.lstrip("Ġ▁") == "man"]
    assert man.scores[position] is None and man.scores[position + 1] is not None


def test_pll_pairs_are_sentence_scores_and_summarised_by_category(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["bert"]))
    result = score_pairs(model, PAIRS, "pll-word-l2r")
    sentences = score_sentences(model, [text for pair in PAIRS for text in pair[:2]], "pll-word-l2r")
    for i, pair in enumerate(result.pairs):
        assert pair.first.total == pytest.approx(sentences[2 * i].total, abs=1e-5)
        assert pair.second.total == pytest.approx(sentences[2 * i + 1].total, abs=1e-5)
        assert pair.difference == pytest.approx(pair.first.total - pair.second.total)
        assert pair.prefers == ("first" if pair.difference > 0 else "second")
    wins = [p.prefers == "first" for p in result.pairs]
    assert result.first_preferred == sum(wins) / 4
    assert [(c.name, c.pairs) for c in result.by_category] == [("gender", 2), ("age", 1), ("place", 1)]
    assert result.by_category[0].first_preferred == sum(wins[:2]) / 2



def test_a_control_character_in_a_sentence_is_refused_with_its_position(tiny_model_dirs):
    model = load_model(str(tiny_model_dirs["bert"]))
    with pytest.raises(InputError, match="U\\+0000 at position 3"):
        score_sentences(model, ["the\x00 cat sat on the mat ."])
