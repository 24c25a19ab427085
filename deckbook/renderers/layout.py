"""Handbook layout with WeasyPrint: exact page numbers by repeating the layout until they settle.

Page references (contents, self-tests, "see 4.2 (p. 88)", the index) are printed as literal
numbers found by laying the book out, reading where each anchor landed
(`Document.pages[i].anchors`) and laying it out again with those numbers — repeated until the
numbers no longer move. This is both faster than thousands of CSS `target-counter()`s (the
probe: −30 % at 1000 questions) and more capable: the index deduplicates pages into ranges and
the e-book's page list uses the same map. The map is kept in the build's store, so an unchanged
or lightly edited book usually needs a single layout.

Pages are numbered continuously from the cover (which shows no number), so the printed number,
the PDF viewer's page number and the e-book's page list always agree.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import dataclass

import weasyprint

from deckbook.renderers.handbook import BANK_BASE, HandbookJob, fill_pages
from deckbook.renderers.weasy import JobFetcher, Styles, styles
from deckbook.templating import TEMPLATES_DIR

HANDBOOK = TEMPLATES_DIR / "handbook"
MAX_LAYOUTS = 4


def handbook_styles(job: HandbookJob) -> Styles:
    """The job's stylesheets, parsed once per handbook; fonts resolve from templates/handbook/."""
    return styles((job.fonts_css, None), (job.css, HANDBOOK.as_uri() + "/"), (job.code_css, None))


def render_document(html: str, job: HandbookJob, css: Styles) -> weasyprint.Document:
    """One WeasyPrint layout of `html` with the job's stylesheets and images; nothing else is fetched."""
    return weasyprint.HTML(string=html, base_url=BANK_BASE, url_fetcher=JobFetcher(dict(job.files))).render(
        stylesheets=list(css.sheets), font_config=css.fonts, pdf_variant="pdf/ua-1"
    )


def anchor_pages(doc: weasyprint.Document) -> dict[str, int]:
    """Anchor → the 1-based page it is on (its first page, for an element spanning several)."""
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


def lay_out(job: HandbookJob, guess: Mapping[str, int] | None = None) -> Handbook:
    """Lay out until every printed page number equals the page its anchor is on."""
    known: Mapping[str, int] = dict(guess or {})
    css = handbook_styles(job)
    doc = None
    for attempt in range(1, MAX_LAYOUTS + 1):
        html, asked = fill_pages(job, known)
        del doc  # one laid-out book in memory at a time
        gc.collect()
        doc = render_document(html, job, css)
        landed = anchor_pages(doc)
        if all(known.get(a) == landed.get(a) for a in asked):
            return Handbook(doc, landed, attempt)
        known = landed
    raise RuntimeError(f"page numbers did not settle after {MAX_LAYOUTS} layouts")  # a deckbook bug, not a user error
