"""The offline bertviz views and the attention figures in a real browser, with every non-local request blocked.

Debian's Chromium at /usr/bin/chromium, driven by Playwright (never `playwright install`). Without it these tests
are skipped, unless the CI environment variable is set: then they fail.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from app_server import CHROMIUM, CHROMIUM_ARGS
from test_figures_attention import HOSTILE_TEXT, HOSTILE_TOKENS, build_hostile_model

from explorer import AttentionMaps, attention_rollout, extract_attention, load_model
from explorer.figures.attention import plot_head, plot_rollout_masks
from explorer.figures.bertviz_view import head_view_html, model_view_html

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing; the CI must install Debian's chromium for the browser tests")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)", allow_module_level=True)


class _Pages(BaseHTTPRequestHandler):
    pages: dict[str, bytes] = {}
    requested: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        type(self).requested.append(self.path)
        body = self.pages.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body or b"not found")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, type[_Pages]]]:
    """A tiny page server on 127.0.0.1; put pages into `handler.pages`, read `handler.requested`."""
    handler = type("Pages", (_Pages,), {"pages": {}, "requested": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """A page opened with every request that is not to our local server blocked and recorded."""

    page: object
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def visit(browser, base: str, path: str) -> Visit:
    context = browser.new_context()
    page = context.new_page()
    seen = Visit(page)

    def route(route) -> None:
        url = route.request.url
        if url.startswith(base + "/") or url.startswith(("data:", "about:")):
            route.continue_()
        else:
            seen.blocked.append(url)
            route.abort()

    context.route("**/*", route)
    page.on("dialog", lambda dialog: (seen.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.set_default_timeout(15_000)
    page.goto(base + path)
    return seen


@pytest.fixture(scope="module")
def hostile_maps(tiny_model_dirs, tmp_path_factory) -> AttentionMaps:
    folder = build_hostile_model(tiny_model_dirs["roberta"], tmp_path_factory.mktemp("hostile"))
    return extract_attention(load_model(str(folder)), HOSTILE_TEXT)


def host_page(*fragments: str) -> bytes:
    """A page that embeds fragments the way gr.HTML does: as markup inserted into the document."""
    body = "\n".join(f'<div class="view">{fragment}</div>' for fragment in fragments)
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><h1>host</h1>{body}</body></html>".encode()


def assert_nothing_ran(seen: Visit, requested: list[str], path: str) -> None:
    page = seen.page
    assert seen.dialogs == [], "a script from the input ran"
    assert seen.blocked == [], "the page tried to reach the network"
    assert requested == [path], "only the page itself may be fetched (an injected <img src=x> would fetch /x)"
    for frame in page.frames:
        assert frame.evaluate("typeof window.__pwned") == "undefined"
        assert frame.evaluate("document.querySelectorAll('img, body script[src]').length") == 0
    assert seen.errors == []


def test_head_and_model_views_draw_offline_and_run_nothing_from_the_input(browser, server, hostile_maps):
    base, handler = server
    handler.pages["/views"] = host_page(head_view_html(hostile_maps), model_view_html(hostile_maps))
    handler.requested.clear()
    seen = visit(browser, base, "/views")
    page = seen.page
    head_frame, model_frame = page.frames[1], page.frames[2]
    n, heads = len(hostile_maps.tokens), hostile_maps.heads

    # Head view: one line per head and (query, key) pair, each carrying its weight, opacity = weight / heads.
    head_frame.wait_for_function(f"document.querySelectorAll('#attention line').length === {heads * n * n}")
    weights = hostile_maps.array()
    lines = head_frame.evaluate("""() => [...document.querySelectorAll('#attention line')].map(line => [
        +line.parentNode.parentNode.getAttribute('head-index'), +line.getAttribute('left-token-index'),
        +line.getAttribute('right-token-index'), line.__data__, +line.getAttribute('stroke-opacity')])""")
    for head, query, key, weight, opacity in lines:
        assert weight == pytest.approx(float(weights[0, head, query, key]), abs=2e-5)
        assert opacity == pytest.approx(weight / heads, abs=1e-6)
    assert sum(opacity > 0 for *_, opacity in lines) > n  # lines are actually visible
    texts = head_frame.evaluate("[...document.querySelectorAll('svg text')].map(t => t.textContent)")
    for token in HOSTILE_TOKENS:
        assert texts.count(token) == 2  # left and right column, as plain text

    # Choosing another layer redraws with that layer's weights.
    head_frame.select_option("#layer", "1")
    head_frame.wait_for_function(f"""() => {{
        const line = document.querySelector('#attention g[head-index="1"] g[left-token-index="2"] line');
        return line && Math.abs(line.__data__ - {float(weights[1, 1, 2, 0])}) < 2e-5; }}""")

    # The frame sized itself to its drawing.
    frame_height = page.evaluate("document.querySelectorAll('iframe')[0].getBoundingClientRect().height")
    drawing = head_frame.evaluate("document.body.getBoundingClientRect().height")
    assert abs(frame_height - drawing) <= 8

    # Model view: a thumbnail of every head of every layer.
    model_frame.wait_for_function("document.querySelectorAll('svg line').length > 0")
    thumbnails = model_frame.evaluate("document.querySelectorAll('[id^=attn_background_]').length")
    assert thumbnails == hostile_maps.layers * heads
    assert_nothing_ran(seen, handler.requested, "/views")
    seen.page.context.close()


def test_plotly_figures_show_hostile_tokens_as_text(browser, server, hostile_maps):
    base, handler = server
    figure = plot_head(hostile_maps, 0, 0)
    bars = plot_rollout_masks(attention_rollout(hostile_maps))
    # plotly.js inlined (as gr.Plot brings its own copy): no request leaves the page.
    page_html = figure.to_html(include_plotlyjs=True, full_html=True) + bars.to_html(include_plotlyjs=False)
    handler.pages["/figure"] = page_html.encode()
    handler.requested.clear()
    seen = visit(browser, base, "/figure")
    seen.page.wait_for_function("document.querySelectorAll('.xtick text').length > 0")
    ticks = seen.page.evaluate("[...document.querySelectorAll('.xtick text')].map(t => t.textContent)")
    for token in HOSTILE_TOKENS:
        assert ticks.count(token) == 2  # in the heatmap and in the bars, exactly as typed
    assert_nothing_ran(seen, handler.requested, "/figure")
    seen.page.context.close()
