"""Reading sentences and minimal pairs from files, the format told by the file's first line.

Sentences: one a line, or JSONL with a "text" field. Pairs: the CrowS-Pairs CSV (sent_more, sent_less,
bias_type), BLiMP JSONL (sentence_good, sentence_bad, UID) or a tab-separated file of two columns (a third is the
category; a first line of column names such as "first<TAB>second" is skipped).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from explorer.errors import InputError

# Column names a TSV's header line may use; a first line made only of these is a header, not a pair.
TSV_HEADER_NAMES = frozenset({"first", "second", "category", "sent_more", "sent_less", "sentence_good",
                              "sentence_bad", "good", "bad", "bias_type", "uid", "sentence1", "sentence2"})


@dataclass(frozen=True, slots=True)
class Item:
    """One sentence (`second` empty) or one pair, with the line of the file it came from (1-based)."""

    line: int
    first: str
    second: str = ""
    category: str = ""


@dataclass(frozen=True, slots=True)
class Dataset:
    """What a file holds: `kind` "sentences" or "pairs", the detected `format`, and the items in file order."""

    path: str
    kind: str
    format: str
    items: tuple[Item, ...]


def read_sentences(path: str | Path) -> Dataset:
    """Sentences from a file: one a line, or JSONL whose objects have a "text" field.

    Raises:
        InputError: the file is missing or empty, a line is empty, or a JSONL line has no text.
    """
    lines = _read_lines(path)
    if lines[0][1].lstrip().startswith("{"):
        items = tuple(Item(n, *_text_fields(path, n, _json_object(path, n, line), "text")) for n, line in lines)
        return Dataset(str(path), "sentences", "jsonl", items)
    items = []
    for n, line in lines:
        if not line.strip():
            raise InputError(f"{path}, line {n} is empty; every line must be one sentence (remove empty lines).")
        items.append(Item(n, line))
    return Dataset(str(path), "sentences", "lines", tuple(items))


def read_pairs(path: str | Path) -> Dataset:
    """Minimal pairs from a CrowS-Pairs CSV, a BLiMP JSONL or a two-column TSV, detected from the first line.

    `first` is sent_more / sentence_good / the first column; the category is bias_type / UID / the third column.

    Raises:
        InputError: unknown format, an empty line, or a pair with an empty side (naming the line).
    """
    lines = _read_lines(path)
    header = lines[0][1]
    for detect, reader in _PAIR_FORMATS.values():
        if detect(header):
            dataset = reader(path, lines)
            for item in dataset.items:
                for side, text in (("first", item.first), ("second", item.second)):
                    if not text.strip():
                        raise InputError(f"{path}, line {item.line}: the {side} sentence of the pair is empty; "
                                         f"give both sentences of every pair.")
            return dataset
    raise InputError(
        f"{path}: unknown pairs format (first line {header[:60]!r}). Use a CrowS-Pairs CSV (columns sent_more, "
        f"sent_less, bias_type), a BLiMP JSONL (sentence_good, sentence_bad, UID) or tab-separated "
        f"FIRST<TAB>SECOND[<TAB>CATEGORY] lines."
    )


def _read_lines(path: str | Path) -> list[tuple[int, str]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"No such file: {path}; check the path given to --input.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"Cannot read {path} as UTF-8 text: {error}.") from error
    lines = [(n, line.rstrip("\r")) for n, line in enumerate(text.split("\n"), start=1)]
    if lines and lines[-1][1] == "":  # the newline that ends the last line
        lines.pop()
    if not lines or not any(line.strip() for _, line in lines):
        raise InputError(f"{path} is empty; give one sentence (or pair) a line.")
    return lines


def _json_object(path: str | Path, number: int, line: str) -> dict:
    if not line.strip():
        raise InputError(f"{path}, line {number} is empty; every line must be one JSON object.")
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}, line {number} is not valid JSON ({error.msg}); every line must be one object.") \
            from None
    if not isinstance(value, dict):
        raise InputError(f"{path}, line {number} is not a JSON object.")
    return value


def _text_fields(path: str | Path, number: int, value: dict, *names: str) -> tuple[str, ...]:
    fields = tuple(value.get(name) for name in names)
    for name, field in zip(names, fields, strict=True):
        if not isinstance(field, str):
            raise InputError(f"{path}, line {number} has no text field {name!r}.")
    return fields


def _read_crows(path: str | Path, lines: list[tuple[int, str]]) -> Dataset:
    for n, line in lines:
        if not line.strip():  # csv skips blank lines silently
            raise InputError(f"{path}, line {n} is empty; remove empty lines.")
    # the lines as split by _read_lines (on "\n" only: U+2028 inside a sentence is text, not a line break)
    reader = csv.DictReader(f"{line}\n" for _, line in lines)
    items = []
    for row in reader:
        items.append(Item(reader.line_num, row.get("sent_more") or "", row.get("sent_less") or "",
                          row.get("bias_type") or ""))
    return Dataset(str(path), "pairs", "crows-pairs", tuple(items))


def _read_blimp(path: str | Path, lines: list[tuple[int, str]]) -> Dataset:
    items = []
    for n, line in lines:
        value = _json_object(path, n, line)
        good, bad = _text_fields(path, n, value, "sentence_good", "sentence_bad")
        uid = value.get("UID", "")
        items.append(Item(n, good, bad, uid if isinstance(uid, str) else str(uid)))
    return Dataset(str(path), "pairs", "blimp", tuple(items))


def _read_tsv(path: str | Path, lines: list[tuple[int, str]]) -> Dataset:
    if {cell.strip().lower() for cell in lines[0][1].split("\t")} <= TSV_HEADER_NAMES:
        lines = lines[1:]
    items = []
    for n, line in lines:
        if not line.strip():
            raise InputError(f"{path}, line {n} is empty; every line must be FIRST<TAB>SECOND (remove empty lines).")
        cells = line.split("\t")
        if len(cells) not in (2, 3):
            raise InputError(f"{path}, line {n} has {len(cells)} tab-separated columns; give FIRST<TAB>SECOND "
                             f"and optionally <TAB>CATEGORY.")
        items.append(Item(n, cells[0], cells[1], cells[2] if len(cells) == 3 else ""))
    return Dataset(str(path), "pairs", "tsv", tuple(items))


def _is_crows_header(header: str) -> bool:
    columns = {c.strip().strip('"') for c in next(csv.reader([header]))}
    return {"sent_more", "sent_less"} <= columns


def _is_blimp_line(header: str) -> bool:
    if not header.lstrip().startswith("{"):
        return False
    try:
        value = json.loads(header)
    except json.JSONDecodeError:
        return False
    return isinstance(value, dict) and "sentence_good" in value and "sentence_bad" in value


_PAIR_FORMATS: dict[str, tuple[Callable[[str], bool], Callable[..., Dataset]]] = {
    "crows-pairs": (_is_crows_header, _read_crows),
    "blimp": (_is_blimp_line, _read_blimp),
    "tsv": (lambda header: "\t" in header, _read_tsv),
}
