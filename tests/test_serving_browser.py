"""Hostile input in a real browser (issue 11, defect 1): a model name or word that is HTML shows as text in the
error message (pop-up or in place), and the page fetches nothing it names."""

from __future__ import annotations

from urllib.parse import urlencode, urlparse

from app_server import CHROMIUM, CHROMIUM_ARGS, require_chromium, running_app

sync_api = require_chromium()

IMAGE = "<img src=http://127.0.0.2:9/t.png>"


def test_a_hostile_model_name_in_a_link_shows_as_text_in_the_error(bundled_assets):
    with running_app() as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(60_000)
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(url + "?" + urlencode({"model": IMAGE, "text": "a [MASK] b"}))
        # Said in place (the tab's message, the model line) or in a pop-up: always as text
        said = page.locator(".toast-body, .result-message, #model-info").filter(has_text="is not a model name")
        said.first.wait_for()
        assert all(IMAGE in said.nth(i).inner_text() for i in range(said.count()))  # the tag as text...
        assert said.locator("img").count() == 0  # ...never as an element
        assert page.locator("img[src*='127.0.0.2']").count() == 0
        assert [u for u in requests if urlparse(u).hostname == "127.0.0.2"] == []
        browser.close()
