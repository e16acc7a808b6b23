"""Which model names a web request may load (explorer/ui/model_picker.py) and what the page says about a model."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from explorer.errors import InputError, ModelLoadError
from explorer.ui import state as ui_state
from explorer.ui.model_picker import (
    WELL_KNOWN_HUB_MODELS,
    check_model_name,
    check_model_names,
    default_compare_models,
    model_choices,
    render_model_info,
    render_model_problem,
)
from explorer.ui.state import AppState


@pytest.mark.parametrize("name", [
    "bert-base-uncased", "roberta-base", "google/electra-small-generator", "answerdotai/ModernBERT-base",
    "FacebookAI/xlm-roberta-base", "a", "owner/name_with.dots-1",
])
def test_hub_ids_pass_unchanged(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no folder of that name here
    assert check_model_name(f"  {name} ") == name


@pytest.mark.parametrize("name", [
    "a/b/c", "owner//name", "-bad", "bad-", "na..me", "na--me", "name with space", "x" * 97, "owner/", "/", "..",
    "C:\\models\\bert", "bert;rm -rf", "http://evil.example/model",
])
def test_names_that_are_neither_hub_ids_nor_allowed_folders_are_refused(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError):
        check_model_name(name)


@pytest.mark.parametrize("name", ["", "   ", None])
def test_empty_names_are_refused_with_a_next_step(name):
    with pytest.raises(InputError, match="mini-bert"):
        check_model_name(name)


def test_a_bundled_alias_passes_when_installed(bundled_assets):
    assert check_model_name("mini-bert") == "mini-bert"
    assert check_model_name("mini-roberta") == "mini-roberta"


def test_a_bundled_alias_that_is_not_installed_says_so(tmp_path, monkeypatch):
    from explorer.ui.state import AppState

    monkeypatch.setenv("MLM_EXPLORER_ASSETS", str(tmp_path))
    assert check_model_name("mini-bert") == "mini-bert"  # an alias never passes as a hub id or a folder
    with pytest.raises(ModelLoadError, match="bundled model 'mini-bert' is not installed"):
        AppState.create().model("mini-bert")


def test_local_folders_are_refused_unless_the_operator_allowed_them(tmp_path):
    folder = tmp_path / "models" / "mine"
    folder.mkdir(parents=True)
    with pytest.raises(InputError, match="--allow-local"):
        check_model_name(str(folder))
    assert check_model_name(str(folder), [tmp_path / "models"]) == str(folder.resolve())
    other = tmp_path / "elsewhere"
    other.mkdir()
    with pytest.raises(InputError, match="outside the folders"):
        check_model_name(str(other), [tmp_path / "models"])


def test_dot_dot_and_symlinks_cannot_leave_an_allowed_folder(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    secret = tmp_path / "secret"
    secret.mkdir()
    with pytest.raises(InputError, match="outside"):
        check_model_name(str(allowed / ".." / "secret"), [allowed])
    (allowed / "link").symlink_to(secret, target_is_directory=True)
    with pytest.raises(InputError, match="outside"):
        check_model_name(str(allowed / "link"), [allowed])


def test_paths_outside_the_allowed_folders_do_not_reveal_whether_they_exist(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (tmp_path / "exists").mkdir()
    for name in (tmp_path / "exists", tmp_path / "missing", allowed / ".." / "missing"):
        with pytest.raises(InputError, match="outside the folders"):
            check_model_name(str(name), [allowed])


def test_a_hub_shaped_name_is_a_hub_id_even_when_a_folder_here_has_that_name(tmp_path, monkeypatch):
    # Decided by its form, never by the working directory: otherwise the answer would tell what exists here.
    (tmp_path / "owner" / "model").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert check_model_name("owner/model") == "owner/model"
    assert check_model_name("owner/model", [tmp_path]) == "owner/model"
    assert check_model_name("./owner/model", [tmp_path]) == str((tmp_path / "owner" / "model").resolve())


def test_missing_and_non_folder_paths_are_explained(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match="No folder"):
        check_model_name(str(tmp_path / "missing"), [tmp_path])
    with pytest.raises(InputError, match="not a folder"):
        check_model_name(str(tmp_path / "file.txt"), [tmp_path])


def test_the_page_never_loads_with_remote_code(monkeypatch, tmp_path):
    calls = []
    loaded = SimpleNamespace(info=SimpleNamespace(parameters=1))
    monkeypatch.setattr(ui_state, "load_model", lambda name, **kwargs: calls.append((name, kwargs)) or loaded)
    monkeypatch.chdir(tmp_path)
    assert AppState.create().model("someone/custom-model") is loaded
    assert calls == [("someone/custom-model", {"trust_remote_code": False, "kind": "hub",
                                                "max_parameters": 600_000_000})]


def test_choices_list_bundled_models_first_then_well_known_hub_models(bundled_assets):
    names = [value for _, value in model_choices()]
    assert names[:2] == ["mini-bert", "mini-roberta"]
    assert names[2:] == list(WELL_KNOWN_HUB_MODELS)
    assert default_compare_models() == ["mini-bert", "mini-roberta"]


def test_compare_needs_two_to_four_different_models():
    assert check_model_names([" a ", "b", "a", ""]) == ["a", "b"]
    for wrong in (["a"], ["a", "a"], [], None, ["a", "b", "c", "d", "e"]):
        with pytest.raises(InputError, match="2 to 4"):
            check_model_names(wrong)


def test_model_info_shows_the_facts_and_escapes_the_name(bundled_assets):
    from explorer.models import load_model

    info = load_model("mini-bert").info
    shown = render_model_info(info)
    for fact in (info.device, info.dtype, f"<b>{info.layers}</b> layers", f"<b>{info.heads}</b> heads", "parameters"):
        assert fact in shown
    from dataclasses import replace

    hostile = render_model_info(replace(info, name="<img src=x onerror=alert(1)>", bundled=False,
                                        source="<script>alert(1)</script>"))
    assert "<img" not in hostile and "<script" not in hostile
    assert "&lt;img src=x onerror=alert(1)&gt;" in hostile
    # bundled models say candidly that they are small demo models, and how to switch; others do not
    assert "small demo model" in shown and "bert-base-uncased" in shown
    assert "small demo model" not in hostile


def test_a_model_that_cannot_load_is_said_in_the_model_line():
    shown = render_model_problem("No folder '<script>alert(1)</script>' on the server; check the path.")
    assert shown.startswith("<div class='model-info'>") and "check the path" in shown
    assert "<script" not in shown and "&lt;script&gt;" in shown


def test_the_model_line_names_no_server_folder():
    """What every caller gets, the page's opening model line included (it once showed the Hub cache's path)."""
    import huggingface_hub.constants as hub_constants

    shown = render_model_problem(f"incomplete download in {hub_constants.HF_HUB_CACHE}/models--x; retry")
    assert hub_constants.HF_HUB_CACHE not in shown and "incomplete download in …/models--x" in shown


def test_allow_local_folders_are_resolved_once(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path, target_is_directory=True)
    assert AppState.create([str(link)]).allowed_dirs == (Path(os.path.realpath(tmp_path)),)
