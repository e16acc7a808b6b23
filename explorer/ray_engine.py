"""The `--engine ray` scoring: a Ray Data pipeline whose actors each load the model once (the optional extra).

The driver has already read and checked the items; they become a Ray dataset, `map_batches` sends chunks through
an actor pool, and the entries come back in order (`preserve_order`), so the runner's JSONL writer, resume and
summary are the same as in-process. `RAY_ADDRESS` (or an already initialised Ray) picks the cluster.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

from explorer.datasets import Item
from explorer.errors import ExplorerError
from explorer.models import LoadedModel

ACTORS_ENV = "MLM_EXPLORER_RAY_ACTORS"


class ScoringActor:
    """One model per actor, loaded when the actor starts; scores a batch of items into JSON lines."""

    def __init__(self, spec: Any, kind: str, metric: str) -> None:
        from explorer.runner import TASKS

        self.model = spec.load()
        self.score = TASKS[kind].score
        self.metric = metric

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        items = [Item(int(line), str(first), str(second), str(category)) for line, first, second, category
                 in zip(batch["line"], batch["first"], batch["second"], batch["category"], strict=True)]
        entries = self.score(self.model, items, self.metric)
        return {"index": batch["index"], "entry": [json.dumps(e, ensure_ascii=False) for e in entries]}


def ray_engine(model: LoadedModel, spec: Any, kind: str, metric: str, items: Sequence[Item],
               chunk: int) -> Iterator[list[dict[str, Any]]]:
    """Score `items` through a Ray Data actor pool, yielding entries in item order, `chunk` at a time."""
    try:
        import ray
    except ImportError:
        raise ExplorerError('--engine ray needs Ray: pip install "mlm-explorer[ray]" (or "ray[data]").') from None
    if not items:
        return
    started = not ray.is_initialized()
    if started:
        ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, logging_level="ERROR",
                 log_to_driver=False)
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        rows = [{"index": i, "line": item.line, "first": item.first, "second": item.second,
                 "category": item.category} for i, item in enumerate(items)]
        scored = ray.data.from_items(rows).map_batches(
            ScoringActor,
            fn_constructor_kwargs={"spec": spec, "kind": kind, "metric": metric},
            batch_size=chunk,
            batch_format="numpy",
            concurrency=_actor_count(ray),
            num_cpus=1,
        )
        expected = 0
        for batch in scored.iter_batches(batch_size=chunk, batch_format="numpy"):
            indices = [int(i) for i in batch["index"]]
            if indices != list(range(expected, expected + len(indices))):  # preserve_order broken: never silently
                raise ExplorerError("Ray returned results out of order; rerun with --engine local.")
            expected += len(indices)
            yield [json.loads(line) for line in batch["entry"]]
    finally:
        if started:
            ray.shutdown()


def _actor_count(ray: Any) -> int:
    raw = os.environ.get(ACTORS_ENV, "")
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, int(ray.cluster_resources().get("CPU", 1)))
