"""The web app's API through `gradio_client`: /predict, /attention, /attribute and /compare return the same JSON
documents as the CLI's --json for the same command, and refuse what a request may not do."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from app_server import running_app
from gradio_client import Client
from gradio_client.exceptions import AppError

from explorer.cli import main
from explorer.compare import compare_models
from explorer.documents import compare_document, predict_document
from explorer.fill_mask import predict_masks
from explorer.models import load_model

TEXT = "the cat sat on the [MASK]."
TWO_MASKS = "the [MASK] was cold and the [MASK] was hot."


@pytest.fixture(scope="module")
def local_root(tiny_model_dirs):
    """A folder the operator allows, holding one tiny model."""
    return tiny_model_dirs["distilbert"].parent


@pytest.fixture(scope="module")
def client(bundled_assets, local_root):
    with running_app(allow_local=[local_root]) as url:
        yield Client(url, verbose=False)


def cli_json(capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_four_names_are_published(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/predict", "/attention", "/attribute", "/compare"} <= set(endpoints)
    parameters = [p["parameter_name"] for p in endpoints["/attribute"]["parameters"]]
    assert parameters[:5] == ["text", "model", "mask", "target", "steps"]


@pytest.mark.parametrize("model", ["mini-bert", "mini-roberta"])
def test_predict_is_the_cli_document(client, capsys, model):
    result = client.predict(TWO_MASKS, model, 7, api_name="/predict")
    assert isinstance(result, dict)
    assert result == cli_json(capsys, "predict", "--model", model, "--top-k", "7", TWO_MASKS)
    loaded = load_model(model)
    assert result == json.loads(json.dumps(predict_document(loaded.info, [predict_masks(loaded, TWO_MASKS, 7)])))


def test_predict_defaults_to_the_bundled_model_and_top_5(client):
    result = client.predict(TEXT, api_name="/predict")
    assert result["model"] == "mini-bert" and len(result["results"][0]["masks"][0]["predictions"]) == 5


def test_attention_is_the_cli_document(client, capsys):
    result = client.predict(TEXT, "mini-roberta", api_name="/attention")
    assert result == cli_json(capsys, "attention", "--model", "mini-roberta", TEXT)
    with_rollout = client.predict(TEXT, "mini-roberta", True, api_name="/attention")
    assert with_rollout == cli_json(capsys, "attention", "--model", "mini-roberta", "--rollout", TEXT)
    layers, heads, n = result["layers"], result["heads"], len(result["tokens"])
    assert len(result["attention"]) == layers and len(result["attention"][0]) == heads
    assert all(sum(row) == pytest.approx(1.0, abs=1e-5) for row in result["attention"][-1][-1])
    assert len(with_rollout["rollout"]) == n


def test_attribute_is_the_cli_document(client, capsys):
    result = client.predict(TWO_MASKS, "mini-bert", 1, "", 32, api_name="/attribute")
    expected = cli_json(capsys, "attribute", "--model", "mini-bert", "--mask", "1", "--steps", "32", TWO_MASKS)
    assert_same_attribution(result, expected)
    assert result["mask_position"] == predict_masks(load_model("mini-bert"), TWO_MASKS).masks[1].position
    # Completeness, the independent check of integrated gradients: the scores add up to f(x) - f(x'), missing it
    # by Captum's convergence delta (sum - (f(x) - f(x'))), which 32 steps leave small but not zero (16 steps left
    # 21 % of the change on this sentence with the issue-13 model, 32 steps 1.4 %)
    change = result["score_input"] - result["score_baseline"]
    assert sum(result["attributions"]) == pytest.approx(change + result["delta"], abs=1e-6)
    assert abs(result["delta"]) <= 0.05 * abs(change)


def test_attribute_with_target_contrast_and_method(client, capsys):
    result = client.predict(TEXT, "mini-roberta", 0, "cat", 8, "dog", "grad-x-input", api_name="/attribute")
    expected = cli_json(capsys, "attribute", "--model", "mini-roberta", "--target", "cat", "--contrast", "dog",
                        "--method", "grad-x-input", "--steps", "8", TEXT)
    assert_same_attribution(result, expected)
    assert result["target"]["token"].strip() == "cat" and result["contrast"]["token"].strip() == "dog"
    assert result["attributed"] == "logit_difference" and result["delta"] is None


def assert_same_attribution(result: dict, expected: dict) -> None:
    numbers = ("attributions", "score_input", "score_baseline", "delta")
    assert {k: v for k, v in result.items() if k not in numbers} == \
        {k: v for k, v in expected.items() if k not in numbers}
    assert result["attributions"] == pytest.approx(expected["attributions"], rel=1e-5, abs=1e-9)
    for key in ("score_input", "score_baseline"):
        assert result[key] == pytest.approx(expected[key], rel=1e-6)


def test_compare_is_the_cli_document(client, capsys):
    result = client.predict(TWO_MASKS, ["mini-bert", "mini-roberta"], 4, api_name="/compare")
    assert result == cli_json(capsys, "compare", "--model", "mini-bert", "--model", "mini-roberta", "--top-k", "4",
                              TWO_MASKS)
    models = [load_model("mini-bert"), load_model("mini-roberta")]
    assert result == json.loads(json.dumps(compare_document(compare_models(models, TWO_MASKS, top_k=4))))
    assert result["models"] == ["mini-bert", "mini-roberta"] and len(result["agreement"]["masks"]) == 2


@pytest.mark.parametrize(("args", "api_name", "message"), [
    (("no mask here", "mini-bert", 5), "/predict", "No [MASK]"),
    ((TEXT, "mini-bert", 0), "/predict", "top_k must be"),
    ((TEXT, "/etc"), "/attention", "outside the folders"),
    ((TEXT, "../../etc"), "/attention", "outside the folders"),
    ((TEXT, "mini-bert", 3, "", 8), "/attribute", "mask must be 0"),
    ((TEXT, ["mini-bert"], 5), "/compare", "2 to 4"),
    ((TEXT, "a/b/c", 5), "/predict", "not a model name"),
])
def test_errors_are_readable_messages(client, args, api_name, message):
    with pytest.raises(AppError) as raised:
        client.predict(*args, api_name=api_name)
    assert message in str(raised.value)
    assert "Traceback" not in str(raised.value)


def test_allowed_local_folders_load_and_others_do_not(client, local_root, tiny_model_dirs, tmp_path):
    folder = str(tiny_model_dirs["distilbert"])
    result = client.predict(TEXT, folder, 3, api_name="/predict")
    assert result["model"] == str(tiny_model_dirs["distilbert"].resolve())
    outside = tmp_path / "model"
    outside.mkdir()
    with pytest.raises(AppError, match="outside the folders"):
        client.predict(TEXT, str(outside), 3, api_name="/predict")


def test_the_app_keeps_serving_several_users_at_once(client):
    texts = [TEXT, TWO_MASKS, "paris is the [MASK] of france.", "she went to the [MASK] to buy some bread."]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda t: client.predict(t, "mini-roberta", 3, api_name="/predict"), texts * 2))
    model = load_model("mini-roberta")
    for text, result in zip(texts * 2, results, strict=True):
        assert result["results"][0] == json.loads(json.dumps(
            predict_document(model.info, [predict_masks(model, text, 3)])))["results"][0]
