"""The web app in a real browser: Debian's Chromium driven by Playwright (never a downloaded browser).

The app runs in this process on a free 127.0.0.1 port with the bundled models (or their tiny stand-ins, see
tests/bundled_assets.py). Every test records every request the page makes and fails if one left 127.0.0.1.
Screenshots of each tab and the click-to-result times go to artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse

import pytest
from app_server import CHROMIUM, CHROMIUM_ARGS, require_chromium, running_app

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

sync_api = require_chromium()


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
    # (the first trace: the others are the legend's entries, which draw nothing)
    assert visit.page.locator("#attribution-plot .barlayer .trace:first-of-type .point path").count() == n_tokens
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
    assert roberta_chips == [token_label(t) for t in encode(model, HOSTILE).tokens]  # one way to show a token

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


# ---- issue 12: honest comparisons, one vocabulary, layouts that hold, links for every view ----------------------

OPENING = "Paris is the [MASK] of France."  # the page's opening sentence (explorer/ui/app.py EXAMPLES[0])
OPENING_MASK = "mask 1 · 'the [MASK] of'"
VIEW_READY = {
    "predict": BARS,
    "attention": "#attention-mask .hm, #attention-mask .heatmaplayer",
    "attribution": "#attribution-tokens .attribution-token",
    "compare": "#compare-columns .compare-column",
}


def chart_titles(page, within: str) -> list[dict]:
    """Bounding boxes of every visible chart title and subplot title under `within`, with their text."""
    return page.evaluate(
        """(within) => [...document.querySelectorAll(within + ' .js-plotly-plot')].flatMap((plot) =>
            [...plot.querySelectorAll('.gtitle, .annotation-text')].map((node) => {
                const box = node.getBoundingClientRect();
                return {text: node.textContent, x: box.x, y: box.y, w: box.width, h: box.height,
                        plot: plot.closest('[id]').id};
            })).filter((box) => box.w > 0 && box.h > 0)""",
        within,
    )


def overlaps(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def assert_titles_clear(page, tab: str, titles: list[dict], width: int) -> None:
    """No two chart titles overlap, none runs off the page, none sits under a chart's toolbar."""
    assert titles, tab
    for i, a in enumerate(titles):
        assert a["x"] >= 0 and a["x"] + a["w"] <= width, f"{tab}: title {a['text']!r} runs off the page"
        for b in titles[i + 1:]:
            assert not overlaps(a, b), f"{tab}: {a['text']!r} overlaps {b['text']!r}"
    bars = page.evaluate("""[...document.querySelectorAll('.js-plotly-plot')].filter((p) => p.offsetParent)
        .map((p) => [p.closest('[id]').id, p.querySelector('.modebar')?.getBoundingClientRect().toJSON()])""")
    for plot, bar in bars:
        for a in titles:
            if bar and a["plot"] == plot:
                toolbar = {"x": bar["x"], "y": bar["y"], "w": bar["width"], "h": bar["height"]}
                assert not overlaps(a, toolbar), f"{tab}: title {a['text']!r} under the toolbar"


def test_the_first_prediction_runs_on_load_and_every_view_names_the_mask_one_way(visit):
    start = time.perf_counter()
    visit.open()
    visit.page.wait_for_selector(BARS, state="attached")  # no click: the opening sentence ran on load
    TIMINGS.setdefault("predict-on-load", []).append(round(time.perf_counter() - start, 3))
    assert visit.page.input_value("#text-input textarea") == OPENING
    assert OPENING_MASK in visit.page.inner_text("#topk-plot")
    assert "orange: the top-1 filler" in visit.page.inner_text("#topk-plot")

    visit.tab("Attention")
    visit.page.click("#attention-button")
    visit.page.wait_for_selector(VIEW_READY["attention"], state="attached")
    assert OPENING_MASK in visit.page.inner_text("#attention-mask")
    # a click on a cell of "Where does the mask look?" picks that layer and head everywhere
    visit.page.locator("#attention-mask").scroll_into_view_if_needed()
    box = visit.page.locator("#attention-mask .nsewdrag").first.bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + min(box["height"] * 0.4, 600)  # inside the viewport
    # the row under the pointer, from plotly's own pixel-to-data map of the y axis: row = layer * heads + head
    row = visit.page.evaluate("""(y) => { const chart = document.querySelector('#attention-mask .js-plotly-plot');
        const axis = chart._fullLayout.yaxis;
        return Math.round(axis.p2l(y - chart.getBoundingClientRect().top - axis._offset)); }""", y)
    heads = load_model("mini-bert").info.heads
    layer, head = divmod(row, heads)
    visit.page.mouse.move(x - 5, y - 5)
    visit.page.mouse.move(x, y, steps=5)  # plotly clicks the point it hovers
    visit.page.wait_for_timeout(300)
    visit.page.mouse.click(x, y)
    visit.page.wait_for_function(
        "([l, h]) => document.querySelector('#attention-layer input[type=number]').value == l && "
        "document.querySelector('#attention-head-number input[type=number]').value == h", arg=[layer, head])
    visit.page.wait_for_function(
        "(t) => document.querySelector('#attention-head .gtitle').textContent.startsWith(t)",
        arg=f"Layer {layer}, head {head}")
    head_view = visit.page.frame_locator("#head-view iframe")
    head_view.locator("#attention line").first.wait_for(state="attached")
    assert head_view.locator("#layer").input_value() == str(layer)
    visit.page.wait_for_selector("#attention-rollout-masks .barlayer", state="attached")
    assert_titles_clear(visit.page, "Attention at 1280 px", chart_titles(visit.page, "#attention-view"), width=1280)

    visit.tab("Attribution")
    assert visit.page.locator("#attribution-mask input").input_value() == OPENING_MASK
    visit.page.click("#attribution-button")
    visit.page.wait_for_selector(VIEW_READY["attribution"])
    assert OPENING_MASK in visit.page.inner_text("#attribution-tokens")
    assert OPENING_MASK in visit.page.inner_text("#attribution-plot")
    legend = " ".join(visit.page.locator("#attribution-plot .legend .legendtext").all_text_contents())
    assert "the mask being explained" in legend and "raised it" in legend

    visit.tab("Compare")
    visit.page.click("#compare-button")
    visit.page.wait_for_selector(VIEW_READY["compare"])
    titles = visit.page.locator("#compare-columns .compare-mask-title").all_inner_texts()
    assert titles == [OPENING_MASK, OPENING_MASK]
    assert OPENING_MASK in visit.page.inner_text("#compare-agreement h4")
    assert visit.dialogs == []
    visit.assert_stayed_local()


def test_compared_models_share_one_scale_and_spearman_names_its_set(visit):
    visit.open({"text": OPENING, "view": "compare"})
    visit.page.wait_for_selector(VIEW_READY["compare"], state="attached")
    bars = visit.page.evaluate("""[...document.querySelectorAll('#compare-columns .bar')].map((bar) =>
        ({p: parseFloat(bar.dataset.probability), w: bar.getBoundingClientRect().width,
          model: bar.closest('.compare-column').dataset.model}))""")
    assert {b["model"] for b in bars} == {"mini-bert", "mini-roberta"}
    top = max(bars, key=lambda b: b["p"])
    pixels_per_unit = top["w"] / top["p"]
    for bar in bars:  # the same pixels per percent in both columns: 4.6 % never looks like 2.7 %
        assert bar["w"] == pytest.approx(bar["p"] * pixels_per_unit, abs=1.5), bar
    visit.page.get_by_text("Bar charts side by side").click()
    visit.page.wait_for_selector("#compare-plot .barlayer .point path", state="attached")
    ranges = visit.page.evaluate("""(() => {
        const layout = document.querySelector('#compare-plot .js-plotly-plot')._fullLayout;
        return Object.keys(layout).filter((k) => /^xaxis\\d*$/.test(k)).map((k) => layout[k].range); })()""")
    assert len(ranges) == 2 and ranges[0] == ranges[1]

    caption = visit.page.inner_text("#compare-agreement table.matrix >> nth=1")
    assert "Spearman rank correlation over the words in either model's top-5 that both write as one token" in caption
    cells = visit.page.evaluate("""[...document.querySelectorAll('#compare-agreement td.spearman')].map((td) =>
        ({n: parseInt(td.dataset.n), text: td.textContent}))""")
    assert len(cells) == 4
    for cell in cells:
        assert f"(n = {cell['n']})" in cell["text"]
        assert ("too few words to correlate" in cell["text"]) == (cell["n"] < 5)
    visit.assert_stayed_local()


def test_an_error_clears_the_old_result_and_hides_its_download_and_link(visit):
    visit.open()
    visit.page.wait_for_selector(BARS, state="attached")
    visit.page.wait_for_selector("#predict-download", state="visible")
    assert visit.page.locator("#predict-share a").count() == 1
    visit.page.fill("#text-input textarea", "a sentence without a mask")
    visit.page.click("#run-button")
    visit.page.wait_for_selector("#predict-message .result-error")
    assert "No [MASK] in the text" in visit.page.inner_text("#predict-message")
    assert visit.page.locator(BARS).count() == 0 and visit.page.inner_text("#filled-sentence").strip() == ""
    assert not visit.page.is_visible("#predict-download")
    assert visit.page.locator("#predict-share a").count() == 0
    assert visit.page.locator(".toast-body, .toast-wrap .error").count() == 0, "no pop-up piles up"
    assert visit.page.locator("#topk-plot .error, #filled-sentence .error").count() == 0, "no red Error pill"

    visit.tab("Compare")  # one model: said in place too
    visit.page.locator("#compare-models .token-remove").last.click()
    visit.page.click("#compare-button")
    visit.page.wait_for_selector("#compare-message .result-error")
    assert "Compare needs 2 to 4 different models" in visit.page.inner_text("#compare-message")
    assert not visit.page.is_visible("#compare-download")

    visit.tab("Predict")  # and the page recovers in place
    visit.page.fill("#text-input textarea", TEXT)
    visit.page.click("#run-button")
    visit.page.wait_for_selector(BARS, state="attached")
    visit.page.wait_for_function("!document.querySelector('#predict-message .result-error')")
    assert visit.page.is_visible("#predict-download")
    visit.assert_stayed_local()


def test_a_link_from_each_tab_reopens_that_tab_with_its_result(visit, browser, app_url):
    visit.open()
    visit.page.wait_for_selector(BARS, state="attached")
    links = {"predict": visit.page.get_attribute("#predict-share a", "href")}
    visit.tab("Attention")
    visit.page.fill("#attention-layer input[type=number]", "1")
    visit.page.click("#attention-button")
    visit.page.wait_for_selector(VIEW_READY["attention"], state="attached")
    visit.page.wait_for_selector("#attention-share a", state="attached")
    links["attention"] = visit.page.get_attribute("#attention-share a", "href")
    visit.tab("Attribution")
    visit.page.get_by_label("Gradient × input").check()
    visit.page.click("#attribution-button")
    visit.page.wait_for_selector("#attribution-share a", state="attached")
    links["attribution"] = visit.page.get_attribute("#attribution-share a", "href")
    visit.tab("Compare")
    visit.page.click("#compare-button")
    visit.page.wait_for_selector("#compare-share a", state="attached")
    links["compare"] = visit.page.get_attribute("#compare-share a", "href")
    for view, link in links.items():
        assert f"view={view}" in link, link
    assert "layer=1" in links["attention"] and "method=grad-x-input" in links["attribution"]
    assert "models=mini-bert%2Cmini-roberta" in links["compare"]

    visit.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    visit.page.click("#compare-share .copy-link")
    visit.page.wait_for_function("document.querySelector('#compare-share .copy-link').textContent == 'Copied'")
    assert visit.page.evaluate("navigator.clipboard.readText()") == app_url.rstrip("/") + "/" + links["compare"]

    other = visit.page.context.new_page()  # one more tab of the same browser, so the page loads are few
    for view, link in links.items():
        other.goto(app_url + link)
        other.wait_for_selector(VIEW_READY[view], state="attached")
        assert other.get_by_role("tab", name=view.capitalize()).get_attribute("aria-selected") == "true"
        other.wait_for_selector(f"#{view}-share a", state="attached")
        assert other.get_attribute(f"#{view}-share a", "href") == link, view
    other.close()
    visit.assert_stayed_local()


def test_at_800_px_the_charts_stack_and_no_two_titles_overlap(browser, app_url):
    context = browser.new_context(viewport={"width": 800, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url + "?" + urlencode({"text": "The [MASK] was cold and the [MASK] was hot."}))
    page.wait_for_selector(BARS, state="attached")
    for tab, button in (("Attention", "#attention-button"), ("Attribution", "#attribution-button"),
                        ("Compare", "#compare-button")):
        page.get_by_role("tab", name=tab).click()
        page.click(button)
        page.wait_for_selector(VIEW_READY[tab.lower()], state="attached")
        if tab == "Attention":
            page.wait_for_selector("#attention-rollout-masks .barlayer", state="attached")
            head, mask = (page.locator(s).bounding_box() for s in ("#attention-head", "#attention-mask"))
            assert mask["y"] >= head["y"] + head["height"] - 1, "the two columns stack below 1000 px"
            attention_titles = chart_titles(page, "#attention-view")
        if tab == "Compare":
            page.get_by_text("Bar charts side by side").click()
            page.wait_for_selector("#compare-plot .barlayer .point path", state="attached")
    page.wait_for_timeout(500)
    for tab in ("Predict", "Attention", "Attribution", "Compare"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(300)
        titles = attention_titles if tab == "Attention" else chart_titles(page, "body")
        assert_titles_clear(page, tab, titles, width=800)
    page.get_by_role("tab", name="Attribution").click()
    menu = page.locator("#attribution-mask").bounding_box()
    assert menu["x"] >= 0 and menu["x"] + menu["width"] <= 800, "the Mask menu is not cut"
    context.close()


def compare_items(page) -> list[int]:
    """How many fillers each compared model's column lists (one mask)."""
    return page.evaluate("""[...document.querySelectorAll('#compare-columns .compare-column')].map((column) =>
        column.querySelectorAll('ol.compare-topk li').length)""")


def test_panels_and_redraws_say_errors_in_place_and_compare_redraws_a_new_top_k(visit):
    visit.open()
    visit.page.wait_for_selector(BARS, state="attached")
    visit.page.click("#joint-panel button, #joint-panel .label-wrap")  # the accordion
    visit.page.click("#joint-button")
    visit.page.wait_for_selector("#joint-fill-result", state="attached")
    visit.page.wait_for_selector("#joint-download", state="visible")

    visit.tab("Compare")
    visit.page.click("#compare-button")
    visit.page.wait_for_selector("#compare-columns .compare-column")
    assert compare_items(visit.page) == [5, 5]
    visit.page.fill("#top-k input[type=number]", "3")
    visit.page.dispatch_event("#top-k input[type=number]", "pointerup")  # the slider's release
    visit.page.wait_for_function("""[...document.querySelectorAll('#compare-columns .compare-column')].every(
        (column) => column.querySelectorAll('ol.compare-topk li').length == 3)""")
    assert compare_items(visit.page) == [3, 3] and visit.page.is_visible("#compare-download")
    visit.page.click("#compare-inside")
    visit.page.click("#compare-attention-button")
    visit.page.wait_for_selector("#compare-inside-plot-0 .heatmaplayer, #compare-inside-plot-0 .hm", state="attached")

    visit.tab("Attention")
    visit.page.click("#attention-button")
    visit.page.wait_for_selector(VIEW_READY["attention"], state="attached")
    visit.page.wait_for_selector("#attention-download", state="visible")

    visit.page.fill("#text-input textarea", "but no mask")  # typed, not run: each panel below fails on its own
    visit.page.fill("#attention-layer input[type=number]", "1")  # a redraw of the head's heatmap
    visit.page.wait_for_selector("#attention-message .result-error")
    assert "No [MASK] in the text" in visit.page.inner_text("#attention-message")
    assert visit.page.locator("#attention-head .heatmaplayer, #attention-head .hm, #attention-mask .hm").count() == 0
    assert not visit.page.is_visible("#attention-download")
    assert visit.page.locator("#attention-share a").count() == 0

    visit.tab("Compare")
    visit.page.click("#compare-attention-button")
    visit.page.wait_for_selector("#compare-inside-message .result-error")
    assert "No [MASK] in the text" in visit.page.inner_text("#compare-inside-message")
    assert not visit.page.is_visible("#compare-inside-plot-0")

    visit.tab("Layers")
    visit.page.fill("#ablate-heads textarea, #ablate-heads input", "<b>0</b>")  # quoted in the message: as text
    visit.page.click("#ablate-button")
    visit.page.wait_for_selector("#ablate-message .result-error")
    assert "not '<b>0</b>'" in visit.page.inner_text("#ablate-message")
    assert visit.page.locator("#ablate-message b").count() == 0

    visit.tab("Predict")
    visit.page.click("#joint-button")
    visit.page.wait_for_selector("#joint-message .result-error")
    assert "No [MASK] in the text" in visit.page.inner_text("#joint-message")
    assert visit.page.locator("#joint-fill-result").count() == 0 and not visit.page.is_visible("#joint-download")
    assert visit.page.locator(".toast-body, .toast-wrap .error").count() == 0, "no pop-up anywhere"
    assert visit.dialogs == []
    visit.assert_stayed_local()
