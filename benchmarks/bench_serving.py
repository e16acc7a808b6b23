"""Load test of the web app's API on the bundled models: many gradio_client clients at once, on 127.0.0.1 only.

The server runs as its own process (`mlm-explorer serve` as this script's `--serve`), so its memory is measured
alone. For 8 and then 32 concurrent clients, each sends 10 mixed requests (predict, attention, attribute at 16
steps, compare) on texts no other request uses (so no answer comes from a cache); every answer is compared with
the same document computed in this process by the core (what a single client gets, as tests/test_api.py checks).
It prints requests/s, p50/p95 latency, errors, wrong answers and the server's peak RSS; then 300 distinct texts in a
row through /predict with the server's RSS every 50 (it should plateau: every cache is bounded); and the cold start
(process start to the first answer). `--batched` repeats the load with predict served by a Gradio batched endpoint
(batch=True, max_batch_size 8) that runs one padded forward pass per batch.

    python benchmarks/bench_serving.py                 # about a minute on 2 CPU cores
    python benchmarks/bench_serving.py --batched --clients 8,32 --plateau 300 --json results.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import harness  # noqa: F401  (puts tests/ on sys.path)

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("predict", "attention", "attribute", "compare")
STEPS = 16
TOP_K = 5
MODELS = ["mini-bert", "mini-roberta"]

_SUBJECTS = ("the cat", "my friend", "a teacher", "the old man", "her brother", "the doctor", "our neighbour",
             "the child", "a farmer", "the pilot")
_VERBS = ("saw", "bought", "found", "wanted", "painted", "opened", "lost", "carried", "cleaned", "sold")
_TAILS = ("near the river", "after school", "on monday", "in the morning", "at the market", "before dinner",
          "last summer", "with care")


def distinct_texts(count: int) -> list[str]:
    """`count` different sentences with one [MASK] each."""
    combos = itertools.product(_SUBJECTS, _VERBS, _TAILS, range(10))
    return [f"{s} {v} the [MASK] {t} {n}." if n else f"{s} {v} the [MASK] {t}." for s, v, t, n in
            itertools.islice(combos, count)]


def call(client: Any, kind: str, text: str, predict_name: str = "/predict") -> dict:
    if kind == "predict":
        return client.predict(text, "mini-bert", TOP_K, api_name=predict_name)
    if kind == "attention":
        return client.predict(text, "mini-roberta", api_name="/attention")
    if kind == "attribute":
        return client.predict(text, "mini-bert", 0, "", STEPS, api_name="/attribute")
    return client.predict(text, MODELS, TOP_K, api_name="/compare")


def reference(kind: str, text: str) -> dict:
    """The document a single client gets, computed by the core in this process."""
    from explorer.attention import extract_attention
    from explorer.attribution import attribute_tokens
    from explorer.compare import compare_models
    from explorer.documents import attention_document, attribution_document, compare_document, predict_document
    from explorer.fill_mask import predict_masks
    from explorer.models import load_model

    if kind == "predict":
        model = load_model("mini-bert")
        document = predict_document(model.info, [predict_masks(model, text, TOP_K)])
    elif kind == "attention":
        model = load_model("mini-roberta")
        document = attention_document(extract_attention(model, text), model.info)
    elif kind == "attribute":
        document = attribution_document(attribute_tokens(load_model("mini-bert"), text, n_steps=STEPS))
    else:
        document = compare_document(compare_models([load_model(m) for m in MODELS], text, top_k=TOP_K))
    return json.loads(json.dumps(document))


def largest_difference(a: Any, b: Any) -> float:
    """The largest |a - b| over matching numbers; inf when the structures or non-numbers differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return float("inf")
        return max((largest_difference(a[k], b[k]) for k in a), default=0.0)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return float("inf")
        return max((largest_difference(x, y) for x, y in zip(a, b, strict=True)), default=0.0)
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return abs(a - b)
    return 0.0 if a == b else float("inf")


class Server:
    """The app in its own process on 127.0.0.1; RSS sampled in the background."""

    def __init__(self, port: int, batched: bool) -> None:
        self.started = time.perf_counter()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
        command = [sys.executable, __file__, "--serve", str(port)] + (["--batched"] if batched else [])
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}/"
        self.peak = 0
        self._watch = True
        threading.Thread(target=self._sample, daemon=True).start()

    def rss(self) -> int:
        """The server's resident memory in bytes (Linux /proc; 0 once it has exited)."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0
        line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
        return int(line.split()[1]) * 1024

    def _sample(self) -> None:
        while self._watch:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.1)

    def first_answer(self) -> float:
        """Seconds from the process start to the first /predict answer."""
        from gradio_client import Client

        while True:
            try:
                Client(self.url, verbose=False).predict("the [MASK] sat.", "mini-bert", 1, api_name="/predict")
                return time.perf_counter() - self.started
            except Exception:
                if self.process.poll() is not None:
                    raise RuntimeError("the server exited") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self._watch = False
        self.process.terminate()
        self.process.wait(30)


def load(server: Server, clients: int, requests: int, texts: list[str], expected: dict, predict_name: str) -> dict:
    """`clients` clients at once, `requests` each; latencies, errors, wrong answers, throughput, peak RSS."""
    from gradio_client import Client

    connected = [Client(server.url, verbose=False) for _ in range(clients)]
    jobs = [[(KINDS[(c + i) % len(KINDS)], texts[c * requests + i]) for i in range(requests)]
            for c in range(clients)]
    latencies: list[float] = []
    errors: list[str] = []
    wrong: list[tuple[str, float]] = []
    lock = threading.Lock()

    def run(client: Any, work: list[tuple[str, str]]) -> None:
        for kind, text in work:
            start = time.perf_counter()
            try:
                answer = call(client, kind, text, predict_name)
            except Exception as error:  # counted, reported
                with lock:
                    errors.append(f"{kind}: {error}"[:200])
                continue
            seconds = time.perf_counter() - start
            with lock:
                latencies.append(seconds)
                if answer != expected[(kind, text)]:
                    wrong.append((kind, largest_difference(answer, expected[(kind, text)])))

    server.peak = server.rss()
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, connected, jobs))
    wall = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "clients": clients, "requests": clients * requests, "errors": len(errors), "wrong_answers": len(wrong),
        "wrong_kinds": sorted({k for k, _ in wrong}),
        "largest_difference": max((d for _, d in wrong), default=0.0),
        "requests_per_s": round(len(latencies) / wall, 2),
        "p50_s": round(statistics.median(ordered), 3) if ordered else None,
        "p95_s": round(ordered[int(0.95 * (len(ordered) - 1))], 3) if ordered else None,
        "peak_rss_mb": round(server.peak / 2**20), "first_errors": errors[:3],
    }


def plateau(server: Server, texts: list[str], every: int = 50) -> list[tuple[int, int]]:
    """(texts so far, server RSS in MB) every `every` distinct texts sent one after another to /predict."""
    from gradio_client import Client

    client = Client(server.url, verbose=False)
    points = [(0, round(server.rss() / 2**20))]
    for n, text in enumerate(texts, start=1):
        client.predict(text, "mini-bert", TOP_K, api_name="/predict")
        if n % every == 0:
            points.append((n, round(server.rss() / 2**20)))
    return points


def serve(port: int, batched: bool) -> None:
    """The server process: the app as `mlm-explorer serve` starts it, plus a batched predict when asked."""
    from explorer.ui.app import build_demo, launch
    from explorer.ui.options import ServeOptions

    options = ServeOptions(host="127.0.0.1", port=port, share=False, model=None, allow_local=(), concurrency=4,
                           max_queue=512)
    demo = build_demo(options=options)
    if batched:
        import gradio as gr

        with demo:
            gr.api(batched_predict, api_name="predict_batched", batch=True, max_batch_size=8)
    launch(demo, options)
    threading.Event().wait()


def batched_predict(texts: list[str], models: list[str], top_ks: list[int]) -> tuple[list[dict]]:
    """Predict for a batch of requests with one padded forward pass per model (the experiment)."""
    import torch

    from explorer.documents import predict_document
    from explorer.encoding import encode
    from explorer.fill_mask import build_fill_mask_result
    from explorer.models import load_model

    answers: list[dict] = [{}] * len(texts)
    for name in set(models):
        rows = [i for i, m in enumerate(models) if m == name]
        model = load_model(name)
        encodings = [encode(model, texts[i]) for i in rows]
        batch = model.tokenizer.pad([dict(e.model_inputs) for e in encodings], return_tensors="pt")
        with torch.inference_mode():
            logits = model.model(**batch, return_dict=True).logits.float()  # [batch, pos, vocab]
        for row, i, encoding in zip(range(len(rows)), rows, encodings, strict=True):
            mask_logits = logits[row, list(encoding.mask_positions)]  # [mask, vocab]
            result = build_fill_mask_result(model, encoding, mask_logits, int(top_ks[i]))
            answers[i] = predict_document(model.info, [result])
    return (answers,)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", default="8,32", help="concurrent clients per run, comma-separated")
    ap.add_argument("--requests", type=int, default=10, help="requests per client")
    ap.add_argument("--plateau", type=int, default=300, help="distinct texts in a row for the memory plateau")
    ap.add_argument("--batched", action="store_true", help="also run the load with a batched predict")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    ap.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        serve(args.serve, args.batched)
        return
    from app_server import free_port

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    counts = [int(c) for c in args.clients.split(",")]
    needed = sum(counts) * args.requests
    texts = distinct_texts(needed + args.plateau)
    started = time.perf_counter()
    expected = {}
    offset = 0
    slices = []
    for clients in counts:
        chunk = texts[offset:offset + clients * args.requests]
        slices.append(chunk)
        for c in range(clients):
            for i in range(args.requests):
                kind = KINDS[(c + i) % len(KINDS)]
                expected[(kind, chunk[c * args.requests + i])] = reference(kind, chunk[c * args.requests + i])
        offset += clients * args.requests
    print(f"reference answers in this process: {len(expected)} in {time.perf_counter() - started:.1f} s")
    figures: dict[str, Any] = {"runs": []}
    variants = [("/predict", False)] + ([("/predict_batched", True)] if args.batched else [])
    for predict_name, batched in variants:
        server = Server(free_port(), batched)
        try:
            cold = server.first_answer()
            figures["runs"].append({"batched": batched, "cold_start_s": round(cold, 2),
                                    "rss_after_start_mb": round(server.rss() / 2**20)})
            print(f"\n{'batched predict' if batched else 'plain predict'}: cold start (process start to first "
                  f"answer) {cold:.1f} s, RSS {server.rss() / 2**20:.0f} MB")
            for clients, chunk in zip(counts, slices, strict=True):
                result = load(server, clients, args.requests, chunk, expected, predict_name)
                result["batched"] = batched
                figures["runs"].append(result)
                print(json.dumps(result))
            if not batched and args.plateau:
                points = plateau(server, texts[needed:needed + args.plateau])
                figures["plateau"] = points
                print("RSS (MB) after n distinct texts:", points)
        finally:
            server.stop()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
