"""Screenshots of every tab of the web app at two widths, on the bundled models, in headless Chromium.

For the closing notes of a UI change: run it once before the change (`--label before`) and once after (`--label
after`); the pictures go to artifacts/screenshots/<label>/<tab>-<width>.png (git-ignored). Each tab is run with its
own button on the same two-mask sentence, then the whole page is saved.

    python benchmarks/screenshot_tabs.py --label after
"""

from __future__ import annotations

import argparse
from pathlib import Path

import harness  # noqa: F401  (puts tests/ on sys.path, for app_server)
from app_server import CHROMIUM, CHROMIUM_ARGS, running_app
from playwright.sync_api import sync_playwright

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
SENTENCE = "The [MASK] was cold and the [MASK] was hot."
WIDTHS = (1280, 800)
# tab name, its button, what shows that its result drew (inside the head view's iframe for Attention)
TABS = (
    ("Predict", "#run-button", "#topk-plot .barlayer .point path"),
    ("Attention", "#attention-button", "#attention-mask .hm, #attention-mask .heatmaplayer"),
    ("Attribution", "#attribution-button", "#attribution-tokens .attribution-token"),
    ("Compare", "#compare-button", "#compare-columns .compare-column"),
    ("Layers", "#layers-button", "#layers-lens .heatmaplayer"),
    ("Score", "#score-button", "#score-plot .barlayer .point path"),
)


def main() -> None:
    """Command line: save one full-page screenshot per tab and width."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--label", default="after", help="subfolder of artifacts/screenshots/ (before, after, ...)")
    args = ap.parse_args()
    folder = ARTIFACTS / args.label
    folder.mkdir(parents=True, exist_ok=True)
    with running_app() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        for width in WIDTHS:
            page = browser.new_context(viewport={"width": width, "height": 1000}).new_page()
            page.set_default_timeout(120_000)
            page.goto(url)
            page.wait_for_selector("#text-input textarea")
            page.fill("#text-input textarea", SENTENCE)
            for tab, button, ready in TABS:
                page.get_by_role("tab", name=tab).click()
                page.click(button)
                page.wait_for_selector(ready, state="attached")
                if tab == "Compare":  # open the side-by-side bar charts too
                    page.get_by_text("Bar charts side by side").click()
                    page.wait_for_selector("#compare-plot .barlayer .point path", state="attached")
                page.wait_for_timeout(800)  # let plotly finish its transitions
                path = folder / f"{tab.lower()}-{width}.png"
                page.screenshot(path=str(path), full_page=True)
                print(path)
            page.context.close()
        browser.close()


if __name__ == "__main__":
    main()
