"""PDF handbook renderer (WeasyPrint): one unit per paper size, A4 and US Letter.

The layout itself (exact page numbers by repeated layout) is `deckbook.renderers.layout`; this
module decides the units, reuses the last page map as a first guess and writes PDF/UA-1.
"""

from __future__ import annotations

import logging
import time
from typing import ClassVar

from deckbook.renderers.base import Produced, RenderContext, Renderer, Unit
from deckbook.renderers.handbook import HandbookJob, handbook_job, store_pages, stored_pages
from deckbook.store import Store

log = logging.getLogger(__name__)


def layout_pages(job: HandbookJob, store: Store) -> dict[str, int]:
    """Where every anchor of `job` lands: from the store if this exact layout was done, else laid out."""
    got = stored_pages(store, job, exact=True)
    if got is None:
        from deckbook.renderers.layout import lay_out  # WeasyPrint loads only when a layout is needed

        got = lay_out(job, stored_pages(store, job, exact=False)).anchors
        store_pages(store, job, got)
    return got


class PdfRenderer(Renderer[HandbookJob]):
    """Writes <namespace>-<paper>.pdf for each paper asked for."""

    name: ClassVar[str] = "pdf"

    def units(self, ctx: RenderContext) -> list[Unit]:
        return [Unit(self.name, paper, weight=10) for paper in ctx.options.papers]

    def job(self, ctx: RenderContext, unit: Unit) -> HandbookJob:
        return handbook_job(ctx, unit.name)

    def produce(self, job: HandbookJob, store: Store) -> Produced:
        from deckbook.renderers.layout import lay_out

        start = time.perf_counter()
        handbook = lay_out(job, stored_pages(store, job, exact=False))
        store_pages(store, job, handbook.anchors)
        data = handbook.document.write_pdf(pdf_variant="pdf/ua-1")
        seconds = time.perf_counter() - start
        log.info("%s: %d pages, %d layouts, %.1f s", job.filename, len(handbook.document.pages), handbook.layouts, seconds)
        return Produced({job.filename: data})
