"""Layout engines: where parts of the handbook are laid out, kept, numbered and written.

An `Engine` runs WeasyPrint for one process. It lays a part out and, when asked, *keeps* the
laid-out document, so that once the part's page numbers are known it can write them in
(`deckbook.renderers.pagepatch`) and draw the PDF without laying the part out again. A `Pool`
gives the layout orchestrator (`deckbook.renderers.layout`) `workers` engines: the calling
process itself when there is one worker, else that many forked processes, each answering
requests over a pipe in the order they are sent. A kept document lives in the engine that laid
it out, so requests about it must go to that engine.

Requests and replies are small frozen values (HTML text in, numbers and PDF bytes out); the
job's stylesheets and files reach forked engines through the fork itself.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import traceback
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from multiprocessing.connection import Connection, wait
from typing import Any

import weasyprint

from deckbook.rendered import MARK
from deckbook.renderers.handbook import BANK_BASE
from deckbook.renderers.pagepatch import SLOT_CSS, patch
from deckbook.renderers.pdfmerge import mark_artifacts
from deckbook.renderers.weasy import JobFetcher, Styles, styles
from deckbook.templating import TEMPLATES_DIR

HANDBOOK = TEMPLATES_DIR / "handbook"
GC_THRESHOLD = 20_000  # allocations between young-generation collections (Python's default: 700)


@dataclass(frozen=True)
class Setup:
    """What every layout of one handbook shares: stylesheets and the files they may fetch."""

    css: tuple[str, str, str]  # fonts, print + paper, code colours
    files: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Layout:
    """Lay `html` out (its page counter starting at `first_page`); keep the document under `key`
    if `keep`; if `numbers` is given, write them in at once and return the PDF too — unless the
    HTML holds them already (`exact`). With `partial` numbers instead, the pages of the anchors
    in `own` are taken from this very layout (counting on from `partial.first_page`) to complete
    them, and the part is written at once too."""

    key: str
    html: str
    keep: bool = False
    first_page: int = 1
    numbers: Numbers | None = None
    exact: bool = False
    partial: Numbers | None = None
    own: tuple[str, ...] = ()


@dataclass(frozen=True)
class Numbers:
    """The real page numbers of a laid-out part: its first page and the page of every anchor it names."""

    first_page: int
    values: Mapping[str, int] = field(default_factory=dict)

    def completed(self, anchors: Mapping[str, int], own: Iterable[str]) -> Numbers:
        """These numbers and the pages of the anchors in `own`, taken from a layout of the part
        (`anchors`: 1-based within it) counting on from `first_page`."""
        found = {a: self.first_page - 1 + anchors[a] for a in own if a in anchors}
        return Numbers(self.first_page, dict(sorted({**self.values, **found}.items())))


@dataclass(frozen=True)
class Finish:
    """Write `numbers` into the document kept under `key`, draw its PDF, forget the document."""

    key: str
    numbers: Numbers


@dataclass(frozen=True)
class Drop:
    key: str


Request = Layout | Finish | Drop


@dataclass(frozen=True)
class Reply:
    """What an engine answers. `pages`/`anchors` (1-based, within the part)/`tops` after a layout; `pdf`
    after writing; `unpatched` when the numbers would not fit the layout (lay it out again with them)."""

    key: str
    pages: int = 0
    anchors: Mapping[str, int] = field(default_factory=dict)
    tops: tuple[tuple[str, ...], ...] = ()  # per page: the elements that begin on it (`page_tops`)
    pdf: bytes | None = None
    unpatched: bool = False
    error: str | None = None
    numbers: Numbers | None = None


@cache
def _styles(fonts_css: str, css: str, code_css: str) -> Styles:
    """Parsed once per process and stylesheet: every part of a book shares them."""
    return styles((fonts_css, None), (css, HANDBOOK.as_uri() + "/"), (code_css, None), (SLOT_CSS, None))


def starting_at(html: str, page: int) -> str:
    """`html` whose first page carries the number `page` (running headers and footers count on from it)."""
    if page == 1:
        return html
    rule = f"<style>@page :first {{ counter-reset: page {page}; }}</style>"
    return html.replace("</head>", rule + "</head>", 1)


def render(setup: Setup, html: str, first_page: int = 1) -> weasyprint.Document:
    """One WeasyPrint layout of a part; nothing but the setup's files is fetched."""
    css = _styles(*setup.css)
    document = weasyprint.HTML(string=starting_at(html, first_page), base_url=BANK_BASE, url_fetcher=JobFetcher(dict(setup.files)))
    return document.render(stylesheets=list(css.sheets), font_config=css.fonts, pdf_variant="pdf/ua-1")


TOPS = 4  # elements named per page: the e-book takes the first it has


def page_tops(doc: weasyprint.Document) -> tuple[tuple[str, ...], ...]:
    """For each page, the first few elements that *begin* on it (not continued from the page
    before), in document order, by their ``id`` or else their ``data-mark`` (see
    `deckbook.rendered`): where the e-book puts the marker of that printed page."""
    seen: set[int] = set()
    out = []
    for page in doc.pages:
        found: list[str] = []
        for box in page._page_box.children[0].descendants():  # the laid-out boxes of the page's content
            element = box.element
            if element is None or id(element) in seen:
                continue
            seen.add(id(element))
            key = element.get("id") or element.get(MARK)
            if key and len(found) < TOPS:
                found.append(key)
        out.append(tuple(found))
    return tuple(out)


def anchor_pages(doc: weasyprint.Document) -> dict[str, int]:
    """Anchor → the 1-based page it is on (its first page, for an element spanning several)."""
    pages: dict[str, int] = {}
    for number, page in enumerate(doc.pages, start=1):
        for anchor in page.anchors:
            pages.setdefault(anchor, number)
    return pages


class Engine:
    """Lays out, keeps, numbers and writes parts, in this process."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.kept: dict[str, weasyprint.Document] = {}

    def handle(self, request: Request) -> Reply | None:
        if isinstance(request, Drop):
            self.kept.pop(request.key, None)
            return None
        if isinstance(request, Finish):
            return self._write(request.key, self.kept.pop(request.key), request.numbers)
        doc = render(self.setup, request.html, request.first_page)
        laid = Reply(request.key, len(doc.pages), anchor_pages(doc), page_tops(doc))
        numbers = request.numbers
        if numbers is None and request.partial is not None:
            numbers = request.partial.completed(laid.anchors, request.own)
        if numbers is not None:
            written = self._write(request.key, doc, None if request.exact else numbers)
            return Reply(request.key, laid.pages, laid.anchors, laid.tops, written.pdf, written.unpatched, numbers=numbers)
        if request.keep:
            self.kept[request.key] = doc
        return laid

    def _write(self, key: str, doc: weasyprint.Document, numbers: Numbers | None) -> Reply:
        if numbers is not None and not patch(doc, numbers.first_page, numbers.values).ok:
            return Reply(key, unpatched=True)
        return Reply(key, pdf=mark_artifacts(doc.write_pdf(pdf_variant="pdf/ua-1")), numbers=numbers)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while laying out: a layout makes hundreds of
    thousands of small objects, and at Python's default thresholds the collector scans them —
    and every document kept — again and again (a tenth of the layout time). Restored on exit."""
    before = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _serve(setup: Setup, conn: Connection) -> None:
    """A forked engine's loop: answer requests until told to stop (None) or the pipe closes."""
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])  # see `fewer_collections`
    engine = Engine(setup)
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        try:
            reply = engine.handle(request)
        except Exception:
            reply = Reply(getattr(request, "key", ""), error=traceback.format_exc())
        if reply is not None:
            conn.send(reply)


class Pool:
    """`workers` engines; `send(worker, request)` queues a request, `replies()` yields
    (worker, reply) as engines answer. Use as a context manager: forked engines stop on exit."""

    def __init__(self, setup: Setup, workers: int) -> None:
        self.setup = setup
        self.inline = workers <= 1 or "fork" not in multiprocessing.get_all_start_methods()
        self.size = 1 if self.inline else workers
        self._engine = Engine(setup) if self.inline else None
        self._done: list[tuple[int, Reply]] = []
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        self.busy = [0] * self.size  # requests sent and not yet answered, per worker

    def __enter__(self) -> Pool:
        if not self.inline:
            context = multiprocessing.get_context("fork")
            gc.freeze()  # engines leave the objects they inherit alone: their pages stay shared with this process
            for _ in range(self.size):
                ours, theirs = context.Pipe()
                proc = context.Process(target=_serve, args=(self.setup, theirs), daemon=True)
                proc.start()
                theirs.close()
                self._conns.append(ours)
                self._procs.append(proc)
            gc.unfreeze()
        return self

    def __exit__(self, *exc: object) -> None:
        for conn in self._conns:  # a stop request: every engine also holds copies of its siblings' pipes, so closing ours is not enough
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()

    def send(self, worker: int, request: Request) -> None:
        if self._engine is not None:
            with fewer_collections():
                reply = self._engine.handle(request)
            if reply is not None:
                self._done.append((worker, reply))
                self.busy[worker] += 1
            return
        self._conns[worker].send(request)
        if not isinstance(request, Drop):
            self.busy[worker] += 1

    def replies(self) -> Iterator[tuple[int, Reply]]:
        """The replies that are ready, waiting for at least one if none is."""
        if self._engine is not None:
            done, self._done = self._done, []
        else:
            done = []
            for conn in wait(self._conns):
                assert isinstance(conn, Connection)
                done.append((self._conns.index(conn), conn.recv()))
        for worker, reply in done:
            self.busy[worker] -= 1
            if reply.error is not None:
                raise RuntimeError(f"a layout worker failed:\n{reply.error}")
            yield worker, reply
