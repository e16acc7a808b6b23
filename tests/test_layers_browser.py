"""The Layers view and joint filling in a real browser (Debian's Chromium via Playwright, app on 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from app_server import CHROMIUM, CHROMIUM_ARGS, require_chromium, running_app

from explorer.ablation import ablate_heads
from explorer.documents import layers_document
from explorer.joint import fill_jointly
from explorer.layers import layer_predictions
from explorer.models import load_model

TEXT = "The [MASK] was cold and the [MASK] was hot."
TIMEOUT_MS = 90_000

sync_api = require_chromium()


@pytest.fixture(scope="module")
def page(bundled_assets) -> Iterator[object]:
    with running_app() as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
        requests: list[str] = []
        context.on("request", lambda request: requests.append(request.url))
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        tab.goto(url)
        tab.wait_for_selector("#text-input textarea")
        tab.fill("#text-input textarea", TEXT)
        yield tab
        outside = [u for u in requests if urlparse(u).scheme not in ("data", "blob", "about")
                   and urlparse(u).hostname != "127.0.0.1"]
        assert outside == []
        browser.close()


def test_layers_view_draws_the_lens_and_head_effects_and_switches_heads_off(page, tmp_path):
    page.get_by_role("tab", name="Layers").click()
    page.click("#layers-button")
    page.wait_for_selector("#layers-lens .heatmaplayer, #layers-lens .hm", state="attached")
    page.wait_for_selector("#head-effects .heatmaplayer, #head-effects .hm", state="attached")
    assert page.locator("#head-effects .colorbar").count() >= 1
    model = load_model("mini-bert")
    lens = layer_predictions(model, TEXT, top_k=5)
    ticks = page.locator("#layers-lens .ytick text").all_text_contents()
    assert "embeddings" in ticks and f"layer {lens.layers}" in ticks
    with page.expect_download() as download:
        page.click("#layers-download")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert json.loads(path.read_text()) == json.loads(json.dumps(layers_document(lens)))

    page.fill("#ablate-heads textarea, #ablate-heads input", "0:*, 1:0")
    page.click("#ablate-button")
    page.wait_for_selector("#ablation-table table.ablation", state="attached")
    expected = ablate_heads(model, TEXT, "0:*,1:0").fill_mask
    cells = page.locator("#ablation-table table.ablation").first.locator("tr td:nth-child(4)").all_inner_texts()
    assert cells == [p.token.strip() for p in expected.masks[0].predictions]
    assert "0:0" in page.inner_text("#ablation-view")

    page.fill("#ablate-heads textarea, #ablate-heads input", "1:1")
    page.click("#ablate-add-head")  # the Attention tab's layer and head sliders start at 0 and 0
    page.wait_for_function("document.querySelector('#ablate-heads textarea, #ablate-heads input').value == '1:1, 0:0'")


def test_joint_filling_in_the_predict_tab(page):
    page.get_by_role("tab", name="Predict").click()
    page.click("#joint-panel button, #joint-panel .label-wrap")
    page.click("#joint-button")
    page.wait_for_selector("#joint-fill-result", state="attached")
    joint = fill_jointly(load_model("mini-bert"), TEXT)
    assert joint.filled_text in page.inner_text("#joint-fill-result")
    assert page.locator("#joint-fill-result tr.differs").count() == sum(joint.differs)
