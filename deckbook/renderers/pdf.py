"""PDF handbook renderer (WeasyPrint): A4 and US Letter, with exact page numbers everywhere.

Page references (contents, self-tests, "see 4.2 (p. 88)", the index) are printed as literal
numbers found by laying the book out, reading where each anchor landed
(`Document.pages[i].anchors`) and laying it out again with those numbers — repeated until the
numbers no longer move. This is both faster than thousands of CSS `target-counter()`s (the
probe: −30 % at 1000 questions) and more capable: the index deduplicates pages into ranges and
the e-book's page list uses the same map. The map is cached beside the outputs, keyed by the
layout's inputs, so an unchanged or lightly edited book usually needs a single layout.

Pages are numbered continuously from the cover (which shows no number), so the printed number,
the PDF viewer's page number and the e-book's page list always agree.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import weasyprint

from deckbook import markup
from deckbook.model import Level
from deckbook.renderers.base import RenderContext, file_stem
from deckbook.renderers.cards import write_flashcards
from deckbook.renderers.indexing import IndexEntry, service_index
from deckbook.renderers.weasy import LocalFetcher, fonts
from deckbook.templating import TEMPLATES_DIR, source_of

log = logging.getLogger(__name__)

HANDBOOK = TEMPLATES_DIR / "handbook"
PLACEHOLDER = "888"  # a typical width, so the first layout already breaks lines like the last
MAX_LAYOUTS = 4
LEVEL_TEXT = {
    "basic": "associate level: definitions and first principles.",
    "intermediate": "professional level: choosing between options and applying them.",
    "advanced": "senior level: designing under constraints, trade-offs, failure modes.",
    "expert": "principal level: organisation-wide strategy and the hardest design calls.",
}


def _css_text(env: Any, paper: str) -> str:
    return source_of(env, "handbook/print.css") + source_of(env, f"handbook/paper-{paper}.css")


@cache
def _stylesheets(css: str) -> tuple[weasyprint.CSS, ...]:
    """Parsed once per process and text; relative url()s (fonts) resolve from templates/handbook/."""
    fc = fonts()
    base = HANDBOOK.as_uri() + "/"
    code = markup.pygments_css([".highlight"], "default")
    return (weasyprint.CSS(string=css, base_url=base, font_config=fc), weasyprint.CSS(string=code, font_config=fc))


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


def _layout(html: str, css: str, source_dir: Path) -> weasyprint.Document:
    """One WeasyPrint layout. Images resolve against the bank's folder (media/…); nothing else is fetched."""
    return weasyprint.HTML(string=html, base_url=source_dir.resolve().as_uri() + "/", url_fetcher=LocalFetcher(source_dir)).render(
        stylesheets=list(_stylesheets(css)), font_config=fonts(), pdf_variant="pdf/ua-1"
    )


def _anchor_pages(doc: weasyprint.Document) -> dict[str, int]:
    pages: dict[str, int] = {}
    for number, page in enumerate(doc.pages, start=1):
        for anchor in page.anchors:
            pages.setdefault(anchor, number)
    return pages


@dataclass(frozen=True)
class Handbook:
    """A laid-out handbook: the document, where every anchor landed, and how many layouts it took."""

    document: weasyprint.Document
    anchors: dict[str, int]
    layouts: int


def lay_out(ctx: RenderContext, paper: str, guess: Mapping[str, int] | None = None) -> Handbook:
    """Lay out until every printed page number equals the page its anchor is on."""
    known: Mapping[str, int] = dict(guess or {})
    for attempt in range(1, MAX_LAYOUTS + 1):
        refs = PageRefs(known)
        doc = _layout(handbook_html(ctx, paper, refs), _css_text(ctx.env, paper), ctx.bank.source_dir)
        landed = _anchor_pages(doc)
        if all(known.get(a) == landed.get(a) for a in refs.asked):
            return Handbook(doc, landed, attempt)
        known = landed
    raise RuntimeError(f"page numbers did not settle after {MAX_LAYOUTS} layouts")  # a deckbook bug, not a user error


def _cache_key(ctx: RenderContext, paper: str) -> str:
    """Inputs of the layout except the page numbers themselves."""
    html = handbook_html(ctx, paper, PageRefs())
    css = _css_text(ctx.env, paper)
    return hashlib.sha256(f"{weasyprint.__version__}\x00{html}\x00{css}".encode()).hexdigest()[:24]


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
    if exact and data.get("key") != _cache_key(ctx, paper):
        return None
    return {str(k): int(v) for k, v in data["anchors"].items()}


def store_anchors(ctx: RenderContext, paper: str, anchors: Mapping[str, int]) -> None:
    path = _cache_path(ctx, paper)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key": _cache_key(ctx, paper), "anchors": dict(sorted(anchors.items()))}), encoding="utf-8")


def build_handbook(ctx: RenderContext, paper: str) -> tuple[bytes, Handbook]:
    """Pure-ish builder: PDF bytes and the layout (reads and refreshes the page cache)."""
    handbook = lay_out(ctx, paper, cached_anchors(ctx, paper, exact=False))
    store_anchors(ctx, paper, handbook.anchors)
    return handbook.document.write_pdf(pdf_variant="pdf/ua-1"), handbook


def a4_anchors(ctx: RenderContext) -> dict[str, int]:
    """Where every anchor lands in the A4 handbook (for the e-book's page list); cached."""
    got = cached_anchors(ctx, "a4", exact=True)
    if got is None:
        handbook = lay_out(ctx, "a4", cached_anchors(ctx, "a4", exact=False))
        store_anchors(ctx, "a4", handbook.anchors)
        got = handbook.anchors
    return got


class PdfRenderer:
    """Writes <namespace>-<paper>.pdf and <namespace>-flashcards-<paper>.pdf for each paper."""

    name: ClassVar[str] = "pdf"

    def render(self, ctx: RenderContext) -> list[Path]:
        written = []
        for paper in ctx.options.papers:
            start = time.perf_counter()
            data, handbook = build_handbook(ctx, paper)
            path = ctx.out_dir / f"{file_stem(ctx.bank)}-{paper}.pdf"
            path.write_bytes(data)
            log.info(
                "%s: %d pages, %d layouts, %.1f s", path.name, len(handbook.document.pages), handbook.layouts, time.perf_counter() - start
            )
            written.append(path)
        return written + write_flashcards(ctx)
