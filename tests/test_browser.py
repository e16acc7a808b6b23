"""The web app in a real browser: Debian's Chromium driven by Playwright (never a downloaded browser).

The app runs in this process on a free 127.0.0.1 port with the bundled models (or their tiny stand-ins, see
tests/bundled_assets.py). Every test records every request the page makes and fails if one left 127.0.0.1.
Screenshots of each tab and the click-to-result times go to artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse

import pytest
from app_server import CHROMIUM, CHROMIUM_ARGS, running_app

from explorer.attribution import attribute_tokens
from explorer.documents import predict_document
from explorer.encoding import encode
from explorer.figures.bertviz_view import display_tokens
from explorer.figures.predictions import token_label
from explorer.fill_mask import predict_masks
from explorer.models import load_model

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
TEXT = "the cat sat on the [MASK]."
HOSTILE = "<img src=x onerror=alert(1)> the [MASK] sat"
TIMEOUT_MS = 90_000
BARS = "#topk-plot .barlayer .point path"

if not CHROMIUM.exists():
    message = f"{CHROMIUM} is missing: apt-get install -y chromium"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@dataclass
class Visit:
    """One browser tab on the app, with everything it requested and every dialog it tried to open."""

    page: object
    url: str
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def open(self, query: dict[str, str] | None = None) -> None:
        self.page.goto(self.url + ("?" + urlencode(query) if query else ""))
        self.page.wait_for_selector("#text-input textarea")

    def tab(self, name: str) -> None:
        self.page.get_by_role("tab", name=name).click()

    def timed(self, label: str, click: str, ready: str) -> float:
        """Click `click`, wait for `ready` to show; record and return the seconds in between."""
        start = time.perf_counter()
        self.page.click(click)
        self.page.wait_for_selector(ready, state="attached")
        seconds = time.perf_counter() - start
        TIMINGS.setdefault(label, []).append(round(seconds, 3))
        return seconds

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def assert_stayed_local(self) -> None:
        outside = [u for u in self.requests
                   if urlparse(u).scheme not in ("data", "blob", "about") and urlparse(u).hostname != "127.0.0.1"]
        assert outside == [], f"the page made requests outside 127.0.0.1: {outside}"
        assert self.requests, "no request was recorded at all"


TIMINGS: dict[str, list[float]] = {}


@pytest.fixture(scope="module")
def app_url(bundled_assets) -> Iterator[str]:
    with running_app() as url:
        yield url
    if TIMINGS:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "browser-timings.json").write_text(json.dumps(TIMINGS, indent=2))
        print("\nclick-to-result seconds:", json.dumps(TIMINGS))


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def visit(browser, app_url) -> Iterator[Visit]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    opened = Visit(page=page, url=app_url)
    context.on("request", lambda request: opened.requests.append(request.url))

    def on_dialog(dialog) -> None:
        opened.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield opened
    context.close()


def test_every_tab_draws_with_the_bundled_models(visit):
    visit.open()
    visit.page.fill("#text-input textarea", TEXT)
    visit.timed("predict", "#run-button", BARS)
    assert visit.page.locator(BARS).count() == 5
    assert visit.page.locator("#filled-sentence mark.fill").count() == 1
    assert "mini-bert" in visit.page.inner_text("#model-info")
    visit.screenshot("tab-predict")

    visit.tab("Attention")
    head_view = visit.page.frame_locator("#head-view iframe")
    start = time.perf_counter()
    visit.page.click("#attention-button")
    head_view.locator("#attention line").first.wait_for(state="attached")
    TIMINGS.setdefault("attention", []).append(round(time.perf_counter() - start, 3))
    assert head_view.locator("#attention line").count() > 0
    visit.page.wait_for_selector("#attention-head .heatmaplayer, #attention-head .hm", state="attached")
    visit.screenshot("tab-attention")

    visit.tab("Attribution")
    visit.timed("attribution", "#attribution-button", "#attribution-tokens .attribution-token")
    n_tokens = len(encode(load_model("mini-bert"), TEXT).tokens)
    assert visit.page.locator("#attribution-tokens .attribution-token").count() == n_tokens
    assert visit.page.locator("#attribution-plot .barlayer .point path").count() == n_tokens
    assert "convergence delta" in visit.page.inner_text("#attribution-delta")
    visit.screenshot("tab-attribution")

    visit.tab("Compare")
    visit.timed("compare", "#compare-button", "#compare-columns .compare-column")
    columns = visit.page.locator("#compare-columns .compare-column")
    assert columns.count() == 2
    assert [columns.nth(i).locator("h4").inner_text() for i in range(2)] == ["mini-bert", "mini-roberta"]
    assert visit.page.locator("#compare-agreement table.matrix").count() == 2
    visit.screenshot("tab-compare")

    visit.page.click("#compare-inside")  # the accordion: attention side by side for the compared models
    start = time.perf_counter()
    visit.page.click("#compare-attention-button")
    for i in range(2):
        visit.page.wait_for_selector(f"#compare-inside-plot-{i} .heatmaplayer, #compare-inside-plot-{i} .hm",
                                     state="attached")
    TIMINGS.setdefault("compare-attention-side-by-side", []).append(round(time.perf_counter() - start, 3))
    assert visit.dialogs == []
    visit.assert_stayed_local()


def test_a_hostile_sentence_is_text_in_every_tab_and_nothing_runs(visit):
    # Opened as a shared link: the URL query fills the page and runs Predict.
    visit.open({"model": "mini-roberta", "text": HOSTILE})
    visit.page.wait_for_selector(BARS, state="attached")
    assert visit.page.input_value("#text-input textarea") == HOSTILE
    assert "<img src=x onerror=alert(1)>" in visit.page.inner_text("#filled-sentence")
    model = load_model("mini-roberta")

    visit.tab("Attention")
    visit.page.click("#attention-button")
    head_view = visit.page.frame_locator("#head-view iframe")
    head_view.locator("#attention line").first.wait_for(state="attached")
    shown = head_view.locator("#left text").all_text_contents()
    assert shown == display_tokens(encode(model, HOSTILE).tokens)
    assert "<" in shown and ">" in shown  # the markup characters are drawn as tokens

    visit.tab("Attribution")
    visit.page.click("#attribution-button")
    visit.page.wait_for_selector("#attribution-tokens .attribution-token")
    chips = visit.page.locator("#attribution-tokens .attribution-token").all_inner_texts()
    expected = attribute_tokens(model, HOSTILE, method="grad-x-input")
    assert chips == [token_label(t) for t in expected.token_texts]

    visit.tab("Compare")
    visit.page.click("#compare-button")
    visit.page.wait_for_selector("#compare-columns .compare-column")
    roberta_chips = visit.page.locator("#compare-tokens .tokenisation").nth(1).locator(".chip").all_inner_texts()
    assert roberta_chips == list(encode(model, HOSTILE).tokens)

    for frame in visit.page.frames:
        injected = frame.evaluate("document.querySelectorAll('img[src=\"x\"], [onerror]').length")
        assert injected == 0, f"markup from the sentence became an element in {frame.url[:60]}"
    assert visit.dialogs == []
    assert not any(urlparse(u).path.endswith("/x") for u in visit.requests)
    visit.screenshot("hostile-compare")
    visit.assert_stayed_local()


def test_a_shared_link_opens_the_named_view_with_its_settings(visit):
    visit.open({"model": "mini-roberta", "text": TEXT, "top_k": "3", "view": "attention"})
    visit.page.frame_locator("#head-view iframe").locator("#attention line").first.wait_for(state="attached")
    assert visit.page.get_by_role("tab", name="Attention").get_attribute("aria-selected") == "true"
    visit.tab("Predict")
    visit.page.wait_for_selector(BARS, state="attached")
    assert visit.page.locator(BARS).count() == 3
    assert "mini-roberta" in visit.page.inner_text("#model-info")
    link = visit.page.get_attribute("#predict-share a", "href")
    assert link.startswith("?") and "model=mini-roberta" in link and "top_k=3" in link
    visit.assert_stayed_local()


def test_results_export_as_json_and_png(visit, tmp_path):
    visit.open()
    visit.page.fill("#text-input textarea", TEXT)
    visit.page.click("#run-button")
    visit.page.wait_for_selector(BARS, state="attached")
    visit.page.wait_for_selector("#predict-download", state="visible")
    with visit.page.expect_download() as download:
        visit.page.click("#predict-download")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    model = load_model("mini-bert")
    assert path.name == "predict.json"
    assert json.loads(path.read_text()) == json.loads(json.dumps(
        predict_document(model.info, [predict_masks(model, TEXT, top_k=5)])))

    with visit.page.expect_download() as download:
        visit.page.click("#topk-plot .modebar-btn[data-title^='Download plot']")
    assert download.value.suggested_filename == "mlm-explorer-predict.png"
    png = tmp_path / "plot.png"
    download.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    visit.assert_stayed_local()


def test_errors_appear_as_messages_and_the_page_keeps_working(visit):
    visit.open()
    visit.page.fill("#text-input textarea", "a sentence without a mask")
    visit.page.click("#run-button")
    visit.page.get_by_text("No [MASK] in the text").first.wait_for()
    assert "Traceback" not in visit.page.content()
    visit.page.fill("#text-input textarea", TEXT)
    visit.page.press("#text-input textarea", "Enter")  # Enter runs, like the button
    visit.page.wait_for_selector(BARS, state="attached")
    assert visit.page.locator(BARS).count() == 5
    visit.assert_stayed_local()
