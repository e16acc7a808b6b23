"""compare_models: each model's predictions as predict_masks gives them, agreement checked by hand, cross
probabilities against the transformers fill-mask pipeline."""

from __future__ import annotations

import json
import shutil

import pytest
from test_fill_mask import as_model_text, reference
from tiny_models import SENTENCES

from explorer import InputError, load_model, predict_masks
from explorer.cli import main
from explorer.compare import MIN_SHARED_WORDS, compare_models, spearman
from explorer.documents import compare_document, fill_mask_document
from explorer.fill_mask import encode_targets

ARCHS = ("bert", "roberta", "xlm-roberta")


@pytest.fixture(scope="module")
def models(tiny_model_dirs):
    return [load_model(str(tiny_model_dirs[a])) for a in ARCHS]


def test_each_model_predicts_as_on_its_own(models):
    text = SENTENCES[3]  # two masks, written once as [MASK] and mapped to each model's own token
    comparison = compare_models(models, text, top_k=6)
    assert comparison.models == tuple(m.info.name for m in models)
    for model, result in zip(models, comparison.results, strict=True):
        assert result == predict_masks(model, text, top_k=6)
    assert len(comparison.agreement) == 2


def test_agreement_matches_a_hand_computation(models, tiny_model_dirs):
    text = SENTENCES[1]
    top_k = 8
    comparison = compare_models(models, text, top_k=top_k)
    (agreement,) = comparison.agreement
    own = [predict_masks(m, text, top_k=top_k).masks[0].predictions for m in models]
    words = [{p.token.strip().casefold() for p in preds if p.token.strip().isprintable() and p.token.strip()}
             for preds in own]
    for i in range(len(models)):
        for j in range(len(models)):
            assert agreement.topk_overlap[i][j] == pytest.approx(len(words[i] & words[j]) / top_k)
    folders = {m.info.name: str(tiny_model_dirs[arch]) for m, arch in zip(models, ARCHS, strict=True)}
    for cross in agreement.cross_probabilities:
        model = models[comparison.models.index(cross.model)]
        assert_cross_matches_pipeline(folders[cross.model], model, text, cross)
    assert 0 < len(agreement.cross_probabilities) <= len(models) * (len(models) - 1)
    for i in range(len(models)):
        if agreement.shared_words[i][i] >= MIN_SHARED_WORDS:
            assert agreement.rank_correlation[i][i] == pytest.approx(1.0)
        for j in range(len(models)):
            assert agreement.rank_correlation[i][j] == agreement.rank_correlation[j][i]


def assert_cross_matches_pipeline(folder: str, model, text: str, cross) -> None:
    """A cross probability equals the fill-mask pipeline's `targets=` score of the word's first vocabulary piece
    (given as the piece itself, so the pipeline looks it up in the vocabulary), its rank that piece's place in
    the pipeline's whole distribution."""
    (spec,) = encode_targets(model, [cross.word])
    piece, piece_id = spec.pieces[0], spec.token_ids[0]
    pipe = reference(folder)  # the same folder, loaded by transformers itself
    masked = as_model_text(text, pipe.tokenizer.mask_token)
    (expected,) = pipe(masked, targets=[piece], top_k=1)
    assert expected["token"] == piece_id
    assert cross.first_piece_probability == pytest.approx(expected["score"], abs=1e-6)
    assert cross.probability == (cross.first_piece_probability if len(spec.token_ids) == 1 else None)
    everything = pipe(masked, top_k=pipe.model.config.vocab_size)
    assert cross.first_piece_rank == 1 + sum(r["score"] > expected["score"] for r in everything)


def test_common_words_by_hand(models):
    text = SENTENCES[3]
    top_k = 50  # random tiny models share few words: a long top-k gives the check something to find
    found = 0
    for group in (models, models[:2], models[1:], models[::2]):
        comparison = compare_models(group, text, top_k=top_k)
        for number, agreement in enumerate(comparison.agreement):
            own = [predict_masks(m, text, top_k=top_k).masks[number].predictions for m in group]
            # By hand: a word is a token without its surrounding spaces, printable and with no space inside (the
            # byte-level models' top-k holds control characters), compared case-folded.
            keys = [[p.token.strip().casefold() for p in preds
                     if p.token.strip() and p.token.strip().isprintable() and " " not in p.token.strip()]
                    for preds in own]
            expected = [k for k in dict.fromkeys(keys[0]) if all(k in other for other in keys[1:])]
            assert agreement.common_words == tuple(expected)
            found += len(expected)
    assert found > 0


def test_common_words_of_models_that_agree(tiny_model_dirs, tmp_path):
    # Three copies of one checkpoint under different names: every word of the top-k is common to all.
    folders = [tmp_path / name for name in ("one", "two", "three")]
    for folder in folders:
        shutil.copytree(tiny_model_dirs["bert"], folder)
    comparison = compare_models([load_model(str(f)) for f in folders], SENTENCES[0], top_k=5)
    (agreement,) = comparison.agreement
    words = [p.token.strip().casefold() for p in comparison.results[0].masks[0].predictions]
    assert agreement.common_words == tuple(dict.fromkeys(w for w in words if w))
    assert len(agreement.common_words) == 5
    assert agreement.topk_overlap[0][1] == len(agreement.common_words) / 5


def test_spearman_by_hand():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks a = 1, 2.5, 2.5, 4; b = 1, 2, 4, 3 -> Pearson of ranks by hand: cov 3.0, var 4.5 and 5 -> 0.632
    assert spearman([0.1, 0.5, 0.5, 0.9], [1, 2, 4, 3]) == pytest.approx(3.0 / (4.5 * 5) ** 0.5)
    assert spearman([1, 1, 1], [1, 2, 3]) is None


@pytest.mark.parametrize("count", [1, 5])
def test_model_count_is_checked(models, count):
    with pytest.raises(InputError, match="2 to 4 models"):
        compare_models((models * 2)[:count], SENTENCES[0])


def test_same_model_twice_is_refused(models):
    with pytest.raises(InputError, match="same model was chosen twice"):
        compare_models([models[0], models[0]], SENTENCES[0])


def test_cli_compare_json(tiny_model_dirs, models, capsys):
    argv = ["compare", "--top-k", "4", "--json"]
    for arch in ARCHS[:2]:
        argv += ["--model", str(tiny_model_dirs[arch])]
    assert main([*argv, SENTENCES[0]]) == 0
    document = json.loads(capsys.readouterr().out)
    expected = compare_document(compare_models(models[:2], SENTENCES[0], top_k=4))
    assert document == json.loads(json.dumps(expected))
    assert document["models"] == [m.info.name for m in models[:2]]
    assert document["results"][1]["results"][0] == fill_mask_document(predict_masks(models[1], SENTENCES[0], top_k=4))
    assert set(document["agreement"]["masks"][0]) >= {"top1", "topk_overlap", "cross_probabilities",
                                                      "rank_correlation"}


def test_cli_compare_table_and_errors(tiny_model_dirs, capsys):
    bert, roberta = str(tiny_model_dirs["bert"]), str(tiny_model_dirs["roberta"])
    assert main(["compare", "--model", bert, "--model", roberta, SENTENCES[0]]) == 0
    out = capsys.readouterr().out
    assert "top-k overlap" in out and "Spearman" in out
    assert main(["compare", "--model", bert, SENTENCES[0]]) == 2
    assert "at least two models" in capsys.readouterr().err
