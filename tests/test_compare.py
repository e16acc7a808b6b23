"""compare_models: each model's predictions as predict_masks gives them, agreement checked by hand."""

from __future__ import annotations

import json

import pytest
from tiny_models import SENTENCES

from explorer import InputError, load_model, predict_masks
from explorer.cli import main
from explorer.compare import compare_models, spearman
from explorer.documents import compare_document, fill_mask_document

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


def test_agreement_matches_a_hand_computation(models):
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
    for cross in agreement.cross_probabilities:
        model = models[comparison.models.index(cross.model)]
        (expected,) = predict_masks(model, text, targets=[cross.word]).masks[0].targets
        assert cross.first_piece_probability == pytest.approx(expected.first_piece_probability, abs=1e-6)
        assert cross.probability == expected.probability
        assert cross.first_piece_rank == expected.first_piece_rank
    assert 0 < len(agreement.cross_probabilities) <= len(models) * (len(models) - 1)
    for i in range(len(models)):
        if agreement.shared_words[i][i] >= 3:
            assert agreement.rank_correlation[i][i] == pytest.approx(1.0)
        for j in range(len(models)):
            assert agreement.rank_correlation[i][j] == agreement.rank_correlation[j][i]


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
