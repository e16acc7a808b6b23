"""/layers, /ablate and /head_effects through `gradio_client` return the CLI's documents."""

from __future__ import annotations

import json

import pytest
from app_server import running_app
from gradio_client import Client
from gradio_client.exceptions import AppError

from explorer.cli import main

TWO_MASKS = "the [MASK] was cold and the [MASK] was hot."


@pytest.fixture(scope="module")
def client(bundled_assets):
    with running_app() as url:
        yield Client(url, verbose=False)


def cli_json(capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_names_are_published(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/layers", "/ablate", "/head_effects"} <= set(endpoints)
    assert [p["parameter_name"] for p in endpoints["/head_effects"]["parameters"]][:4] == \
        ["text", "model", "mask", "target"]


def test_layers_ablate_and_head_effects_are_the_cli_documents(client, capsys):
    assert client.predict(TWO_MASKS, "mini-bert", 3, api_name="/layers") == \
        cli_json(capsys, "layers", "--model", "mini-bert", "--top-k", "3", TWO_MASKS)
    assert client.predict(TWO_MASKS, "mini-bert", "1:*,0:2", "mean", api_name="/ablate") == \
        cli_json(capsys, "ablate", "--model", "mini-bert", "--heads", "0:2,1:*", "--mode", "mean", TWO_MASKS)
    assert client.predict(TWO_MASKS, "mini-bert", 1, "", api_name="/head_effects") == \
        cli_json(capsys, "ablate", "--model", "mini-bert", "--scan", "--mask", "1", TWO_MASKS)


@pytest.mark.parametrize(("args", "api_name", "message"), [
    ((TWO_MASKS, "mini-bert", "99:0", "zero"), "/ablate", "does not exist"),
    ((TWO_MASKS, "mini-bert", 5, ""), "/head_effects", "Mask 5 does not exist"),
    ((TWO_MASKS, "mini-bert", 0), "/layers", "top_k must be"),
])
def test_errors_are_readable(client, args, api_name, message):
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name=api_name)
