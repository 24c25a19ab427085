"""Every Markdown field of a bank, parsed once: its analysis (for validation) and its HTML.

Parsing Markdown (markdown-it-py, pure Python) is most of what a large bank costs before any
output is made: about 1.5 s for 1000 questions. `prepare()` therefore does it once per field
and returns a `Prepared` value that validation and rendering both read — passed explicitly, never
kept in module state. Two things make it faster without changing any result:

- fields whose text the previous build into the same output folder saw come from its cache file
  (`MarkdownCache`: JSON keyed by a hash of each text and how it is read, valid only for the exact
  markup code and library versions that wrote it; anything unreadable or stale is ignored);
- the rest are parsed in `jobs` forked processes when there are enough of them to pay for it.

The same function (`process`) computes every result wherever it runs, so a cached, parallel or
serial preparation gives identical values (tested byte for byte on the outputs).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from deckbook import analysis, markup, mathtex, mdext
from deckbook.fields import Field, FieldKey
from deckbook.files import write_if_changed

CACHE_NAME = "markdown.json"
MIN_PARALLEL = 600  # fewer fields than this are parsed faster than a process pool starts


@dataclass(frozen=True)
class FieldResult:
    """What one field yields: findings and measures for validation; HTML for every output, with a
    slot for each formula (drawn in `math`, in slot order) and each furigana reading."""

    analysis: analysis.Analysis
    html: str
    math: tuple[mathtex.Math, ...] = ()


def cache_key(field: Field) -> str:
    """Identifies a result by what determines it: the text and how it is checked and rendered."""
    mode = f"{field.one_line:d}{field.inline:d}"
    return hashlib.sha256(f"{mode}\0{field.text}".encode()).hexdigest()[:32]


def process(field: Field) -> FieldResult:
    """Parse `field` once for analysis (and once more, inline, if it renders inline); draw its math."""
    tokens = markup.parse(field.text)
    found = analysis.analyse(field.text, inline=field.one_line, tokens=tokens)
    html, formulas = markup.render_field(markup.parse_inline(field.text) if field.inline else tokens)
    drawn = tuple(_draw(tex, display) for tex, display in formulas)
    return FieldResult(found, html, drawn)


def _draw(tex: str, display: bool) -> mathtex.Math:
    if mathtex.problem(tex) is not None:  # reported by the analysis; never reaches an output
        return mathtex.Math(tex, display, "", 0.0, 0.0, 0.0, "")
    return mathtex.draw(tex, display)


@dataclass(frozen=True)
class Prepared:
    """The results of every field of one bank, by field key, in book order."""

    fields: tuple[Field, ...]
    results: Mapping[FieldKey, FieldResult]
    from_cache: int = 0  # how many came from the last build's cache (for tests and progress)

    def __getitem__(self, key: FieldKey) -> FieldResult:
        return self.results[key]

    def html(self, key: FieldKey) -> str | None:
        got = self.results.get(key)
        return None if got is None else got.html

    def images(self, owners: Iterable[str] | None = None) -> list[str]:
        """media/ file names shown by the fields of `owners` (every field if None), first use first."""
        wanted = None if owners is None else set(owners)
        seen: dict[str, None] = {}
        for f in self.fields:
            if wanted is None or f.owner in wanted:
                seen.update(dict.fromkeys(self.results[f.key].analysis.images))
        return list(seen)

    def __iter__(self) -> Iterator[tuple[Field, FieldResult]]:
        return ((f, self.results[f.key]) for f in self.fields)


class MarkdownCache:
    """The last build's results, by `cache_key`; empty when missing, damaged or from other code."""

    def __init__(self, entries: Mapping[str, FieldResult] | None = None) -> None:
        self.entries = dict(entries or {})

    @staticmethod
    def load(path: Path | None) -> MarkdownCache:
        if path is None:
            return MarkdownCache()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != code_version():
                return MarkdownCache()
            return MarkdownCache({str(k): _decode(v) for k, v in data["entries"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return MarkdownCache()

    @staticmethod
    def save(path: Path, prepared: Prepared) -> None:
        """Write the results of exactly this bank's fields, for the next build (unchanged bytes are not rewritten)."""
        entries = {cache_key(f): _encode(r) for f, r in prepared}
        data = {"version": code_version(), "entries": dict(sorted(entries.items()))}
        write_if_changed(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def prepare(fields: Iterable[Field], jobs: int = 1, cache: MarkdownCache | None = None, *, min_parallel: int = MIN_PARALLEL) -> Prepared:
    """Results for every field: from `cache` where it has them, the rest computed in `jobs` processes."""
    fields = tuple(fields)
    known = cache.entries if cache is not None else {}
    results: dict[FieldKey, FieldResult] = {}
    todo: list[Field] = []
    for f in fields:
        got = known.get(cache_key(f))
        if got is None:
            todo.append(f)
        else:
            results[f.key] = got
    from_cache = len(results)
    for f, r in zip(todo, _compute(todo, jobs, min_parallel), strict=True):
        results[f.key] = r
    return Prepared(fields, results, from_cache)


def _compute(todo: Sequence[Field], jobs: int, min_parallel: int) -> list[FieldResult]:
    if jobs <= 1 or len(todo) < min_parallel or "fork" not in multiprocessing.get_all_start_methods():
        return [process(f) for f in todo]
    _warm_up(todo)
    chunks = [list(todo[i::jobs]) for i in range(jobs)]
    with ProcessPoolExecutor(jobs - 1, mp_context=multiprocessing.get_context("fork")) as pool:
        others = list(pool.map(_process_all, chunks[1:]))
        mine = _process_all(chunks[0])  # this process takes a share too
    by_chunk = [mine, *others]
    # chunk i holds todo[i], todo[i + jobs], …: interleave back into the original order
    return [by_chunk[i % jobs][i // jobs] for i in range(len(todo))]


def _process_all(chunk: list[Field]) -> list[FieldResult]:
    return [process(f) for f in chunk]


_FENCE_INFO = re.compile(r"^[ \t]*(?:```|~~~)[ \t]*([\w+#.-]+)", re.MULTILINE)


def _warm_up(todo: Sequence[Field]) -> None:
    """Load the Pygments lexers the fences name and run the parser once, before forking, so the
    workers share that start-up work instead of each doing it again."""
    languages = {m.group(1).lower() for f in todo for m in _FENCE_INFO.finditer(f.text)}
    for lang in sorted(languages):
        markup.language_lexer(lang)
    markup.render("```text\nx\n```\n\n| a |\n|---|\n| *b* |")


def _encode(r: FieldResult) -> list[object]:
    a = r.analysis
    found = [[f.line, f.message, f.is_error] for f in a.findings]
    math = [[m.tex, m.display, m.svg, m.width, m.height, m.depth, m.mathml] for m in r.math]
    return [found, list(a.images), a.words, a.items, a.chars, list(a.languages), a.furigana, r.html, math]


def _decode(value: Any) -> FieldResult:
    findings, images, words, items, chars, languages, furigana, html, math = value
    found = tuple(analysis.Finding(int(line), str(message), bool(is_error)) for line, message, is_error in findings)
    measured = analysis.Analysis(
        found, tuple(str(i) for i in images), int(words), int(items), str(chars), tuple(str(x) for x in languages), bool(furigana)
    )
    drawn = tuple(mathtex.Math(str(t), bool(d), str(s), float(w), float(h), float(dp), str(ml)) for t, d, s, w, h, dp, ml in math)
    return FieldResult(measured, str(html), drawn)


@cache
def code_version() -> str:
    """Results depend on the markup code and the parser and highlighter versions; nothing else."""
    modules = (markup, analysis, mathtex, mdext, sys.modules[__name__])
    code = b"".join(Path(str(m.__file__)).read_bytes() for m in modules)
    libraries = " ".join(f"{name} {version(name)}" for name in ("markdown-it-py", "mdit-py-plugins", "pygments", "ziamath", "latex2mathml"))
    return hashlib.sha256(code + libraries.encode()).hexdigest()[:16]
