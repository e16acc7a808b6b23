"""Scoring a dataset file: checked first, scored in chunks, streamed to a resumable JSONL file, progress on stderr.

Every line of the output file is one finished item (the `score` or `pairs` document's entry), written and flushed
as soon as its chunk is done. A rerun with the same output file resumes after the last complete line; Ctrl-C
leaves only complete lines behind.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from explorer.datasets import Dataset, Item
from explorer.documents import pair_score_document, sentence_score_document
from explorer.errors import InputError
from explorer.models import LoadedModel, load_model
from explorer.scoring import PAIR_METRICS, SENTENCE_METRICS, check_metric, encode_sentence, score_pairs, score_sentences

DEFAULT_CHUNK = 64  # items per chunk: their masked copies are length-sorted and batched together


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """How to load the model again elsewhere (a Ray actor): what `load_model` was given."""

    name: str
    device: str = "auto"
    dtype: str | None = None
    trust_remote_code: bool = False

    def load(self) -> LoadedModel:
        return load_model(self.name, device=self.device, dtype=self.dtype, trust_remote_code=self.trust_remote_code)


def score_sentence_items(model: LoadedModel, items: Sequence[Item], metric: str) -> list[dict[str, Any]]:
    """One `score` entry per sentence item."""
    return [sentence_score_document(s) for s in score_sentences(model, [i.first for i in items], metric)]


def score_pair_items(model: LoadedModel, items: Sequence[Item], metric: str) -> list[dict[str, Any]]:
    """One `pairs` entry per pair item."""
    result = score_pairs(model, [(i.first, i.second, i.category) for i in items], metric)
    return [pair_score_document(p) for p in result.pairs]


@dataclass(frozen=True, slots=True)
class Task:
    metrics: dict
    score: Callable[[LoadedModel, Sequence[Item], str], list[dict[str, Any]]]
    same_item: Callable[[dict[str, Any], Item], bool]  # whether a line read back is this item's result


TASKS: dict[str, Task] = {
    "sentences": Task(SENTENCE_METRICS, score_sentence_items, lambda entry, item: entry.get("text") == item.first),
    "pairs": Task(PAIR_METRICS, score_pair_items,
                  lambda entry, item: (entry.get("first"), entry.get("second")) == (item.first, item.second)),
}

Engine = Callable[[LoadedModel, ModelSpec, str, str, Sequence[Item], int], Iterator[list[dict[str, Any]]]]


def local_engine(model: LoadedModel, spec: ModelSpec, kind: str, metric: str, items: Sequence[Item],
                 chunk: int) -> Iterator[list[dict[str, Any]]]:
    """Score `items` in this process, `chunk` at a time, yielding each chunk's entries in order."""
    for start in range(0, len(items), chunk):
        yield TASKS[kind].score(model, items[start:start + chunk], metric)


def _ray_engine(*args: Any) -> Iterator[list[dict[str, Any]]]:
    from explorer.ray_engine import ray_engine  # Ray is an optional extra: imported only when asked for

    return ray_engine(*args)


ENGINES: dict[str, Engine] = {"local": local_engine, "ray": _ray_engine}


def check_dataset(model: LoadedModel, dataset: Dataset) -> None:
    """Tokenise every sentence once (no forward pass), so a bad line fails before any scoring, naming its line."""
    for item in dataset.items:
        for text in (item.first, item.second) if dataset.kind == "pairs" else (item.first,):
            try:
                encode_sentence(model, text)
            except InputError as error:
                raise InputError(f"{dataset.path}, line {item.line}: {error}") from None


def read_finished(output: Path, dataset: Dataset) -> list[dict[str, Any]]:
    """The complete lines already in `output` (a partial last line, from a hard kill, is cut off).

    Raises:
        InputError: the lines are not results of this file's items in order (another input's output file).
    """
    if not output.exists():
        return []
    raw = output.read_bytes()
    complete = raw[: raw.rfind(b"\n") + 1]
    if len(complete) != len(raw):
        with output.open("r+b") as handle:
            handle.truncate(len(complete))
    entries = []
    task = TASKS[dataset.kind]
    for number, line in enumerate(complete.decode("utf-8").splitlines(), start=1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise InputError(f"{output}, line {number} is not a result line; use another --output file.") from None
        if number > len(dataset.items) or not isinstance(entry, dict) or not task.same_item(entry,
                                                                                            dataset.items[number - 1]):
            raise InputError(f"{output} holds results of other input (line {number} does not match "
                             f"{dataset.path}); use another --output file, or delete it to start over.")
        entries.append(entry)
    return entries


def check_run_options(kind: str, metric: str, engine: str, chunk: int) -> None:
    """Refuse an unknown metric for the dataset's kind ("sentences" or "pairs"), an unknown engine or a chunk size
    below 1; cheap, so the command line calls it before loading the model."""
    check_metric(metric, TASKS[kind].metrics)
    if engine not in ENGINES:
        raise InputError(f"Unknown engine {engine!r}; use one of {', '.join(ENGINES)}.")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise InputError(f"The chunk size must be a whole number of at least 1, not {chunk!r}.")


def run_dataset(
    model: LoadedModel,
    dataset: Dataset,
    metric: str,
    output: str | Path | None = None,
    *,
    spec: ModelSpec | None = None,
    engine: str = "local",
    chunk: int = DEFAULT_CHUNK,
    progress: IO[str] | None = sys.stderr,
) -> list[dict[str, Any]]:
    """Score every item of `dataset`, streaming entries to `output` (JSONL) and resuming after its last line.

    Args:
        model: the loaded model (checks every item before the first pass; the local engine scores with it).
        dataset: from `read_sentences` or `read_pairs`.
        metric: a metric of `score_sentences` (sentences) or `score_pairs` (pairs).
        output: the JSONL file; None keeps the results in memory only.
        spec: how engines that load their own copy (ray) load the model; default: by `model`'s source.
        engine: "local" (this process) or "ray" (a Ray Data pipeline; the optional extra).
        chunk: items scored together.
        progress: where the progress line goes (None: nowhere).
    Returns:
        Every item's entry in file order: those read back from `output`, then the new ones.
    """
    check_run_options(dataset.kind, metric, engine, chunk)
    check_dataset(model, dataset)
    path = Path(output) if output is not None else None
    entries = read_finished(path, dataset) if path is not None else []
    remaining = dataset.items[len(entries):]
    spec = spec or ModelSpec(model.info.source, device=model.info.device, dtype=model.info.dtype)
    meter = ProgressMeter(len(dataset.items), len(entries), progress)
    sink = path.open("a", encoding="utf-8") if path is not None else None
    try:
        for batch in ENGINES[engine](model, spec, dataset.kind, metric, remaining, chunk):
            if sink is not None:
                # One write per chunk, then flush: an interrupted run leaves whole lines only.
                sink.write("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in batch))
                sink.flush()
            entries += batch
            meter.update(len(entries))
    except KeyboardInterrupt:
        meter.close()
        if path is not None and progress is not None:
            progress.write(f"interrupted: {len(entries)} of {len(dataset.items)} items are in {path}; run the same "
                           f"command again to resume.\n")
        raise
    finally:
        if sink is not None:
            sink.close()
    meter.close()
    return entries


class ProgressMeter:
    """"done/total, items/s, time left" on one line of a terminal (a line every few seconds elsewhere)."""

    def __init__(self, total: int, done: int, stream: IO[str] | None, every_s: float = 5.0) -> None:
        self.total, self.start_done, self.stream, self.every_s = total, done, stream, every_s
        self.started = self.last = time.monotonic()
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.shown = False

    def update(self, done: int) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        if not self.tty and now - self.last < self.every_s and done < self.total:
            return
        self.last = now
        rate = (done - self.start_done) / max(now - self.started, 1e-9)
        left = (self.total - done) / rate if rate > 0 else float("inf")
        line = f"{done}/{self.total} items  {rate:.1f} items/s  {format_duration(left)} left"
        self.stream.write(f"\r{line}" if self.tty else f"{line}\n")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.stream is not None and self.tty and self.shown:
            self.stream.write("\n")
            self.shown = False


def format_duration(seconds: float) -> str:
    """3 s, 4m05s, 2h07m; "?" when unknown."""
    if seconds != seconds or seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
