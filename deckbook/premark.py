"""Markdown done ahead of validation and rendering: in worker processes, or from the last build.

Parsing Markdown (markdown-it-py, pure Python) is most of what a large bank costs before any
output is made: about 1.5 s for 1000 questions. `prime()` takes every field a build needs
(`Work`: the text, how validation analyses it, how rendering renders it) and makes the results
ready before the calls are made: fields seen by the previous build into the same output folder
come from its cache file; the rest are analysed and rendered in `jobs` forked processes (in this
process with one job or a small bank). Every result equals what the call would
compute, because the same functions produce it, so priming changes speed, never output.

The cache (`<out>/.deckbook-cache/markdown.json`) is derived data: JSON, keyed by a hash of each
text, valid only for the exact markup code and library versions that wrote it; anything
unreadable or stale is ignored. It is written with the other build state, after a successful
build only.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path

from deckbook import markup

CACHE_NAME = "markdown.json"
MIN_PARALLEL = 600  # fewer fields than this are parsed faster than a process pool starts


@dataclass(frozen=True)
class Work:
    """One Markdown field a build needs: analysed (as one line or as blocks) and rendered."""

    text: str
    lint_inline: bool  # markup.analyse(text, inline=…)
    render_inline: bool  # markup.render_inline(text) rather than markup.render(text)

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.lint_inline:d}{self.render_inline:d}\0{self.text}".encode()).hexdigest()[:32]


Result = tuple[markup.Analysis, str]


def prime(work: Sequence[Work], jobs: int, cache_file: Path | None = None) -> int:
    """Make the results of `work` ready for `markup`'s calls; returns how many came from the cache."""
    markup.forget_remembered()
    cached = _read(cache_file) if cache_file is not None else {}
    todo = []
    for w in work:
        got = cached.get(w.key)
        if got is None:
            todo.append(w)
        else:
            markup.remember(w.text, w.lint_inline, got[0], w.render_inline, got[1])
    if jobs > 1 and len(todo) >= MIN_PARALLEL and "fork" in multiprocessing.get_all_start_methods():
        _warm_up(todo)
        chunks = [todo[i::jobs] for i in range(jobs)]
        with ProcessPoolExecutor(jobs - 1, mp_context=multiprocessing.get_context("fork")) as pool:
            others = pool.map(_compute_all, chunks[1:])
            computed = _compute_all(chunks[0])  # this process takes a share too
            computed += [r for results in others for r in results]
        todo = [w for chunk in chunks for w in chunk]
    else:
        computed = _compute_all(todo)
    for w, (analysis, html) in zip(todo, computed, strict=True):
        markup.remember(w.text, w.lint_inline, analysis, w.render_inline, html)
    return len(work) - len(todo)


def save(cache_file: Path, work: Sequence[Work]) -> None:
    """Write the results of exactly `work` (computing any not yet known) for the next build."""
    entries = {}
    for w in sorted(set(work), key=lambda w: w.key):
        analysis, html = _compute(w)
        entries[w.key] = [
            [[f.line, f.message, f.is_error] for f in analysis.findings],
            list(analysis.images),
            analysis.words,
            analysis.items,
            html,
        ]
    data = json.dumps({"version": _version(), "entries": entries}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    try:
        if cache_file.read_bytes() == data:
            return  # nothing new since the last build
    except OSError:
        pass
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_name(f".{cache_file.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, cache_file)


_FENCE_INFO = re.compile(r"^[ \t]*(?:```|~~~)[ \t]*([\w+#.-]+)", re.MULTILINE)


def _warm_up(work: Sequence[Work]) -> None:
    """Load the Pygments lexers the fences name and run the parser once, before forking, so the
    workers share that start-up work instead of each doing it again."""
    languages = {m.group(1).lower() for w in work for m in _FENCE_INFO.finditer(w.text)}
    for lang in sorted(languages):
        markup.language_lexer(lang)
    markup.render("```text\nx\n```\n\n| a |\n|---|\n| *b* |")


def _compute(w: Work) -> Result:
    analysis = markup.analyse(w.text, inline=w.lint_inline)
    return analysis, markup.render_inline(w.text) if w.render_inline else markup.render(w.text)


def _compute_all(chunk: list[Work]) -> list[Result]:
    return [_compute(w) for w in chunk]


def _read(cache_file: Path) -> dict[str, Result]:
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
        if data.get("version") != _version():
            return {}
        out = {}
        for key, (findings, images, words, items, html) in data["entries"].items():
            found = tuple(markup.Finding(int(line), str(message), bool(is_error)) for line, message, is_error in findings)
            out[str(key)] = (markup.Analysis(found, tuple(str(i) for i in images), int(words), int(items)), str(html))
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


@cache
def _version() -> str:
    """Results depend on the markup code and the parser and highlighter versions; nothing else."""
    code = Path(markup.__file__).read_bytes()
    return hashlib.sha256(code + f"{version('markdown-it-py')} {version('pygments')}".encode()).hexdigest()[:16]
