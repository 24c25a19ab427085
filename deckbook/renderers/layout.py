"""Handbook layout with WeasyPrint: exact page numbers, parts laid out in parallel and cached.

Page references (contents, self-tests, "see 4.2 (p. 88)", the index, the changelog) are printed
as literal numbers found by laying the book out, reading where each anchor landed and laying
out again with those numbers — repeated until no number moves. The book is cut into parts
(`deckbook.renderers.parts`: front matter, each chapter, back matter) that lay out independently,
in `workers` processes, and are merged into one PDF (`deckbook.renderers.pdfmerge`).

Every part's layout is cached in the store, keyed by exactly what it printed: an edit to one
answer lays out that chapter again (and the few parts whose printed page numbers it moved),
and reuses every other part's pages. The anchor map of the last layout is the first guess of
the next, so an unchanged or lightly edited book needs a single pass; a book laid out for the
first time needs two (the first with placeholder numbers, without writing a PDF).

Pages are numbered continuously from the cover (which shows no number), so the printed number,
the PDF viewer's page number and the e-book's page list always agree.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache

import weasyprint

from deckbook.renderers.handbook import BANK_BASE, HandbookJob, fill_html
from deckbook.renderers.parts import first_pages, split, starting_at
from deckbook.renderers.pdfmerge import merge
from deckbook.renderers.weasy import JobFetcher, Styles, styles
from deckbook.store import Store
from deckbook.templating import TEMPLATES_DIR

HANDBOOK = TEMPLATES_DIR / "handbook"
MAX_PASSES = 4


@dataclass(frozen=True)
class PartRun:
    """One part to lay out: its HTML with page numbers filled in, where it begins, and whether to write it."""

    html: str
    first_page: int
    write: bool
    css: tuple[str, str, str]  # fonts, print + paper, code colours
    files: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class PartLayout:
    pages: int
    anchors: dict[str, int]  # anchor → page within the part (1-based)
    pdf: bytes | None  # written only when asked


@dataclass(frozen=True)
class Handbook:
    """A laid-out handbook: the PDF, where every anchor landed, how many passes and part layouts it took."""

    pdf: bytes
    anchors: dict[str, int]
    passes: int
    layouts: int
    pages: int


@cache
def _styles(fonts_css: str, css: str, code_css: str) -> Styles:
    """Parsed once per process and stylesheet (memoised here: every part of a book shares them)."""
    return styles((fonts_css, None), (css, HANDBOOK.as_uri() + "/"), (code_css, None))


def render_document(run: PartRun) -> weasyprint.Document:
    """One WeasyPrint layout of a part; nothing but the run's files is fetched."""
    css = _styles(*run.css)
    html = starting_at(run.html, run.first_page)
    return weasyprint.HTML(string=html, base_url=BANK_BASE, url_fetcher=JobFetcher(dict(run.files))).render(
        stylesheets=list(css.sheets), font_config=css.fonts, pdf_variant="pdf/ua-1"
    )


def anchor_pages(doc: weasyprint.Document) -> dict[str, int]:
    """Anchor → the 1-based page it is on (its first page, for an element spanning several)."""
    pages: dict[str, int] = {}
    for number, page in enumerate(doc.pages, start=1):
        for anchor in page.anchors:
            pages.setdefault(anchor, number)
    return pages


def lay_out_part(run: PartRun) -> PartLayout:
    doc = render_document(run)
    pdf = doc.write_pdf(pdf_variant="pdf/ua-1") if run.write else None
    return PartLayout(len(doc.pages), anchor_pages(doc), pdf)


class _Parts:
    """Lays out parts, from the store's cache where it can, the rest in parallel."""

    def __init__(self, job: HandbookJob, store: Store, workers: int) -> None:
        self.job, self.store, self.workers = job, store, workers
        self.css = (job.fonts_css, job.css, job.code_css)
        self.used: set[str] = set()
        self.layouts = 0

    def key(self, html: str, first_page: int | None) -> str:
        text = json.dumps([self.job.engine, self.css, html, first_page, [(n, hashlib.sha256(b).hexdigest()) for n, b in self.job.files]])
        return f"part-{self.job.paper}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"

    def run(self, htmls: Sequence[str], firsts: Sequence[int], write: bool) -> list[PartLayout]:
        results: dict[int, PartLayout] = {}
        todo: list[tuple[int, PartRun]] = []
        for i, (html, first) in enumerate(zip(htmls, firsts, strict=True)):
            cached = self._cached(html, first if write else None)
            if cached is not None:
                results[i] = cached
            else:
                todo.append((i, PartRun(html, first, write, self.css, self.job.files)))
        for (i, run), layout in zip(todo, self._lay_out([r for _, r in todo]), strict=True):
            results[i] = layout
            self._remember(run, layout)
        self.layouts += len(todo)
        return [results[i] for i in range(len(htmls))]

    def _lay_out(self, runs: list[PartRun]) -> list[PartLayout]:
        if self.workers <= 1 or len(runs) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            return [lay_out_part(r) for r in runs]
        order = sorted(range(len(runs)), key=lambda i: -len(runs[i].html))  # longest first: the pool drains evenly
        with ProcessPoolExecutor(min(self.workers, len(runs)), mp_context=multiprocessing.get_context("fork")) as pool:
            done = dict(zip(order, pool.map(lay_out_part, [runs[i] for i in order]), strict=True))
        return [done[i] for i in range(len(runs))]

    def _cached(self, html: str, first: int | None) -> PartLayout | None:
        name = self.key(html, first)
        raw = self.store.get(name + ".json")
        pdf = self.store.get(name + ".pdf") if first is not None else None
        if raw is None or (first is not None and pdf is None):
            return None
        try:
            data = json.loads(raw)
            layout = PartLayout(int(data["pages"]), {str(k): int(v) for k, v in data["anchors"].items()}, pdf)
        except (ValueError, KeyError, TypeError):
            return None
        self.used.add(name)
        return layout

    def _remember(self, run: PartRun, layout: PartLayout) -> None:
        data = json.dumps({"pages": layout.pages, "anchors": dict(sorted(layout.anchors.items()))}).encode()
        for first in (None, run.first_page) if layout.pdf is not None else (None,):
            name = self.key(run.html, first)
            self.store.put(name + ".json", data)
            if first is not None and layout.pdf is not None:
                self.store.put(name + ".pdf", layout.pdf)
            self.used.add(name)

    def forget_others(self) -> None:
        """Drop this paper's cached parts that this build did not use (older versions of them)."""
        prefix = f"part-{self.job.paper}-"
        for name in self.store.names(prefix):
            if name.rsplit(".", 1)[0] not in self.used:
                self.store.remove(name)


def lay_out(job: HandbookJob, store: Store, guess: Mapping[str, int] | None = None, workers: int = 1, *, pdf: bool = True) -> Handbook:
    """Lay out until every printed page number equals the page its anchor is on, then merge (or,
    without `pdf`, only find where every anchor lands: the e-book's page list).

    A pass whose parts' first pages are known (from the guess, or the pass before) writes the PDFs
    as it goes: usually the last pass. A first layout of a book has no guess: its first pass only
    measures (placeholder numbers, no PDF)."""
    parts = split(job.html)
    firsts = [_first_anchor(p.html) for p in parts]
    runner = _Parts(job, store, workers)
    known: dict[str, int] = dict(guess or {})
    for attempt in range(1, MAX_PASSES + 1):
        filled = [fill_html(job, p.html, known) for p in parts]
        htmls = [html for html, _ in filled]
        asked = set().union(*(a for _, a in filled))
        guessed = [1 if i == 0 else known.get(f or "") for i, f in enumerate(firsts)]
        sure = pdf and all(g is not None for g in guessed)
        layouts = runner.run(htmls, [g or 1 for g in guessed], write=sure)
        starts = first_pages([lay.pages for lay in layouts])
        landed = {a: start - 1 + page for lay, start in zip(layouts, starts, strict=True) for a, page in lay.anchors.items()}
        if all(known.get(a) == landed.get(a) for a in asked):
            if pdf and (not sure or starts != guessed):  # the PDFs were not written, or count from the wrong page
                layouts = runner.run(htmls, starts, write=True)
            merged = merge([lay.pdf or b"" for lay in layouts], starts) if pdf else b""
            runner.forget_others()
            return Handbook(merged, landed, attempt, runner.layouts, starts[-1] - 1 + layouts[-1].pages)
        known = landed
    raise RuntimeError(f"page numbers did not settle after {MAX_PASSES} passes")  # a deckbook bug, not a user error


_BODY_ID = re.compile(r'<body[^>]*>.*?\sid="([^"]+)"', re.DOTALL)


def _first_anchor(html: str) -> str | None:
    """The first id in a part's body: where the part begins, in the anchor map."""
    found = _BODY_ID.search(html)
    return found.group(1) if found else None
