"""The handbook as HTML, with page numbers taken from a page map (no WeasyPrint here).

Contract: `handbook_html(ctx, paper, refs)` is pure; every page reference in it goes through
`refs`, which records what was asked and prints a fixed-width placeholder for unknown anchors.
The page map of the last layout is cached per paper under ctx.cache_dir, keyed by everything the
layout depends on except the numbers themselves, so the e-book can reuse it without a layout.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckbook.model import Level
from deckbook.renderers.base import RenderContext
from deckbook.renderers.indexing import IndexEntry, service_index
from deckbook.templating import source_of

PLACEHOLDER = "888"  # a typical width, so the first layout already breaks lines like the last
LAYOUT_ENGINE = "weasyprint==70.0"  # part of the cache key: another engine version may paginate differently
LEVEL_TEXT = {
    "basic": "associate level: definitions and first principles.",
    "intermediate": "professional level: choosing between options and applying them.",
    "advanced": "senior level: designing under constraints, trade-offs, failure modes.",
    "expert": "principal level: organisation-wide strategy and the hardest design calls.",
}


def css_text(env: Any, paper: str) -> str:
    return source_of(env, "handbook/print.css") + source_of(env, f"handbook/paper-{paper}.css")


@dataclass
class PageRefs:
    """Page numbers for anchors: known ones print as numbers, unknown ones as a placeholder."""

    known: Mapping[str, int] = field(default_factory=dict)
    asked: set[str] = field(default_factory=set)

    def page(self, anchor: str) -> str:
        self.asked.add(anchor)
        n = self.known.get(anchor)
        return str(n) if n is not None else PLACEHOLDER

    def pages(self, anchors: list[str]) -> list[int] | None:
        self.asked.update(anchors)
        got = [self.known.get(a) for a in anchors]
        return None if any(g is None for g in got) else [g for g in got if g is not None]


def _ranges(pages: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for p in sorted(set(pages)):
        if out and p <= out[-1][1] + 1:
            out[-1] = (out[-1][0], p)
        else:
            out.append((p, p))
    return out


def handbook_html(ctx: RenderContext, paper: str, refs: PageRefs) -> str:
    """The whole handbook as one HTML document, page numbers taken from `refs`."""
    bank = ctx.bank

    def index_pages(entry: IndexEntry) -> list[tuple[str, str]]:
        got = [refs.pages([f"q-{q.id}", f"q-{q.id}-end"]) for q in entry.questions]  # ask for all, every time
        if any(g is None for g in got):
            return [(PLACEHOLDER, f"q-{q.id}") for q in entry.questions]
        spans = [(g[0], g[1], f"q-{q.id}") for g, q in zip(got, entry.questions, strict=True) if g is not None]
        first_anchor: dict[int, str] = {}
        covered: list[int] = []
        for start, end, anchor in spans:
            covered += range(start, end + 1)
            first_anchor.setdefault(start, anchor)
        out = []
        for lo, hi in _ranges(covered):
            target = first_anchor.get(lo) or next(a for s, e, a in spans if s <= lo <= e)
            out.append((str(lo) if lo == hi else f"{lo}–{hi}", target))
        return out

    return ctx.env.get_template("handbook/handbook.html.jinja").render(
        book=bank.book,
        info=ctx.info,
        html=ctx.html,
        paper=paper,
        chapters=bank.chapters,
        questions=bank.question_by_id,
        terms=bank.terms,
        index=service_index(bank),
        intros=ctx.html.intros,
        description=ctx.html.description,
        description_text=" ".join(ctx.html.description.striptags().split()) if ctx.html.description else None,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ctx.info.epoch)),
        counts={
            "questions": len(bank.questions),
            "chapters": len(bank.chapters),
            "terms": len(bank.terms),
            "services": len(service_index(bank)),
        },
        levels=list(Level),
        level_text=LEVEL_TEXT,
        service_names=lambda q: [bank.service_by_id[s].name for s in q.services if s in bank.service_by_id],
        page=refs.page,
        index_pages=index_pages,
    )


_KEYS: list[tuple[tuple[object, ...], str]] = []  # small memo on object identity (holds the objects, so ids stay unique)


def layout_key(ctx: RenderContext, paper: str) -> str:
    """Inputs of the layout except the page numbers themselves (memoised: asked for several times a build)."""
    ident = (ctx.bank, ctx.html, ctx.env, ctx.info, paper)
    for key_ident, key in _KEYS:
        if all(a is b for a, b in zip(key_ident, ident, strict=True)):
            return key
    key = _layout_key(ctx, paper)
    _KEYS[:] = [*_KEYS[-3:], (ident, key)]
    return key


def _layout_key(ctx: RenderContext, paper: str) -> str:
    html = handbook_html(ctx, paper, PageRefs())
    css = css_text(ctx.env, paper)
    return hashlib.sha256(f"{LAYOUT_ENGINE}\x00{html}\x00{css}".encode()).hexdigest()[:24]


def _cache_path(ctx: RenderContext, paper: str) -> Path:
    return ctx.cache_dir / f"pages-{paper}.json"


def cached_anchors(ctx: RenderContext, paper: str, *, exact: bool) -> dict[str, int] | None:
    """The anchor map from the last build: only if its inputs were identical when `exact`."""
    path = _cache_path(ctx, paper)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("anchors"), dict):
        return None
    if exact and data.get("key") != layout_key(ctx, paper):
        return None
    return {str(k): int(v) for k, v in data["anchors"].items()}


def store_anchors(ctx: RenderContext, paper: str, anchors: Mapping[str, int]) -> None:
    path = _cache_path(ctx, paper)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key": layout_key(ctx, paper), "anchors": dict(sorted(anchors.items()))}), encoding="utf-8")
