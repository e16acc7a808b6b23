"""`mlm-explorer layers`, `ablate` and `predict --joint`: the documents equal the core results; bad input exits 2."""

from __future__ import annotations

import json

import pytest
from tiny_models import SENTENCES

from explorer import load_model, predict_masks
from explorer.ablation import ablate_heads, head_effects
from explorer.cli import build_parser, main
from explorer.joint import fill_jointly
from explorer.layers import layer_predictions

TWO_MASKS = next(s for s in SENTENCES if s.count("[MASK]") == 2)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def bert(tiny_model_dirs):
    return str(tiny_model_dirs["bert"])


def test_layers_json(bert, capsys):
    status, out, err = run_cli(capsys, "layers", "--model", bert, "--top-k", "3", "--json", TWO_MASKS)
    assert status == 0, err
    document = json.loads(out)
    lens = layer_predictions(load_model(bert), TWO_MASKS, top_k=3)
    assert set(document) == {"model", "tokens", "layers", "masks"}
    assert document["layers"] == 2 and document["tokens"] == list(lens.tokens)
    for mask, ours in zip(document["masks"], lens.masks, strict=True):
        assert mask["position"] == ours.position
        for entry, layer in zip(mask["layers"], ours.layers, strict=True):
            assert set(entry) == {"layer", "predictions", "final_top1"}
            assert [p["token_id"] for p in entry["predictions"]] == [p.token_id for p in layer.predictions]
            assert entry["final_top1"] == {"token_id": layer.final_top1.token_id, "token": layer.final_top1.token,
                                           "rank": layer.final_top1.rank, "score": layer.final_top1.score}


def test_layers_table(bert, capsys):
    status, out, _ = run_cli(capsys, "layers", "--model", bert, TWO_MASKS)
    assert status == 0
    assert "layer  0:" in out and "layer  2:" in out and "final word rank" in out and "mask 2 · '" in out


def test_ablate_heads_json(bert, capsys):
    status, out, err = run_cli(capsys, "ablate", "--model", bert, "--heads", "0:1,1:*", "--json", TWO_MASKS)
    assert status == 0, err
    document = json.loads(out)
    assert document["ablated"] == [[0, 1], [1, 0], [1, 1]] and document["mode"] == "zero"
    expected = ablate_heads(load_model(bert), TWO_MASKS, "0:1,1:*").fill_mask
    assert [[p["token_id"] for p in m["predictions"]] for m in document["results"][0]["masks"]] == \
        [[p.token_id for p in m.predictions] for m in expected.masks]
    assert {"model", "device", "results"} <= set(document)


def test_ablate_scan_json(bert, capsys):
    status, out, err = run_cli(capsys, "ablate", "--model", bert, "--scan", "--mask", "1", "--mode", "mean",
                               "--json", TWO_MASKS)
    assert status == 0, err
    document = json.loads(out)
    effects = head_effects(load_model(bert), TWO_MASKS, mask=1, mode="mean")
    assert {"model", "tokens", "mask_position", "target", "baseline", "effects"} <= set(document)
    assert document["effects"] == [list(row) for row in effects.effects]
    assert document["mask_position"] == effects.mask_position and document["target"] == effects.target


def test_ablate_tables(bert, capsys):
    status, out, _ = run_cli(capsys, "ablate", "--model", bert, "--scan", TWO_MASKS)
    assert status == 0 and "strongest:" in out
    status, out, _ = run_cli(capsys, "ablate", "--model", bert, "--heads", "0:0", TWO_MASKS)
    assert status == 0 and "heads removed (zero): 0:0" in out


def test_predict_joint_json(bert, capsys):
    status, out, err = run_cli(capsys, "predict", "--model", bert, "--joint", "--order", "left-to-right",
                               "--beam", "3", "--json", TWO_MASKS)
    assert status == 0, err
    (result,) = json.loads(out)["results"]
    joint = fill_jointly(load_model(bert), TWO_MASKS, order="left-to-right", beam=3)
    assert result["joint"]["filled_text"] == joint.filled_text
    assert result["joint"]["log_probability"] == joint.log_probability
    assert [s["token_id"] for s in result["joint"]["steps"]] == [s.token_id for s in joint.steps]
    assert result["masks"][0]["predictions"][0]["token_id"] == predict_masks(load_model(bert), TWO_MASKS) \
        .masks[0].predictions[0].token_id
    status, out, _ = run_cli(capsys, "predict", "--model", bert, "--joint", TWO_MASKS)
    assert status == 0 and "jointly (confidence, beam 1):" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["ablate", "--heads", "5:0"], "Head 5:0 does not exist"),
    (["ablate", "--heads", "0:0", "--mode", "half"], "Unknown ablation mode"),
    (["ablate", "--scan", "--mask", "7"], "Mask 7 does not exist"),
    (["predict", "--joint", "--beam", "9"], "beam must be"),
    (["predict", "--joint", "--order", "random"], "Unknown order"),
    (["layers", "--top-k", "0"], "top_k must be"),
])
def test_bad_input_exits_2(bert, capsys, argv, message):
    status, _, err = run_cli(capsys, *argv, "--model", bert, TWO_MASKS)
    assert status == 2 and message in err


@pytest.mark.parametrize("command", ["layers", "ablate"])
def test_help_has_examples(command):
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    assert f"mlm-explorer {command} " in sub.format_help() and "examples:" in sub.format_help()
