"""Serving the public (issue 11): each reproduced defect, through the API as a hostile user sends it, and the
server's rules (limits, who may load what, disk, time, busy queue, one log line per request)."""

from __future__ import annotations

import html
import json
import logging
import socket
import threading
import time
import urllib.request
from pathlib import Path

import gradio as gr
import pytest
from app_server import running_app
from gradio_client import Client
from gradio_client.exceptions import AppError

from explorer.cli import main
from explorer.errors import InputError, ModelLoadError
from explorer.limits import Limits
from explorer.ui.errors import shows_errors

TEXT = "the cat sat on the [MASK]."
HOSTILE = "<img src=http://127.0.0.2:9/t.png>"


@pytest.fixture(scope="module")
def offline():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def local_root(tiny_model_dirs):
    return tiny_model_dirs["distilbert"].parent


@pytest.fixture(scope="module")
def client(bundled_assets, offline, local_root):
    with running_app(allow_local=[local_root]) as url:
        yield Client(url, verbose=False)


def refused(client: Client, api_name: str, *args: object) -> str:
    """The message of a refused API call (it must be refused, and never with a traceback)."""
    with pytest.raises(AppError) as raised:
        client.predict(*args, api_name=api_name)
    message = str(raised.value)
    assert "Traceback" not in message
    return message


# 1. HTML in error pop-ups


def test_error_messages_are_escaped_in_the_one_place():
    @shows_errors
    def handler(name: str) -> None:
        raise InputError(f"No model {name!r}")

    with pytest.raises(gr.Error) as raised:
        handler(HOSTILE)
    assert "<img" not in raised.value.message and "&lt;img src=" in raised.value.message


@pytest.mark.parametrize(("api_name", "args"), [
    ("/predict", (TEXT, HOSTILE, 5)),
    ("/compare", (TEXT, ["mini-bert", '<a href="http://127.0.0.2/">Session expired, log in</a>'], 5)),
    ("/attribute", (TEXT, "mini-bert", 0, "<b>bold</b>", 4)),
    ("/attribute", (TEXT, "mini-bert", 0, "", 4, "<i>x</i>")),
])
def test_hostile_names_and_words_come_back_as_text(client, api_name, args):
    message = refused(client, api_name, *args)
    assert "<" not in message.replace("<mask>", "") and "&lt;" in message


# 2. and 3. Size limits before tokenising; top_k bounded


def test_a_long_text_is_refused_before_any_model_work(client):
    # The model named is not loadable: the text's size is what the answer is about, so it was checked first.
    message = refused(client, "/predict", "a [MASK] " * 1200, "nobody/never-loaded", 5)
    assert "10,800 characters" in message and "at most 5,000" in message


def test_top_k_is_bounded_for_the_web(client):
    assert "from 1 to 100" in refused(client, "/predict", TEXT, "mini-bert", 101)
    assert "from 1 to 100" in refused(client, "/compare", TEXT, ["mini-bert", "mini-roberta"], 30_522)
    result = client.predict(TEXT, "mini-bert", 100, api_name="/predict")
    assert len(result["results"][0]["masks"][0]["predictions"]) == 100


def test_masks_per_text_are_bounded(client):
    assert "at most 8" in refused(client, "/predict", "[MASK] " * 9, "mini-bert", 5)


# 4. Attention answers bounded; the CLI writes large arrays only with --out


LONG = "word " * 300 + "[MASK]."


def test_a_large_attention_answer_is_refused_with_the_cli_to_use(client):
    message = refused(client, "/attention", LONG, "mini-bert")
    assert "limit of 4,000,000" in message and "--out FILE.npz" in message


def test_the_cli_writes_a_large_attention_only_to_an_npz_file(bundled_assets, tmp_path, capsys):
    assert main(["attention", "--json", LONG]) == 2
    assert "--out FILE.npz" in capsys.readouterr().err
    assert main(["attention", "--out", str(tmp_path / "a.npz"), LONG]) == 0
    assert (tmp_path / "a.npz").stat().st_size > 0


# 5. No file-existence oracle; no server paths in messages


def test_a_name_is_judged_by_its_form_never_by_the_working_directory(client):
    # app.py, README.md and explorer/ui exist in the working directory (the repository); the others do not.
    assert Path("app.py").exists() and Path("explorer/ui").is_dir()
    answers = {}
    for name in ("app.py", "README.md", "explorer/ui", "app2.py", "explorer/none"):
        message = refused(client, "/predict", TEXT, name, 5)
        answers[name] = message.replace(html.escape(repr(name)), "NAME").replace(name, "NAME")
    assert len(set(answers.values())) == 1, answers
    assert "on the server" not in answers["explorer/ui"]


def test_messages_never_name_server_folders(client, local_root, tmp_path):
    import huggingface_hub.constants as hub_constants

    outside = refused(client, "/predict", TEXT, str(tmp_path), 5)
    hub = refused(client, "/predict", TEXT, "nobody/never-cached", 5)
    for message in (outside, hub):
        assert str(local_root) not in message and hub_constants.HF_HUB_CACHE not in message
        assert str(Path.home()) + "/" not in message.replace(str(tmp_path), "")


# 6. A hanging Hub fails one request within its deadlines


@pytest.fixture
def silent_hub(monkeypatch):
    """A Hub endpoint on 127.0.0.1 that accepts connections and never answers."""
    import huggingface_hub.constants as hub_constants

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    threading.Thread(target=lambda: [held.append(server.accept()) for _ in iter(int, 1)], daemon=True).start()
    monkeypatch.setattr(hub_constants, "ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("MLM_EXPLORER_HUB_TIMEOUT", "2")
    yield
    server.close()


def test_a_hub_that_never_answers_fails_the_request_quickly(silent_hub):
    from explorer.models import load_model

    outcome: list[BaseException] = []

    def load() -> None:
        try:
            load_model("nobody/never-cached-model", cache=False, kind="hub")
        except BaseException as error:  # noqa: BLE001 - the test inspects it
            outcome.append(error)

    started = time.monotonic()
    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "load_model was still waiting for the Hub after 30 s"
    assert isinstance(outcome[0], ModelLoadError) and "could not be reached" in str(outcome[0])
    assert time.monotonic() - started < 15


# 7. Wrong types: the same kind of message as wrong values, in every API name


@pytest.mark.parametrize(("api_name", "args", "message"), [
    ("/predict", (123, "mini-bert", 5), "text must be a string, not int"),
    ("/predict", (["a", "[MASK]"], "mini-bert", 5), "text must be a string, not list"),
    ("/predict", (TEXT, None, 5), "model must be a string, not NoneType"),
    ("/predict", (TEXT, "mini-bert", "5"), "top_k must be a whole number from 1 to 100 here, not str"),
    ("/predict", (TEXT, "mini-bert", 2.5), "top_k must be a whole number"),
    ("/attention", (TEXT, "mini-bert", "yes"), "rollout must be true or false, not str"),
    ("/attribute", (TEXT, "mini-bert", 0, None, 8), "target must be a string, not NoneType"),
    ("/attribute", (TEXT, "mini-bert", [0], "", 8), "mask must be a whole number"),
    ("/attribute", (TEXT, "mini-bert", 0, "", {"n": 1}), "steps must be a whole number"),
    ("/attribute", (TEXT, "mini-bert", 0, "", 8, 7), "contrast must be a string, not int"),
    ("/attribute", (TEXT, "mini-bert", 0, "", 8, "", None), "method must be a string, not NoneType"),
    ("/compare", (TEXT, [1, 2], 5), "models must be a list of strings"),
    ("/compare", (TEXT, {"a": 1}, 5), "models must be a list of strings"),
])
def test_wrong_types_are_refused_like_wrong_values(client, api_name, args, message):
    assert message in refused(client, api_name, *args)


# 8. Words that would become [UNK]


def test_attribution_words_outside_the_vocabulary_are_refused(client):
    assert "vocabulary" in refused(client, "/attribute", TEXT, "mini-bert", 0, "\U0001F355", 4)
    assert "vocabulary" in refused(client, "/attribute", TEXT, "mini-bert", 0, "", 4, "\U0001F355")
    assert "at most 100 characters" in refused(client, "/attribute", TEXT, "mini-bert", 0, "x" * 100_000, 4)


# 9. Disk: no uploads, Gradio's cache pruned, downloads written once and removed at exit


def test_uploads_are_refused(client):
    boundary = "explorer-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.bin\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + b"x" * 2_000_000 + \
        f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(client.src + "gradio_api/upload", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=30)
    assert raised.value.code in (400, 413)


def test_downloads_live_in_gradios_pruned_cache_once_and_go_at_exit():
    from gradio.utils import get_upload_folder

    from explorer.ui import export
    from explorer.ui.app import build_demo
    from explorer.ui.options import DELETE_CACHE

    assert build_demo().delete_cache == DELETE_CACHE
    path = Path(export.write_json_file({"a": 1}, "predict"))
    assert path.is_relative_to(Path(get_upload_folder()))  # Gradio serves it from there without copying it
    export.remove_exports()
    assert not path.exists() and not path.parent.parent.exists()


# 10. Huge integration steps


def test_huge_steps_are_refused_by_the_cli_before_any_work(bundled_assets, capsys):
    started = time.monotonic()
    assert main(["attribute", "--steps", "10000000", TEXT]) == 2
    assert "steps must be a whole number from 1 to 4000" in capsys.readouterr().err
    assert time.monotonic() - started < 30


def test_the_web_bounds_steps(client):
    assert "from 1 to 1000" in refused(client, "/attribute", TEXT, "mini-bert", 0, "", 1001)


# Who may load what


def test_only_the_listed_models_can_be_picked(bundled_assets, offline):
    with running_app(models=("mini-bert",), hub=False) as url:
        listed = Client(url, verbose=False)
        assert listed.predict(TEXT, "mini-bert", 3, api_name="/predict")["model"] == "mini-bert"
        assert "not offered on this server" in refused(listed, "/predict", TEXT, "mini-roberta", 3)
        assert "not offered" in refused(listed, "/predict", TEXT, "bert-base-uncased", 3)
    from explorer.ui.model_picker import model_choices

    assert model_choices(("mini-bert",)) == [("mini-bert (bundled)", "mini-bert")]
    assert all("Hub" not in label for label, _ in model_choices(hub=False))


def test_no_hub_refuses_hub_ids(bundled_assets, offline):
    from explorer.ui.state import AppState

    with pytest.raises(InputError, match="loads no Hub models"):
        AppState.create(hub=False).model("bert-base-uncased")


def test_models_over_the_parameter_bound_are_refused_from_their_config(bundled_assets, monkeypatch):
    from explorer.ui.state import AppState

    state = AppState.create(limits=Limits(max_model_params=1_000_000))
    with pytest.raises(InputError, match="parameters; this server loads models of at most 1M"):
        state.model("mini-roberta")
    # Before any weight is read: the count comes from the config alone.
    from explorer import models
    from explorer.models import load_model

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("weights were read")

    monkeypatch.setattr(models.AutoModelForMaskedLM, "from_pretrained", never)
    with pytest.raises(InputError, match="at most 1M"):
        load_model("mini-roberta", cache=False, max_parameters=1_000_000)


# Time: busy queue, request deadline


def test_a_request_past_its_deadline_is_stopped_and_frees_its_worker(bundled_assets, offline):
    with running_app(request_timeout=0.5, concurrency=1) as url:
        slow = Client(url, verbose=False)
        message = refused(slow, "/attribute", "the [MASK] sat on the mat and the dog sat on the rug.",
                          "mini-bert", 0, "", 1000)
        assert "longer than this server allows (0.5 s)" in message
        assert slow.predict(TEXT, "mini-bert", 2, api_name="/predict")["model"] == "mini-bert"


# Observability


def test_one_log_line_per_request_without_the_text(client, caplog):
    secret = "my secret sentence about [MASK]."
    with caplog.at_level(logging.INFO, logger="explorer.requests"):
        client.predict(secret, "mini-bert", 3, api_name="/predict")
        refused(client, "/predict", "no mask", "mini-bert", 3)
    lines = [r for r in caplog.records if r.name == "explorer.requests"]
    assert [r.request["outcome"] for r in lines] == ["ok", "input_error"]
    first = lines[0].request
    assert first["endpoint"] == "/predict" and first["model"] == "mini-bert"
    assert first["chars"] == len(secret) and first["masks"] == 1 and first["top_k"] == 3
    assert all("secret" not in r.getMessage() and r.exc_info is None for r in lines)


def test_a_scoring_request_logs_its_item_count_not_its_sentences():
    from explorer.ui.request_log import request_fields

    def score(texts: list[str], model: str = "mini-bert", metric: str = "pll") -> dict: ...

    def pairs(pairs: list[list[str]], model: str = "mini-bert", metric: str = "pll") -> dict: ...

    assert request_fields(score, (["a secret.", "b secret."],), {"model": "m"}) == {"items": 2, "model": "m"}
    assert request_fields(pairs, ([["x", "y"]] * 3, "m"), {}) == {"items": 3, "model": "m"}
    assert request_fields(score, (None,), {}) == {}  # a wrong type is refused later; no size to log


def test_json_log_lines():
    from explorer.ui.request_log import JsonFormatter

    record = logging.LogRecord("explorer.requests", logging.INFO, "", 0, "x", None, None)
    record.request = {"endpoint": "/predict", "seconds": 0.1, "outcome": "ok"}
    assert json.loads(JsonFormatter().format(record))["endpoint"] == "/predict"


def test_past_the_queue_bound_a_request_is_refused_at_once(bundled_assets, offline):
    from concurrent.futures import ThreadPoolExecutor

    with running_app(concurrency=1, max_queue=1, request_timeout=4) as url:
        clients = [Client(url, verbose=False) for _ in range(4)]

        def slow(number: int) -> str:
            try:
                clients[number].predict(f"the [MASK] sat on mat number {number}.", "mini-bert", 0, "", 1000,
                                        api_name="/attribute")
                return "answered"
            except Exception as error:  # what the client was told
                return str(error)

        with ThreadPoolExecutor(4) as pool:
            told = list(pool.map(slow, range(4)))
    assert any("Queue is full! Please try again." in t for t in told), told
    assert all(t == "answered" or "Queue is full" in t or "longer than this server allows" in t for t in told)
