"""PDF handbook renderer (WeasyPrint): one unit per paper size, A4 and US Letter.

The layout itself — exact page numbers, parts laid out in parallel and cached, merged into one
tagged PDF — is `deckbook.renderers.layout`; this module decides the units and keeps each paper's
anchor map in the store, as the next build's first guess and the e-book's page list.
"""

from __future__ import annotations

import logging
import time
from typing import ClassVar

from deckbook.renderers.base import Produced, RenderContext, Renderer, Runtime, Unit
from deckbook.renderers.handbook import HandbookJob, handbook_job, store_pages, stored_pages

log = logging.getLogger(__name__)
SMALL_BOOK = 40  # questions: a book this short is laid out sooner beside the other paper than alone after it


def lays_out_alone(ctx: RenderContext) -> bool:
    """Whether a unit that lays this bank's handbook out runs alone, with every core: yes, unless
    the book is so short that starting its engines is most of the work (then it runs beside other
    units, in one process)."""
    return len(ctx.bank.questions) > SMALL_BOOK


def layout_pages(job: HandbookJob, runtime: Runtime) -> dict[str, int]:
    """Where every anchor of `job` lands: from the store if this exact layout was done, else
    measured (laid out without writing a PDF)."""
    got = stored_pages(runtime.store, job, exact=True)
    if got is None:
        from deckbook.renderers.layout import lay_out  # WeasyPrint loads only when a layout is needed

        book = lay_out(job, runtime.store, stored_pages(runtime.store, job, exact=False), runtime.workers, pdf=False)
        store_pages(runtime.store, job, book.anchors, book.tops)
        got = book.anchors
    return got


class PdfRenderer(Renderer[HandbookJob]):
    """Writes <namespace>-<paper>.pdf for each paper asked for."""

    name: ClassVar[str] = "pdf"

    def units(self, ctx: RenderContext) -> list[Unit]:
        # one paper after the other, and nothing beside it: its layout engines keep every core busy,
        # and two books laid out at once would hold twice the memory for no gain in time — unless
        # the book is so short that starting its engines is most of the work
        papers = ctx.options.papers
        if not lays_out_alone(ctx):
            return [Unit(self.name, paper, weight=10) for paper in papers]
        return [
            Unit(self.name, paper, weight=10, after=tuple(f"{self.name}:{p}" for p in papers[:i]), alone=True)
            for i, paper in enumerate(papers)
        ]

    def job(self, ctx: RenderContext, unit: Unit) -> HandbookJob:
        return handbook_job(ctx, unit.name)

    def produce(self, job: HandbookJob, runtime: Runtime) -> Produced:
        from deckbook.renderers.layout import lay_out

        start = time.perf_counter()
        book = lay_out(job, runtime.store, stored_pages(runtime.store, job, exact=False), runtime.workers)
        store_pages(runtime.store, job, book.anchors, book.tops)
        seconds = time.perf_counter() - start
        log.info("%s: %d pages, %d rounds, %d part layouts, %.1f s", job.filename, book.pages, book.rounds, book.layouts, seconds)
        return Produced({job.filename: book.pdf})
