"""Build the training corpus for the bundled masked LMs from Debian packages.

Each source package is fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x`` into a temporary
folder (nothing is installed system-wide), its prose is extracted and cleaned, paragraphs are de-duplicated
across the whole corpus, and documents are split into train / held-out by a seeded hash of the document id,
so the split does not depend on the order or on which other sources are present.

Output (outside the repository, never committed)::

    /root/mlm-data/corpus/train.jsonl     {"id", "source", "text"} one document a line, paragraphs joined by \\n
    /root/mlm-data/corpus/heldout.jsonl   same; never trained on
    /root/mlm-data/corpus/manifest.json   sources, package versions, licences, decisions, sizes, sha256
    /root/mlm-data/corpus/licences/       each package's Debian copyright file

Usage: ``python scripts/build_corpus.py [--out /root/mlm-data/corpus] [--seed 1234]``
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import json
import re
import shutil
import struct
import subprocess
import tempfile
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

Doc = tuple[str, list[str]]  # (document id, paragraphs)

# Only public-domain and permissively licensed text goes into weights we ship: the status of weights trained on
# copyleft (GPL, GFDL, MPL, CC-BY-SA) text is unsettled, and the permissive set is large enough here.
POLICY = (
    "Included: public domain and permissive licences (PSF, BSD, MIT/Apache-2.0, PostgreSQL, WordNet). "
    "Excluded: copyleft or share-alike text (GPL, GFDL, MPL, CC-BY-SA), because the licence status of model "
    "weights trained on it is unsettled and the permissive sources suffice for a demo model."
)


@dataclass
class Source:
    """One Debian package and how to read prose out of it."""

    name: str
    package: str
    licence: str
    kind: str  # what the text is like, for the model card
    extract: Callable[[Path], Iterator[Doc]] | None
    include: bool = True
    reason: str = ""
    max_chars: int | None = None  # cap so that technical manuals (~45% uncapped) do not swamp the everyday text
    stats: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------- cleaning

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u00ad": ""})
_WS = re.compile(r"\s+")
_CODEY = re.compile(r"[_{}<>=\\|@#$]|\(\)|::|->|\w\.\w+\(")


def clean(text: str) -> str:
    """Normalise unicode, quotes and whitespace."""
    text = unicodedata.normalize("NFKC", html.unescape(text)).translate(_QUOTES)
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    return _WS.sub(" ", text).strip()


def is_prose(par: str, min_words: int = 6) -> bool:
    """Keep sentences, drop navigation, code, tables and headings."""
    words = par.split()
    if len(words) < min_words or not re.search(r"[.!?:;]", par):
        return False
    visible = [c for c in par if not c.isspace()]
    alpha = sum(c.isalpha() for c in visible) / max(1, len(visible))
    codey = sum(bool(_CODEY.search(w)) for w in words) / len(words)
    return alpha >= 0.75 and codey <= 0.15


# ----------------------------------------------------------------------------------------------- extractors


class _ParagraphParser(HTMLParser):
    """Collect the text of block elements, skipping code, scripts and page chrome."""

    BLOCK = {
        "p",
        "li",
        "dd",
        "dt",
        "div",
        "blockquote",
        "td",
        "th",
        "tr",
        "table",
        "section",
        "br",
        "ul",
        "ol",
        "dl",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "article",
        "body",
        "figcaption",
        "caption",
    }
    SKIP = {"pre", "script", "style", "head", "title", "nav", "header", "footer", "svg", "math", "textarea"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._buf: list[str] = []
        self._skip = 0

    def _flush(self) -> None:
        if self._buf:
            self.paragraphs.append("".join(self._buf))
            self._buf = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self._skip += 1
        if tag in self.BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        if tag in self.BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._buf.append(data)


def html_paragraphs(path: Path) -> list[str]:
    """Prose paragraphs of one HTML page."""
    parser = _ParagraphParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    parser._flush()
    return [p for p in (clean(x) for x in parser.paragraphs) if is_prose(p)]


def html_tree(subdirs: list[str], exclude: tuple[str, ...] = ()) -> Callable[[Path], Iterator[Doc]]:
    """Every HTML page under the given folders of the unpacked package is one document."""

    def extract(root: Path) -> Iterator[Doc]:
        for sub in subdirs:
            base = root / sub
            for path in sorted(base.rglob("*.htm*")):
                rel = str(path.relative_to(root))
                if any(x in rel for x in exclude):
                    continue
                pars = html_paragraphs(path)
                if pars:
                    yield rel.removeprefix("usr/share/doc/"), pars

    return extract


def chunked(items: list[str], size: int, prefix: str) -> Iterator[Doc]:
    """Group short entries (definitions, fortunes) into documents of `size`, so the split is by document."""
    for i in range(0, len(items), size):
        yield f"{prefix}#{i // size}", items[i : i + size]


def wordnet_synsets(root: Path, pos: str) -> list[tuple[list[str], list[str], list[str]]]:
    """(lemmas, definitions, usage examples) of every synset of one part of speech, in file order."""
    synsets = []
    for line in (root / f"usr/share/wordnet/data.{pos}").read_text(encoding="latin-1").splitlines():
        if line.startswith(" ") or "|" not in line:
            continue  # licence header
        head, gloss = line.split("|", 1)
        fields = head.split()
        n_words = int(fields[3], 16)
        lemmas = [re.sub(r"\(.*\)$", "", fields[4 + 2 * i]).replace("_", " ") for i in range(n_words)]
        parts = [p.strip() for p in gloss.split(";") if p.strip()]
        defs = [p for p in parts if not p.startswith('"')]
        examples = [p.strip('"') for p in parts if p.startswith('"')]
        synsets.append((lemmas, defs, examples))
    return synsets


WORDNET_CHUNK = 40  # synsets a document; wordnet-examples reuses the same document ids, hence the same split


def wordnet(root: Path) -> Iterator[Doc]:
    """WordNet synsets as 'lemma, lemma: gloss. "example".', 40 synsets a document."""
    for pos in ("noun", "verb", "adj", "adv"):
        entries = []
        for lemmas, defs, examples in wordnet_synsets(root, pos):
            text = f"{', '.join(lemmas[:3])}: {'; '.join(defs)}."
            text += "".join(f" {e[0].upper()}{e[1:]}." for e in examples if e)
            entries.append(clean(text))
        yield from chunked(entries, WORDNET_CHUNK, f"wordnet/{pos}")


def wordnet_examples(root: Path) -> Iterator[Doc]:
    """WordNet's usage examples alone, one sentence a paragraph: everyday modern English without the gloss.

    A document holds the examples of the same 40 synsets as the `wordnet` document of the same id, so an
    example is held out exactly when its gloss is (no held-out text leaks into training through this source).
    """
    for pos in ("noun", "verb", "adj", "adv"):
        synsets = wordnet_synsets(root, pos)
        for i in range(0, len(synsets), WORDNET_CHUNK):
            pars = []
            for _, _, examples in synsets[i : i + WORDNET_CHUNK]:
                for e in examples:
                    e = clean(e)
                    if len(e.split()) >= 3:
                        pars.append(e[0].upper() + e[1:] + ("" if e[-1] in ".!?" else "."))
            if pars:
                yield f"wordnet/{pos}#{i // WORDNET_CHUNK}", pars


def dictd(name: str) -> Callable[[Path], Iterator[Doc]]:
    """A dictd database (index + dictzip data) as 'headword: definition' entries, 20 a document."""
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    def num(s: str) -> int:
        n = 0
        for ch in s:
            n = n * 64 + b64.index(ch)
        return n

    def extract(root: Path) -> Iterator[Doc]:
        base = root / "usr/share/dictd"
        data = gzip.decompress((base / f"{name}.dict.dz").read_bytes())
        entries = []
        for line in (base / f"{name}.index").read_text(encoding="utf-8").splitlines():
            word, off, length = line.split("\t")[:3]
            if word.startswith("00-database"):
                continue
            body = data[num(off) : num(off) + num(length)].decode("utf-8", errors="replace")
            lines = body.splitlines()[1:]  # the first line repeats the headword
            text = clean(" ".join(lines))
            if len(text.split()) >= 4:
                entries.append(f"{word}: {text}")
        yield from chunked(entries, 20, name)

    return extract


def fortunes(root: Path) -> Iterator[Doc]:
    """fortune(6) cookies, 25 a document.

    Skipped: ascii-art, non-English (translate-me), ethnic jokes, and song lyrics / novel excerpts whose
    authors' copyright the package's BSD licence cannot cover (songs-poems, pratchett).
    """
    skip = {"ascii-art", "translate-me", "ethnic", "songs-poems", "pratchett"}
    for path in sorted((root / "usr/share/games/fortunes").glob("*.u8")):
        if path.stem in skip:
            continue
        cookies = [clean(c) for c in path.read_text(encoding="utf-8", errors="replace").split("\n%\n")]
        yield from chunked([c for c in cookies if len(c.split()) >= 4], 25, f"fortunes/{path.stem}")


def sword_ztext(module_dir: str, prefix: str) -> Callable[[Path], Iterator[Doc]]:
    """A SWORD zText (OSIS) Bible module, one chapter a document, footnotes and titles dropped."""

    def extract(root: Path) -> Iterator[Doc]:
        base = root / module_dir
        for testament in ("ot", "nt"):
            index = (base / f"{testament}.bzs").read_bytes()
            blob = (base / f"{testament}.bzz").read_bytes()
            for i in range(len(index) // 12):
                off, size, _ = struct.unpack("<III", index[12 * i : 12 * i + 12])
                osis = zlib.decompress(blob[off : off + size]).decode("utf-8", errors="replace")
                osis = re.sub(r"<note\b.*?</note>|<title\b.*?</title>", " ", osis, flags=re.S)
                for chap in re.split(r'(?=<chapter\b[^>]*\bsID=")', osis):
                    m = re.match(r'<chapter\b[^>]*\bsID="([^"]+)"', chap)
                    if not m:
                        continue
                    # paragraph ends (eID of an x-p div) become paragraph breaks
                    chap = re.sub(r'<div\b[^>]*eID="[^"]*"[^>]*type="x-p"[^>]*/>', "\n", chap)
                    text = re.sub(r"<[^>]+>", "", chap)
                    pars = [clean(p) for p in text.split("\n")]
                    pars = [p for p in pars if len(p.split()) >= 3]
                    if pars:
                        yield f"{prefix}/{m.group(1)}", pars

    return extract


def r_objects(path: Path) -> dict:
    """The data objects of an R package's lazy-load database (``data/Rdata.rdx`` + ``.rdb``), or of an ``.rda``.

    Read with the ``rdata`` package (PyPI, MIT), so R itself is not needed. In an ``.rdb`` each object is a
    4-byte length, a compression tag (none: zlib; ``Z`` zlib, ``2`` bzip2, ``X`` xz, ``0`` none) and a serialised
    R object.
    """
    import bz2
    import lzma

    try:
        import rdata
    except ImportError:
        raise SystemExit("pip install rdata==1.1.0   (reads the R data packages; see scripts/README.md)") from None
    if path.suffix == ".rda":
        return rdata.read_rda(path)

    def unpack(blob: bytes) -> bytes:
        if blob[:2] == b"\x1f\x8b":
            return gzip.decompress(blob)
        tagged = {b"Z": zlib.decompress, b"2": bz2.decompress, b"X": lzma.decompress, b"0": bytes}
        if blob[4:5] in tagged:
            return tagged[blob[4:5]](blob[5:])
        return zlib.decompress(blob[4:])  # R's default: zlib with no tag

    def parse(raw: bytes):
        return rdata.conversion.convert(rdata.parser.parse_data(raw, extension="rds"))

    index = parse(unpack(path.with_suffix(".rdx").read_bytes()))
    blob = path.with_suffix(".rdb").read_bytes()
    return {name: parse(unpack(blob[int(o) : int(o) + int(n)])) for name, (o, n) in index["variables"].items()}


_BOILERPLATE = re.compile(r"gutenberg|produced by|e-?text|e-?book|www\.|\bhttp|transcriber|\[illustration", re.I)


def book_paragraphs(lines: list[str]) -> list[str]:
    """Paragraphs of a plain-text book given as lines (blank lines separate paragraphs); chapter headings,
    title lines and Project Gutenberg notes dropped."""
    pars, buf = [], []
    for line in [*lines, ""]:
        if line.strip():
            buf.append(line.strip())
        elif buf:
            pars.append(clean(" ".join(buf)))
            buf = []
    return [p for p in pars if len(p.split()) >= 4 and re.search(r"[a-z]", p) and not _BOILERPLATE.search(p)]


def r_books(package_dir: str, skip: tuple[str, ...] = ()) -> Callable[[Path], Iterator[Doc]]:
    """Novels shipped as R data: a character vector of lines per book, or a data frame (text, title) per line;
    30 paragraphs a document."""

    def extract(root: Path) -> Iterator[Doc]:
        base = root / "usr/lib/R/site-library" / package_dir
        rda = sorted(base.glob("extdata/*.rda"))
        objects = r_objects(rda[0]) if rda else r_objects(base / "data/Rdata.rdb")
        books: dict[str, list[str]] = {}
        for name, value in objects.items():
            if hasattr(value, "columns"):  # a data frame of lines with a title column
                for title, group in value.groupby("title", sort=True):
                    books[str(title)] = [str(t) for t in group["text"]]
            else:
                books[name] = [str(t) for t in value]
        for title in sorted(books):
            if title in skip:
                continue
            lines = books[title]
            if len(lines) == 1:  # one string holding the whole text (tokenizers' mobydick)
                text = lines[0].replace("\r\n", "\n")
                text = text.split("*** START OF", 1)[-1].split("\n", 1)[-1].split("*** END OF", 1)[0]
                lines = text.split("\n")
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
            yield from chunked(book_paragraphs(lines), 30, f"{package_dir}/{slug}")

    return extract


def r_sentences(package_dir: str, name: str) -> Callable[[Path], Iterator[Doc]]:
    """A character vector of sentences in an R package's data, 10 a document."""

    def extract(root: Path) -> Iterator[Doc]:
        values = r_objects(root / "usr/lib/R/site-library" / package_dir / "data/Rdata.rdb")[name]
        yield from chunked([clean(str(v)) for v in values], 10, f"{package_dir}/{name}")

    return extract


RUST_BOOKS = ["book", "edition-guide", "embedded-book", "nomicon", "reference", "rust-by-example", "rustc", "rustdoc"]
MB = 1_000_000

SOURCES = [
    Source(
        "wordnet",
        "wordnet-base",
        "WordNet-3.0 (permissive, BSD-like)",
        "dictionary glosses and usage examples",
        wordnet,
    ),
    Source(
        "web-bible",
        "sword-text-web",
        "public domain",
        "World English Bible, modern English",
        sword_ztext("usr/share/sword/modules/texts/ztext/engWEB2015eb", "bible"),
    ),
    Source(
        "python-docs",
        "python3.11-doc",
        "PSF-2.0",
        "Python tutorial, library and language reference",
        html_tree(["usr/share/doc/python3.11/html"], ("genindex", "_sources", "/py-modindex", "whatsnew/changelog")),
        max_chars=4 * MB,
    ),
    Source(
        "django-docs",
        "python-django-doc",
        "BSD-3-Clause",
        "Django web framework manual",
        html_tree(["usr/share/doc/python-django-doc/html"], ("_modules", "genindex", "releases/")),
        max_chars=4 * MB,
    ),
    Source(
        "postgresql-docs",
        "postgresql-doc-15",
        "PostgreSQL (permissive, BSD-like)",
        "PostgreSQL manual",
        html_tree(["usr/share/doc/postgresql-doc-15/html"], ("release-",)),
        max_chars=2_500_000,
    ),
    Source(
        "sqlite-docs",
        "sqlite3-doc",
        "public domain",
        "SQLite documentation",
        html_tree(["usr/share/doc/sqlite3"], ("releaselog", "changes.html", "chronology")),
        max_chars=1_500_000,
    ),
    Source(
        "rust-books",
        "rust-doc",
        "MIT OR Apache-2.0",
        "The Rust book, reference, Rust by Example, guides",
        html_tree([f"usr/share/doc/rust-doc/html/{b}" for b in RUST_BOOKS], ("print.html", "toc.html", "404.html")),
        max_chars=4 * MB,
    ),
    Source(
        "fortunes", "fortunes", "BSD (fortune-mod package); short quotations", "quotations, jokes, aphorisms", fortunes
    ),
    Source(
        "cfi-en",
        "cfi-en",
        "public domain",
        "'Copyright does not exist', a history of hacker culture",
        html_tree(["usr/share/doc/cfi-en/html"]),
    ),
    Source("jargon", "dict-jargon", "public domain", "the Jargon File, hacker slang", dictd("jargon")),
    Source(
        "devils-dictionary",
        "dict-devil",
        "public domain",
        "Ambrose Bierce, The Devil's Dictionary (1911)",
        dictd("devil"),
    ),
    Source(
        "maint-guide",
        "maint-guide",
        "MIT (Expat)",
        "Debian New Maintainers' Guide",
        html_tree(
            ["usr/share/doc/maint-guide/html"],
            (".ca.", ".de.", ".es.", ".fr.", ".it.", ".ja.", ".pt.", ".ru.", ".zh-", ".zh_"),
        ),
    ),
    # Issue 13: everyday English. Appended after the sources above, which therefore keep exactly their documents
    # and split (the held-out split of issue 3 is a subset of this one, source by source).
    Source(
        "wordnet-examples",
        "wordnet-base",
        "WordNet-3.0 (permissive, BSD-like)",
        "WordNet's usage examples alone, one sentence a paragraph (modern everyday English)",
        wordnet_examples,
    ),
    Source(
        "harvard-sentences",
        "r-cran-stringr",
        "MIT (stringr); the Harvard sentences of the IEEE 1969 speech-quality recommendation",
        "720 short everyday sentences ('The birch canoe slid on the smooth planks.')",
        r_sentences("stringr", "sentences"),
    ),
    Source(
        "austen",
        "r-cran-janeaustenr",
        "public domain (novels 1811-1818); packaged under MIT by janeaustenr",
        "Jane Austen's six novels: narrative and dialogue about households, visits, meals, letters",
        r_books("janeaustenr"),
    ),
    Source(
        "tidytext-books",
        "r-cran-tidytext",
        "public domain (Project Gutenberg texts); packaged under MIT by tidytext",
        "Dickens' Great Expectations, Wells' The War of the Worlds, Verne's Twenty Thousand Leagues",
        r_books("tidytext", skip=("Pride and Prejudice",)),  # already in austen
    ),
    Source(
        "moby-dick",
        "r-cran-tokenizers",
        "public domain (Project Gutenberg text); packaged under MIT by tokenizers",
        "Herman Melville, Moby Dick (1851)",
        r_books("tokenizers"),
    ),
    # Measured in the feasibility run (issue 3) or considered, and left out on purpose:
    Source(
        "gcide",
        "dict-gcide",
        "GPL-2+",
        "Webster 1913 + additions",
        None,
        include=False,
        reason="copyleft (GPL); archaic dictionary prose",
    ),
    Source("foldoc", "dict-foldoc", "GFDL-1.1+", "computing dictionary", None, include=False, reason="copyleft (GFDL)"),
    Source(
        "kjv-bible",
        "bible-kjv-text",
        "public domain (UK Crown patent)",
        "King James Bible",
        None,
        include=False,
        reason="archaic English; the World English Bible covers the same text in modern English",
    ),
    Source(
        "gnome-user-docs",
        "gnome-user-docs",
        "CC-BY-SA-3.0",
        "desktop help",
        None,
        include=False,
        reason="share-alike licence",
    ),
    Source(
        "libreoffice-help",
        "libreoffice-help-en-us",
        "MPL-2.0",
        "office help",
        None,
        include=False,
        reason="copyleft (MPL-2.0)",
    ),
    Source(
        "debian-handbook",
        "debian-handbook",
        "GPL-2+ / CC-BY-SA-3.0",
        "admin handbook",
        None,
        include=False,
        reason="copyleft / share-alike",
    ),
    Source(
        "chatterbot-corpus",
        "chatterbot-corpus (PyPI)",
        "BSD-3-Clause",
        "chat-bot question/answer pairs",
        None,
        include=False,
        reason="small (0.24M chars) and mostly a robot talking about being a robot",
    ),
    Source(
        "ktouch",
        "ktouch",
        "GPL-2+",
        "typing-lesson sentences",
        None,
        include=False,
        reason="copyleft (GPL)",
    ),
]


# ----------------------------------------------------------------------------------------------- pipeline


def fetch(package: str, tmp: Path) -> tuple[Path, str]:
    """apt-get download + dpkg-deb -x into tmp; returns (unpacked root, version)."""
    subprocess.run(["apt-get", "download", package], cwd=tmp, check=True, capture_output=True)
    deb = next(tmp.glob(f"{package}_*.deb"))
    version = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True, text=True
    ).stdout.strip()
    root = tmp / package
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    deb.unlink()
    return root, version


def norm_key(par: str) -> bytes:
    """Key for de-duplication: case, punctuation and spacing do not make a paragraph new."""
    return hashlib.blake2b(re.sub(r"[^a-z0-9]+", " ", par.lower()).strip().encode(), digest_size=16).digest()


def is_heldout(doc_id: str, seed: int, frac: float) -> bool:
    """Seeded hash of the document id: stable whatever else is in the corpus."""
    h = int.from_bytes(hashlib.sha256(f"{seed}:{doc_id}".encode()).digest()[:8], "big")
    return h / 2**64 < frac


def sha256_file(path: Path) -> str:
    """Hex digest of a file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build(out: Path, seed: int, heldout_frac: float) -> dict:
    """Fetch, extract, clean, de-duplicate and split all included sources; write the corpus and manifest."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "licences").mkdir(exist_ok=True)
    seen: set[bytes] = set()
    totals = {"train": 0, "heldout": 0}
    with (
        tempfile.TemporaryDirectory(prefix="mlm-corpus-") as tmpdir,
        (out / "train.jsonl.tmp").open("w", encoding="utf-8") as ftrain,
        (out / "heldout.jsonl.tmp").open("w", encoding="utf-8") as fheld,
    ):
        tmp = Path(tmpdir)
        for src in SOURCES:
            if not src.include:
                continue
            root, version = fetch(src.package, tmp)
            for cp in root.glob("usr/share/doc/*/copyright"):
                shutil.copy(cp, out / "licences" / f"{src.package}.copyright")
            st = {
                "version": version,
                "documents": 0,
                "paragraphs": 0,
                "duplicates": 0,
                "chars": 0,
                "train_chars": 0,
                "heldout_chars": 0,
                "capped": False,
            }
            assert src.extract is not None
            docs = list(src.extract(root))
            if src.max_chars:
                # a capped source keeps a seeded sample of its pages, not the alphabetically first ones
                docs.sort(key=lambda d: hashlib.sha256(f"{seed}:{d[0]}".encode()).digest())
            for doc_id, pars in docs:
                kept = []
                for p in pars:
                    k = norm_key(p)
                    if k in seen:
                        st["duplicates"] += 1
                        continue
                    seen.add(k)
                    kept.append(p)
                if not kept:
                    continue
                text = "\n".join(kept)
                if src.max_chars and st["chars"] + len(text) > src.max_chars:
                    st["capped"] = True
                    continue
                split = "heldout" if is_heldout(doc_id, seed, heldout_frac) else "train"
                line = json.dumps({"id": f"{src.name}:{doc_id}", "source": src.name, "text": text}, ensure_ascii=False)
                (fheld if split == "heldout" else ftrain).write(line + "\n")
                st["documents"] += 1
                st["paragraphs"] += len(kept)
                st["chars"] += len(text)
                st[f"{split}_chars"] += len(text)
                totals[split] += len(text)
            src.stats = st
            shutil.rmtree(root)
            print(
                f"{src.name:18s} {src.package:20s} {version:28s} docs={st['documents']:6d} "
                f"chars={st['chars'] / MB:6.2f}M dup_pars={st['duplicates']}{' (capped)' if st['capped'] else ''}",
                flush=True,
            )
    for split in ("train", "heldout"):
        (out / f"{split}.jsonl.tmp").replace(out / f"{split}.jsonl")
    manifest = {
        "description": "Corpus for MLM Explorer's bundled masked LMs (scripts/build_corpus.py)",
        "policy": POLICY,
        "seed": seed,
        "heldout_fraction": heldout_frac,
        "split": "document-level, sha256(f'{seed}:{doc_id}') < fraction -> heldout",
        "dedup": "exact paragraph de-duplication after lower-casing and dropping punctuation, in source order",
        "chars": totals,
        "files": {s: {"path": f"{s}.jsonl", "sha256": sha256_file(out / f"{s}.jsonl")} for s in ("train", "heldout")},
        "sources": [
            {
                "name": s.name,
                "debian_package": s.package,
                "licence": s.licence,
                "content": s.kind,
                "included": s.include,
                "reason": s.reason or None,
                "max_chars": s.max_chars,
                **s.stats,
            }
            for s in SOURCES
        ],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"train {totals['train'] / MB:.2f}M chars, heldout {totals['heldout'] / MB:.2f}M chars -> {out}")
    return manifest


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("/root/mlm-data/corpus"))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--heldout-frac", type=float, default=0.03)
    args = ap.parse_args()
    build(args.out, args.seed, args.heldout_frac)


if __name__ == "__main__":
    main()
