"""The Score tab in a real browser, the /score and /pairs API, and the score figures."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from app_server import CHROMIUM, CHROMIUM_ARGS, running_app
from gradio_client import Client

from explorer.cli import main
from explorer.figures.scoring import plot_token_scores, pooled_mean, render_score_table
from explorer.models import load_model
from explorer.scoring import differing_positions, score_pairs, score_sentences
from explorer.ui.score_tab import DEFAULT_SENTENCES

PAIR = DEFAULT_SENTENCES.splitlines()


@pytest.fixture(scope="module")
def app_url(bundled_assets):
    with running_app() as url:
        yield url


def cli_json(capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_score_and_pairs_api_are_the_cli_documents(app_url, capsys, tmp_path):
    client = Client(app_url, verbose=False)
    scored = client.predict(PAIR, "mini-bert", "pll-word-l2r", api_name="/score")
    assert scored == cli_json(capsys, "score", "--model", "mini-bert", "--metric", "pll-word-l2r", *PAIR)
    source = tmp_path / "pair.tsv"
    source.write_text("\t".join([*PAIR, "gender"]) + "\n")
    paired = client.predict([[*PAIR, "gender"]], "mini-bert", "crows", api_name="/pairs")
    assert paired == cli_json(capsys, "pairs", "--model", "mini-bert", "--metric", "crows", "--input", str(source))
    with pytest.raises(Exception, match="Unknown metric"):
        client.predict(PAIR, "mini-bert", "bleu", api_name="/score")


def test_figures_mark_the_differing_tokens_and_diverge_around_the_mean(bundled_assets):
    model = load_model("mini-bert")
    first, second = score_sentences(model, PAIR)
    _, differs = differing_positions(first, second)
    assert [second.tokens[i] for i in differs] == ["she"]
    figure = plot_token_scores([first, second], [(), differs])
    center = pooled_mean([first, second])
    bars = figure.data[1].y
    assert bars[differs[0]] == pytest.approx(second.scores[differs[0]] - center)
    assert bars[0] is None and "<b>she</b>" in figure.layout.xaxis2.ticktext
    values = [v for s in (first, second) for v in s.scores if v is not None]
    assert center == pytest.approx(math.fsum(values) / len(values))
    table = render_score_table([first, second], [(), differs])
    assert table.count("class='chip differs'") == 1 and f"{second.total - first.total:+.3f}" in table


@pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"), reason=f"{CHROMIUM} is missing")
def test_the_score_tab_in_a_browser(app_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    model = load_model("mini-bert")
    expected = score_pairs(model, [tuple(PAIR)], "crows").pairs[0]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
            page.set_default_timeout(90_000)
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(app_url)
            page.get_by_role("tab", name="Score").click()
            assert page.input_value("#score-sentences textarea") == DEFAULT_SENTENCES
            page.click("#score-metric input")
            page.get_by_role("option", name="crows: only the tokens two sentences share (CrowS-Pairs, Nangia "
                                               "et al. 2020)").click()
            page.click("#score-button")
            page.wait_for_selector("#score-plot .barlayer .point path", state="attached")
            table = page.inner_text("#score-table")
            assert f"{expected.first.total:.3f}" in table and f"{expected.second.total:.3f}" in table
            assert f"{expected.second.total - expected.first.total:+.3f}" in table
            assert {"first": "prefers sentence 1", "second": "prefers sentence 2", "tie": "A tie"}[
                expected.prefers] in table
            assert page.locator("#score-table .chip.differs").all_inner_texts() == ["he", "she"]
            scored = sum(s is not None for s in (*expected.first.scores, *expected.second.scores))
            drawn = page.eval_on_selector_all("#score-plot .barlayer .point path",
                                              "paths => paths.filter(p => p.getBBox().height > 0).length")
            assert drawn == scored  # no bar for special tokens and, with crows, for the words that differ
            with page.expect_download() as download:
                page.click("#score-download")
            document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
            assert document["metric"] == "crows" and document["pairs"][0]["prefers"] == expected.prefers
            assert "view=score" in page.get_attribute("#score-share a.result-link", "href")
            page.fill("#score-sentences textarea", PAIR[0])  # one sentence: said in place, the result cleared
            page.click("#score-button")
            page.wait_for_selector("#score-message .result-error", state="attached")
            assert "two or more sentences" in page.inner_text("#score-message")
            assert page.inner_text("#score-table").strip() == ""
            outside = [u for u in requests if urlparse(u).scheme not in ("data", "blob", "about")
                       and urlparse(u).hostname != "127.0.0.1"]
            assert outside == []
        finally:
            browser.close()


def test_a_request_may_not_score_more_than_the_limit_and_is_refused_before_loading():
    from explorer import InputError
    from explorer.ui.score_tab import MAX_REQUEST_SENTENCES, pairs_request, score_request
    from explorer.ui.state import AppState

    state = AppState.create()
    too_many = ["the cat sat."] * (MAX_REQUEST_SENTENCES + 1)
    with pytest.raises(InputError, match=f"at most {MAX_REQUEST_SENTENCES}"):
        score_request(state, too_many, "no-such-model-is-loaded", "pll")
    with pytest.raises(InputError, match=f"at most {MAX_REQUEST_SENTENCES}"):
        pairs_request(state, [too_many[:2]] * (MAX_REQUEST_SENTENCES + 1), "no-such-model-is-loaded", "pll")
    with pytest.raises(InputError, match="No pair given"):
        pairs_request(state, [], "mini-bert", "pll")
