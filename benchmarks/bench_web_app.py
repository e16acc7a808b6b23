"""Click-to-result times of each tab of the web app on the bundled models, in headless Chromium.

The app runs in this process on a free 127.0.0.1 port with the repository's bundled models. For each repeat, every
tab is visited on a fresh page (so the result element is new) with a different sentence; the time is from the
click on the tab's button until its result has drawn (the bars, the head view's SVG lines, the coloured tokens,
the compared models' columns). The first repeat includes loading the models into the server; the others show
the warm app. "Predict on load" is the time from opening a fresh page (no click) until the opening sentence's bars
have drawn; "first Predict click" is a fresh page's first click on Run with a new sentence. `--screenshot PATH` also
saves the Predict tab on a two-mask sentence (the README's picture).

    python benchmarks/bench_web_app.py --repeats 4 --screenshot assets/screenshot-predict.png
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import harness  # noqa: F401  (puts tests/ on sys.path, for app_server)
from app_server import CHROMIUM, CHROMIUM_ARGS, running_app
from playwright.sync_api import sync_playwright

SENTENCES = (
    "She poured a cup of [MASK] and sat down to read.",
    "The children are playing in the [MASK] after school.",
    "He put the letter in an [MASK] and posted it.",
    "The river flows slowly into the [MASK].",
    "My grandmother bakes [MASK] every Sunday.",
)
README_SENTENCE = "The [MASK] was cold and the [MASK] was hot."
# tab name, button, what shows that the result drew (inside the head view's iframe for Attention)
TABS = (
    ("Predict", "#run-button", "#topk-plot .barlayer .point path"),
    ("Attention", "#attention-button", "iframe:#head-view iframe|#attention line"),
    ("Attribution", "#attribution-button", "#attribution-tokens .attribution-token"),
    ("Compare", "#compare-button", "#compare-columns .compare-column"),
)


def click_to_result(page, url: str, sentence: str, tab: str, button: str, ready: str) -> float:
    """Seconds from the click on `button` to `ready` drawing, on a fresh page."""
    page.goto(url)
    page.wait_for_selector("#text-input textarea")
    page.wait_for_selector(TABS[0][2], state="attached")  # the opening sentence, run on load, has drawn
    before = page.inner_text("#filled-sentence")
    page.fill("#text-input textarea", sentence)
    if tab != "Predict":
        page.get_by_role("tab", name=tab).click()
    start = time.perf_counter()
    page.click(button)
    if tab == "Predict":  # the opening sentence's bars are there already: wait for the new sentence's
        page.wait_for_function("(b) => document.querySelector('#filled-sentence').innerText != b", arg=before)
        page.wait_for_selector(ready, state="attached")
    elif ready.startswith("iframe:"):
        frame, inner = ready.removeprefix("iframe:").split("|")
        page.frame_locator(frame).locator(inner).first.wait_for(state="attached")
    else:
        page.wait_for_selector(ready, state="attached")
    return time.perf_counter() - start


def main() -> None:
    """Command line: print the click-to-result seconds per tab (first and warm median) as a table and JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=4)
    ap.add_argument("--screenshot", type=Path, default=None, help="save the Predict tab here (PNG)")
    args = ap.parse_args()
    times: dict[str, list[float]] = {tab: [] for tab, _, _ in TABS}
    with running_app() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(120_000)
        for r in range(args.repeats):
            start = time.perf_counter()
            page.goto(url)
            page.wait_for_selector(TABS[0][2], state="attached")  # the page runs its opening sentence on load
            times.setdefault("Predict on load", []).append(round(time.perf_counter() - start, 3))
            for tab, button, ready in TABS:
                seconds = click_to_result(page, url, SENTENCES[r % len(SENTENCES)], tab, button, ready)
                times[tab].append(round(seconds, 3))
        if args.screenshot:
            click_to_result(page, url, README_SENTENCE, *TABS[0])
            page.wait_for_timeout(500)  # let plotly finish its transition
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.screenshot), full_page=False)
        browser.close()
    print(f"{'tab':<16} {'first (s)':>10} {'warm median (s)':>16}  all")
    for tab, values in times.items():
        warm = statistics.median(values[1:]) if len(values) > 1 else float("nan")
        print(f"{tab:<16} {values[0]:>10.2f} {warm:>16.2f}  {values}")
    print(json.dumps(times))


if __name__ == "__main__":
    main()
