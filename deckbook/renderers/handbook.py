"""The handbook as HTML with page-number slots, and the job that lays it out (no WeasyPrint here).

Contract: `handbook_job(ctx, paper)` renders the templates once; every page reference in the
HTML (contents, self-tests, "see 4.2 (p. 88)", index ranges) is a slot (`deckbook.slots`).
`fill_pages(job, known)` prints each page number as an element naming its anchor, holding either
the number or, for layout, zeros of its width (`deckbook.renderers.pagepatch` writes the numbers
into the laid-out part), and says which anchors were asked for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from deckbook import fonts, markup
from deckbook.changelog import Release, releases
from deckbook.files import iso_timestamp
from deckbook.model import Status
from deckbook.renderers.anki_notes import plain
from deckbook.renderers.base import RenderContext, file_stem, fingerprint
from deckbook.renderers.indexing import IndexItem, bank_index, entry_names, index_title, status_label, typefaces
from deckbook.report import qr_data_uri, report_url
from deckbook.slots import fill, slot
from deckbook.store import Store
from deckbook.templating import source_of

PLACEHOLDER = "000"  # a page number not known yet (nor its number of digits)
LAYOUT_ENGINE = "weasyprint==70.0"  # part of the job: another engine version may paginate differently
ATTRIBUTE = "data-deckbook-page"  # on each printed page number: the anchor it names (deckbook.renderers.pagepatch)
PAGE, PAGES = "P", "R"  # slot kinds: one anchor's page; the pages of index questions, as ranges
TARGET, LABEL = "\ue002", "\ue003"  # stand-ins in the page-link snippet


@dataclass(frozen=True)
class HandbookJob:
    """Everything one handbook's layout reads: HTML with page slots, stylesheets and images."""

    filename: str
    paper: str
    html: str
    css: str  # print.css + the paper's
    fonts_css: str  # @font-face of the typographic roles
    code_css: str  # Pygments colours
    link: str  # one page link, with TARGET and LABEL stand-ins (from the templates)
    separator: str  # between links in an index entry (inside every link but the last)
    files: tuple[tuple[str, bytes], ...]  # the bank's files the layout reads: media/… it shows, fonts/… it uses
    engine: str = LAYOUT_ENGINE


BANK_BASE = "file:///deckbook-bank/"  # where layouts find the bank's files (deckbook.renderers.weasy serves them)


def fonts_css(ctx: RenderContext) -> tuple[str, dict[str, bytes]]:
    """@font-face rules for the three typographic roles — the bank's fonts (book.yaml `fonts:`)
    or the bundled ones — and the bank's font files by relative path."""
    faces, files = fonts.faces(ctx.bank.book, ctx.bank.source_dir, BANK_BASE)
    return ctx.env.get_template("fonts.css.jinja").render(faces=faces), files


def css_text(ctx: RenderContext, paper: str) -> str:
    return source_of(ctx.env, "handbook/print.css") + source_of(ctx.env, f"handbook/paper-{paper}.css")


def handbook_job(ctx: RenderContext, paper: str) -> HandbookJob:
    """The handbook for `paper` (rendered once per build: the PDF and the e-book's page map share it)."""
    memo_key = ("handbook-job", paper)
    if memo_key not in ctx.memo:
        snippets = ctx.env.get_template("handbook/_page-link.html.jinja").module
        by_name = {p.name: p for p in ctx.bank.media}
        used = [n for n in ctx.prepared.images() if n in by_name]
        faces, font_files = fonts_css(ctx)
        files = {f"media/{n}": by_name[n].read_bytes() for n in used} | font_files
        ctx.memo[memo_key] = HandbookJob(
            filename=f"{file_stem(ctx.bank)}-{paper}.pdf",
            paper=paper,
            html=handbook_html(ctx, paper),
            css=css_text(ctx, paper),
            fonts_css=faces,
            code_css=markup.pygments_css([".highlight"], "default"),
            link=str(snippets.link(TARGET, LABEL)),  # type: ignore[attr-defined]
            separator=str(snippets.separator()),  # type: ignore[attr-defined]
            files=tuple(sorted(files.items())),
        )
    job = ctx.memo[memo_key]
    assert isinstance(job, HandbookJob)
    return job


def handbook_html(ctx: RenderContext, paper: str) -> str:
    """The whole handbook as one HTML document, with a slot wherever a page number goes."""
    bank, book = ctx.bank, ctx.bank.book
    html = ctx.html("print")
    index = bank_index(bank)

    def index_pages(item: IndexItem) -> Markup:
        return slot(PAGES, " ".join(f"q-{q.id}" for q in item.questions))

    return ctx.env.get_template("handbook/handbook.html.jinja").render(
        book=book,
        info=ctx.info,
        html=html,
        paper=paper,
        chapters=bank.chapters,
        questions=bank.question_by_id,
        terms=bank.terms,
        index=index,
        index_title=index_title(bank, ctx.messages),
        withdrawn=any(item.entry.status is not Status.ACTIVE for item in index),
        intros=html.intros,
        description=html.description,
        description_text=" ".join(html.description.striptags().split()) if html.description else None,
        guide=html.guide,
        keywords=([book.subject] if book.subject else []) + list(book.keywords),
        reviewed=any(c.reviewed for c in bank.chapters),
        created=iso_timestamp(ctx.info.epoch),
        counts={"questions": len(bank.questions), "chapters": len(bank.chapters), "terms": len(bank.terms), "entries": len(index)},
        levels=book.levels,
        fonts=ctx.messages.list(typefaces(book)),
        entry_names=lambda q: entry_names(bank, q),
        status_label=lambda status: status_label(status, ctx.messages),
        page=lambda anchor: slot(PAGE, anchor),
        see_refs=lambda ids: see_refs(ctx, tuple(ids)),
        changelog=book_changes(ctx),
        report_url=lambda q: report_url(book, q, plain(html.questions[q.id].question)),
        report_qr=qr_data_uri,
        Markup=Markup,
        index_pages=index_pages,
    )


def book_changes(ctx: RenderContext) -> list[Release]:
    """The changelog the book prints: nothing while the bank has had only its first release."""
    got = releases(ctx.bank, ctx.ledger)
    return [] if len(got) <= 1 and all(r.first for r in got) else got


def see_refs(ctx: RenderContext, ids: tuple[str, ...]) -> Markup:
    """ "1.2 (p. 12) and 3.4 (p. 40)": cross-references as links with their pages, joined the locale's way."""
    link = ctx.env.get_template("handbook/_page-link.html.jinja").module.see_ref  # type: ignore[attr-defined]
    refs = [ctx.bank.question_by_id[i] for i in ids if i in ctx.bank.question_by_id]
    return ctx.messages.markup_list(Markup(link(q, slot(PAGE, f"q-{q.id}"))) for q in refs)


def fill_pages(job: HandbookJob, known: Mapping[str, int], *, numbers: bool = False) -> tuple[str, set[str]]:
    """The job's HTML with its page numbers filled in from `known`, and the anchors it asked for."""
    return fill_html(job, job.html, known, numbers=numbers)


def fill_html(job: HandbookJob, html: str, known: Mapping[str, int], *, numbers: bool = False) -> tuple[str, set[str]]:
    """`html` (the job's, or a part of it) with its page numbers filled in, and the anchors it asked for.

    A page number is an element marked with the anchor it names (`ATTRIBUTE`): with
    `numbers`, it holds ``known[anchor]``; without, zeros of as many digits (the layout's
    placeholder, see `deckbook.renderers.pagepatch`), where `known` need only be close enough to
    have the right number of digits; an anchor not in `known` gets three. Index ranges ("12–14")
    depend on the values themselves: they are printed exactly when every page they cover is
    known, else as placeholders."""
    asked: set[str] = set()

    def page(anchor: str) -> str:
        asked.add(anchor)
        value = known.get(anchor)
        text = PLACEHOLDER if value is None else str(value) if numbers else placeholder(value)
        return f'<span {ATTRIBUTE}="{anchor}">{text}</span>'

    def link(target: str, label: str) -> str:
        return job.link.replace(TARGET, target).replace(LABEL, label)

    def pages(value: str) -> str:
        anchors = value.split()
        spans = []
        for a in anchors:  # ask for every anchor, every time: the set of questions asked must not shrink
            asked.update((a, f"{a}-end"))
            spans.append((known.get(a), known.get(f"{a}-end"), a))
        exact = [(start, end, a) for start, end, a in spans if start is not None and end is not None]
        labelled = [(PLACEHOLDER, a) for a in anchors] if len(exact) < len(spans) else _ranges(exact)
        # the separator goes inside each link but the last: half as many boxes on the line to lay out
        return "".join(link(target, label + (job.separator if k < len(labelled) - 1 else "")) for k, (label, target) in enumerate(labelled))

    return fill(html, {PAGE: page, PAGES: pages}), asked


def _ranges(spans: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    """Pages covered by (start, end, anchor) spans as "12", "14–16" labels, each linking to the
    question that starts on its first page (or runs onto it)."""
    first_anchor: dict[int, str] = {}
    covered: set[int] = set()
    for start, end, anchor in spans:
        covered.update(range(start, end + 1))
        first_anchor.setdefault(start, anchor)
    runs: list[tuple[int, int]] = []
    for p in sorted(covered):
        if runs and p <= runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], p)
        else:
            runs.append((p, p))
    out = []
    for lo, hi in runs:
        target = first_anchor.get(lo) or next(a for s, e, a in spans if s <= lo <= e)
        out.append((str(lo) if lo == hi else f"{lo}–{hi}", target))
    return out


def placeholder(value: int) -> str:
    """What a page number is laid out as: zeros, as many as the number has digits."""
    return "0" * len(str(value))


def _pages_entry(paper: str) -> str:
    return f"pages-{paper}.json"


def stored_pages(store: Store, job: HandbookJob, *, exact: bool) -> dict[str, int] | None:
    """Where every anchor landed in the last layout of this paper: only if it was of exactly
    `job` when `exact`, else as a first guess for a new layout."""
    data = _stored(store, job, exact=exact)
    try:
        return None if data is None else {str(k): int(v) for k, v in data["anchors"].items()}
    except (KeyError, TypeError, AttributeError, ValueError):
        return None


def stored_tops(store: Store, job: HandbookJob) -> tuple[tuple[str, ...], ...] | None:
    """For each page of the last layout of exactly `job`: the elements that begin on it."""
    data = _stored(store, job, exact=True)
    try:
        return None if data is None else tuple(tuple(str(key) for key in page) for page in data["tops"])
    except (KeyError, TypeError):
        return None


def _stored(store: Store, job: HandbookJob, *, exact: bool) -> dict[str, Any] | None:
    try:
        data = json.loads(store.get(_pages_entry(job.paper)) or b"")
    except ValueError:
        return None
    if not isinstance(data, dict) or (exact and data.get("key") != fingerprint(job)):
        return None
    return data


def store_pages(store: Store, job: HandbookJob, anchors: Mapping[str, int], tops: Sequence[Sequence[str]] = ()) -> None:
    """Remember where `job`'s anchors landed and which elements begin each page."""
    data = {"key": fingerprint(job), "anchors": dict(sorted(anchors.items())), "tops": [list(t) for t in tops]}
    store.put(_pages_entry(job.paper), json.dumps(data).encode("utf-8"))
