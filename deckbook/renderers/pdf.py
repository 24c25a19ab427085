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

import gc
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import ClassVar

import weasyprint

from deckbook import markup
from deckbook.renderers.base import RenderContext, digest, file_stem, media_digest
from deckbook.renderers.cards import flashcard_inputs, write_flashcards
from deckbook.renderers.handbook import PageRefs, cached_anchors, css_text, handbook_html, layout_key, store_anchors
from deckbook.renderers.weasy import LocalFetcher, fonts
from deckbook.templating import TEMPLATES_DIR

log = logging.getLogger(__name__)

HANDBOOK = TEMPLATES_DIR / "handbook"
MAX_LAYOUTS = 4


@cache
def _stylesheets(css: str) -> tuple[weasyprint.CSS, ...]:
    """Parsed once per process and text; relative url()s (fonts) resolve from templates/handbook/."""
    fc = fonts()
    base = HANDBOOK.as_uri() + "/"
    code = markup.pygments_css([".highlight"], "default")
    return (weasyprint.CSS(string=css, base_url=base, font_config=fc), weasyprint.CSS(string=code, font_config=fc))


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
    css = css_text(ctx.env, paper)
    doc = None
    for attempt in range(1, MAX_LAYOUTS + 1):
        refs = PageRefs(known)
        html = handbook_html(ctx, paper, refs)
        del doc  # one laid-out book in memory at a time
        gc.collect()
        doc = _layout(html, css, ctx.bank.source_dir)
        landed = _anchor_pages(doc)
        if all(known.get(a) == landed.get(a) for a in refs.asked):
            return Handbook(doc, landed, attempt)
        known = landed
    raise RuntimeError(f"page numbers did not settle after {MAX_LAYOUTS} layouts")  # a deckbook bug, not a user error


def build_handbook(ctx: RenderContext, paper: str) -> tuple[bytes, int, int]:
    """PDF bytes, page count and layouts used (reads and refreshes the page-map cache)."""
    handbook = lay_out(ctx, paper, cached_anchors(ctx, paper, exact=False))
    store_anchors(ctx, paper, handbook.anchors)
    data = handbook.document.write_pdf(pdf_variant="pdf/ua-1")
    return data, len(handbook.document.pages), handbook.layouts


def anchors_for_ebook(ctx: RenderContext) -> dict[str, int]:
    """Where every anchor lands in the A4 handbook (the e-book's page list): cached, else laid out."""
    got = cached_anchors(ctx, "a4", exact=True)
    if got is None:
        handbook = lay_out(ctx, "a4", cached_anchors(ctx, "a4", exact=False))
        store_anchors(ctx, "a4", handbook.anchors)
        got = handbook.anchors
    return got


class PdfRenderer:
    """Units: one handbook and one flashcard file per paper: <ns>-<paper>.pdf, <ns>-flashcards-<paper>.pdf."""

    name: ClassVar[str] = "pdf"

    def units(self, ctx: RenderContext) -> list[str]:
        return list(ctx.options.papers) + [f"cards-{p}" for p in ctx.options.papers]

    def after(self, ctx: RenderContext, unit: str) -> list[tuple[str, str]]:
        return []

    def inputs(self, ctx: RenderContext, unit: str) -> str:
        if unit.startswith("cards-"):
            return flashcard_inputs(ctx, unit.removeprefix("cards-"))
        return digest(layout_key(ctx, unit), media_digest(ctx.bank))

    def render(self, ctx: RenderContext, unit: str) -> list[Path]:
        if unit.startswith("cards-"):
            return [write_flashcards(ctx, unit.removeprefix("cards-"))]
        start = time.perf_counter()
        data, pages, layouts = build_handbook(ctx, unit)
        path = ctx.out_dir / f"{file_stem(ctx.bank)}-{unit}.pdf"
        path.write_bytes(data)
        log.info("%s: %d pages, %d layouts, %.1f s", path.name, pages, layouts, time.perf_counter() - start)
        return [path]
