"""The limits of one request (explorer/limits.py): defaults, environment and flags, types, sizes, characters."""

from __future__ import annotations

import argparse

import pytest

from explorer.errors import InputError
from explorer.limits import CLI_LIMITS, ENVIRONMENT, ROLES, Limits, check_characters, to_whole_number
from explorer.ui.options import add_serve_arguments, read_serve_options


def test_documented_defaults():
    limits = Limits()
    assert (limits.max_chars, limits.max_masks, limits.max_top_k, limits.max_steps, limits.max_model_params) == \
        (5_000, 8, 100, 1_000, 600_000_000)
    assert CLI_LIMITS.max_steps == 4_000


def test_environment_then_flags():
    env = {ENVIRONMENT["max_chars"]: "300", ENVIRONMENT["max_top_k"]: "1_000"}
    limits = Limits.from_env(env, max_chars=None, max_steps=20)
    assert (limits.max_chars, limits.max_top_k, limits.max_steps) == (300, 1000, 20)
    with pytest.raises(InputError, match="MLM_EXPLORER_MAX_CHARS must be a whole number"):
        Limits.from_env({ENVIRONMENT["max_chars"]: "lots"})
    with pytest.raises(InputError, match="at least 1"):
        Limits.from_env({}, max_steps=0)


def test_serve_flags_build_the_limits_and_the_model_policy(monkeypatch):
    monkeypatch.delenv("MLM_EXPLORER_REQUEST_TIMEOUT", raising=False)
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    options = read_serve_options(parser.parse_args(
        ["--max-chars", "100", "--models", "mini-bert, mini-roberta", "--no-hub", "--request-timeout", "5",
         "--max-queue", "3", "--log-format", "json"]))
    assert options.limits.max_chars == 100 and options.models == ("mini-bert", "mini-roberta")
    assert options.model == "mini-bert" and options.hub is False
    assert (options.request_timeout, options.max_queue, options.log_format) == (5, 3, "json")
    with pytest.raises(InputError, match="not in --models"):
        read_serve_options(parser.parse_args(["--models", "mini-bert", "--model", "bert-base-uncased"]))
    assert read_serve_options(parser.parse_args(["--request-timeout", "0"])).request_timeout is None


def test_one_call_checks_every_role_and_the_answer_size():
    limits = Limits()
    args = limits.check_request(text="a [MASK].", model="mini-bert", top_k=5.0, steps=16, target=" capital ")
    assert args == {"text": "a [MASK].", "model": "mini-bert", "top_k": 5, "steps": 16, "target": "capital"}
    with pytest.raises(InputError, match="4,800 predictions"):
        Limits(max_predictions=4_000, max_top_k=1_000).check_request(text="[MASK] " * 8, top_k=600)
    with pytest.raises(TypeError, match="unknown request role"):
        limits.check_request(colour="red")
    assert {"text", "texts", "model", "models", "top_k", "steps", "items"} <= set(ROLES)


@pytest.mark.parametrize(("value", "message"), [
    (None, "must be a whole number from 1 to 100 here, not NoneType None"), (True, "not bool True"),
    ("5", "not str '5'"), (2.5, "not float 2.5"), ([5], "not list [5]"), (0, "not int 0"), (101, "not int 101"),
])
def test_wrong_types_read_like_wrong_values(value, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        Limits().check_top_k(value)


def test_items_are_bounded():
    with pytest.raises(InputError, match="at most 64"):
        Limits().check_items(["a"] * 65)
    with pytest.raises(InputError, match="must be a list"):
        Limits().check_items("a, b")
    assert Limits().check_texts(["a [MASK]", "b [MASK]"]) == ["a [MASK]", "b [MASK]"]


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800"])
def test_control_characters_and_lone_surrogates_are_refused_with_their_position(char):
    with pytest.raises(InputError, match=f"U\\+{ord(char):04X} at position 2"):
        check_characters("ab" + char + "c")


@pytest.mark.parametrize("text", ["tab\tand\nlines\r\n", "שלום [MASK]", "e\u0301", "\U0001F469\u200d\U0001F4BB",
                                  "日本語", "\u200f\u202e"])
def test_tabs_line_breaks_rtl_marks_emoji_and_cjk_pass(text):
    check_characters(text)


def test_a_text_at_the_limit_passes_and_one_more_character_does_not():
    limits = Limits(max_chars=10)
    assert limits.check_text("a" * 10) == "a" * 10
    with pytest.raises(InputError, match="11 characters long; this server reads at most 10"):
        limits.check_text("a" * 11)


def test_whole_numbers_accept_json_floats():
    assert to_whole_number(5.0, "n", 1, 10) == 5
