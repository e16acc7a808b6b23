"""`mlm-explorer predict` and `models`: JSON equal to the pipeline, readable tables, exit statuses."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_fill_mask import ONE_MASK, TWO_MASKS, as_model_text, reference
from tiny_models import SINGLE_PIECE_WORD

from explorer.cli import main

REPO = Path(__file__).resolve().parent.parent


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_predict_json_matches_pipeline(tiny_model_dir, capsys):
    status, out, err = run_cli(capsys, "predict", "--model", str(tiny_model_dir), "--top-k", "6", "--json",
                               ONE_MASK[1], TWO_MASKS[0])
    assert status == 0, err
    document = json.loads(out)
    assert document["model"] == str(tiny_model_dir)
    assert document["device"] == "cpu"
    assert [r["text"] for r in document["results"]] == [ONE_MASK[1], TWO_MASKS[0]]
    pipe = reference(str(tiny_model_dir))
    mask_token = pipe.tokenizer.mask_token
    for result in document["results"]:
        expected = pipe(as_model_text(result["text"], mask_token), top_k=6)
        expected = [expected] if isinstance(expected[0], dict) else expected
        assert len(result["masks"]) == len(expected)
        for mask, theirs in zip(result["masks"], expected, strict=True):
            assert result["tokens"][mask["position"]] == mask_token
            assert [p["token_id"] for p in mask["predictions"]] == [r["token"] for r in theirs]
            assert [p["token"] for p in mask["predictions"]] == [r["token_str"] for r in theirs]
            for p, r in zip(mask["predictions"], theirs, strict=True):
                assert p["score"] == pytest.approx(r["score"], abs=1e-4)
                assert set(p) == {"token_id", "token", "score"}
        assert set(result) == {"text", "tokens", "masks"}


def test_predict_json_targets(tiny_model_dirs, capsys):
    status, out, _ = run_cli(capsys, "predict", "--model", str(tiny_model_dirs["bert"]), "--json",
                             "--targets", f"{SINGLE_PIECE_WORD},sunflower", ONE_MASK[0])
    assert status == 0
    single, multi = json.loads(out)["results"][0]["masks"][0]["targets"]
    assert single["word"] == SINGLE_PIECE_WORD and single["single_token"]
    assert single["probability"] == single["first_piece_probability"]
    assert len(multi["pieces"]) > 1 and multi["method"] == "chain-rule-l2r"
    assert len(multi["piece_log_probabilities"]) == len(multi["pieces"])
    assert multi["log_probability"] == pytest.approx(sum(multi["piece_log_probabilities"]))
    assert multi["probability"] == pytest.approx(math.exp(multi["log_probability"]))
    assert single["method"] == "single-piece" and single["piece_log_probabilities"] == [single["log_probability"]]


def test_predict_table_is_readable(tiny_model_dirs, capsys):
    status, out, _ = run_cli(capsys, "predict", "--model", str(tiny_model_dirs["bert"]), "--top-k", "3",
                             "--targets", "sunflower", TWO_MASKS[0])
    assert status == 0
    assert "mask 1 · 'the [MASK] was':" in out and "mask 2 · 'the [MASK] was':" in out
    assert "each mask predicted independently" in out
    assert re.search(r"\d+\.\d+%", out), "probabilities read as percentages"
    assert "chain rule left to right" in out and "filled:" in out
    assert out.count("   1. ") == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["the cat sat."], "No [MASK] in the text"),
        (["--top-k", "0", "the [MASK] sat."], "--top-k must be at least 1"),
        ([""], "The text is empty"),
    ],
)
def test_bad_input_exits_2_without_traceback(tiny_model_dirs, capsys, argv, message):
    status, out, err = run_cli(capsys, "predict", "--model", str(tiny_model_dirs["bert"]), *argv)
    assert status == 2
    assert message in err and "Traceback" not in err
    assert out == ""


def test_text_and_options_are_checked_before_any_model_loads(capsys, tmp_path):
    missing = str(tmp_path / "missing") + "/"
    for argv, message in ((["predict", "no mask here"], "No [MASK]"), (["predict", "--top-k", "0", "a [MASK]."],
                          "--top-k"), (["attribute", "--mask", "1", "a [MASK]."], "the text has 1 mask"),
                          (["attention", "  "], "The text is empty"), (["compare", "--model", missing, "--model",
                          missing + "x", "no mask"], "No [MASK]")):
        status, _, err = run_cli(capsys, *argv[:1], "--model", missing, *argv[1:]) if argv[0] != "compare" \
            else run_cli(capsys, *argv)
        assert status == 2 and message in err, (argv, err)
        assert "No model folder" not in err


def test_every_command_shows_examples_in_its_help(capsys):
    from explorer.cli import COMMANDS, EXAMPLES

    assert set(EXAMPLES) == set(COMMANDS)  # one table of examples, an entry for every command
    for command in COMMANDS:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert out.count("examples:") == 1, command
        examples = out.split("examples:")[1]
        assert 2 <= examples.count(f"mlm-explorer {command}") <= 3, command
        # exactly the table's lines, unwrapped: no command sets an epilog of its own
        assert [line.strip() for line in examples.strip().splitlines()] == list(EXAMPLES[command]), command


def test_the_startup_message_names_the_share_flag():
    from explorer.ui.options import startup_message

    message = startup_message("http://127.0.0.1:7860/", None)
    assert "http://127.0.0.1:7860/" in message and "--share" in message and "launch()" not in message
    assert "https://x.gradio.live" in startup_message("http://127.0.0.1:7860/", "https://x.gradio.live")


def test_unloadable_model_exits_1(capsys, tmp_path):
    status, _, err = run_cli(capsys, "predict", "--model", str(tmp_path / "missing") + "/", "the [MASK].")
    assert status == 1
    assert "No model folder" in err and "Traceback" not in err


def test_console_script_exit_status_and_debug(tiny_model_dirs):
    script = shutil.which("mlm-explorer", path=str(Path(sys.executable).parent))
    assert script, "the console script is installed with the package"
    base = [script, "predict", "--model", str(tiny_model_dirs["bert"])]
    done = subprocess.run([*base, "no mask here"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "No [MASK]" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([*base, "--debug", "no mask here"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" in done.stderr
    done = subprocess.run([*base, "--json", "the [MASK] sat."], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout)["results"][0]["masks"]


def test_models_json_lists_bundled_first_then_cached(tiny_model_dirs, tmp_path):
    assets = tmp_path / "assets"
    shutil.copytree(tiny_model_dirs["bert"], assets / "models" / "mini-bert")
    shutil.copytree(tiny_model_dirs["roberta"], assets / "models" / "mini-roberta")
    hub = tmp_path / "hf" / "hub" / "models--tiny-org--tiny-albert"
    shutil.copytree(tiny_model_dirs["albert"], hub / "snapshots" / "abc")
    (hub / "refs").mkdir()
    (hub / "refs" / "main").write_text("abc")
    env = {**os.environ, "MLM_EXPLORER_ASSETS": str(assets), "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "explorer", "models", "--json"], capture_output=True, text=True,
                          env=env, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    models = json.loads(done.stdout)["models"]
    assert [(m["name"], m["bundled"], m["architecture"]) for m in models] == [
        ("mini-bert", True, "BertForMaskedLM"),
        ("mini-roberta", True, "RobertaForMaskedLM"),
        ("tiny-org/tiny-albert", False, "AlbertForMaskedLM"),
    ]
    assert models[0]["path"] == str(assets / "models" / "mini-bert")
    for m in models:
        assert m["parameters"] > 0 and m["description"]
    done = subprocess.run([sys.executable, "-m", "explorer", "predict", "--json", "the [MASK] sat."],
                          capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["model"] == "mini-bert", "the default model is bundled model 1"
