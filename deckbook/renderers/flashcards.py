"""Printable duplex flashcards: question fronts, answer backs, for A4 and US Letter.

Layout contract (tested): every card is 90 × 63 mm on a centred 2 × 4 grid; sheet k's back is
the next page; backs mirror each row (left ↔ right) so that a long-edge flip puts every answer
behind its question; crop marks sit outside the grid on the fronts only; the backs move by the
user's offset for printers that misalign duplex pages. A text that does not fit its card is set
one size smaller, laid out again, until everything fits (checked on WeasyPrint's box tree).

The sheets are laid out `SHEETS_PER_LAYOUT` at a time — a laid-out sheet costs about 2 MB, and
a bank of a thousand questions has 250 — and the pieces' pages are joined into one PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import weasyprint
from markupsafe import Markup

from deckbook.fields import Role
from deckbook.files import iso_timestamp
from deckbook.model import Level, Location
from deckbook.problems import warning
from deckbook.renderers.base import Produced, RenderContext, Renderer, Runtime, Unit, file_stem, info_for
from deckbook.renderers.handbook import BANK_BASE, fonts_css
from deckbook.renderers.pdfmerge import join_pages
from deckbook.renderers.weasy import JobFetcher, Styles, styles
from deckbook.slots import fill, slot
from deckbook.templating import TEMPLATES_DIR, source_of

CARD_W, CARD_H = 90.0, 63.0  # mm: close to a poker card, two across on either paper
COLS, ROWS = 2, 4
PAPER_MM = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
SIZES = 5  # size-0 (largest) … size-4 (smallest) in cards.css
MARK_LEN, MARK_GAP, MARK_W = 6.0, 2.0, 0.2
SIZE = "S"  # slot kind: a card's size class, decided by the fit loop
SHEETS_PER_LAYOUT = 32


@dataclass(frozen=True)
class Card:
    id: str
    section: str
    chapter: Markup
    level: Level | None
    question: Markup
    answer: Markup
    size: int  # index into the size classes


@dataclass(frozen=True)
class Slot:
    card: Card
    x: float
    y: float


@dataclass(frozen=True)
class Sheet:
    fronts: tuple[Slot, ...]
    backs: tuple[Slot, ...]


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    w: float
    h: float


def grid_origin(paper: str) -> tuple[float, float]:
    width, height = PAPER_MM[paper]
    return (width - COLS * CARD_W) / 2, (height - ROWS * CARD_H) / 2


def initial_size(words: int) -> int:
    """A first guess from the answer's length; the fit loop corrects it."""
    return 0 if words <= 35 else 1 if words <= 65 else 2 if words <= 95 else 3


def cards_for(ctx: RenderContext) -> list[Card]:
    html = ctx.html("print")
    out = []
    for chapter in ctx.bank.chapters:
        for q in chapter.questions:
            h = html.questions[q.id]
            words = ctx.prepared[(q.id, Role.ANSWER)].analysis.words + len(q.question_md.split()) // 2
            out.append(Card(q.id, q.section, html.titles[chapter.id], q.level, h.question, h.answer, initial_size(words)))
    return out


def sheets(cards: list[Card], paper: str, offset: tuple[float, float]) -> list[Sheet]:
    """Place cards: fronts row by row; backs in the mirrored column, shifted by `offset`."""
    x0, y0 = grid_origin(paper)
    per = COLS * ROWS
    out = []
    for start in range(0, len(cards), per):
        fronts, backs = [], []
        for i, card in enumerate(cards[start : start + per]):
            row, col = divmod(i, COLS)
            fronts.append(Slot(card, x0 + col * CARD_W, y0 + row * CARD_H))
            backs.append(Slot(card, x0 + (COLS - 1 - col) * CARD_W + offset[0], y0 + row * CARD_H + offset[1]))
        out.append(Sheet(tuple(fronts), tuple(backs)))
    return out


def crop_marks(paper: str) -> list[Mark]:
    """Short hairlines in the margin, in line with every cut."""
    x0, y0 = grid_origin(paper)
    x1, y1 = x0 + COLS * CARD_W, y0 + ROWS * CARD_H
    marks = []
    for c in range(COLS + 1):
        x = x0 + c * CARD_W - MARK_W / 2
        marks.append(Mark(x, y0 - MARK_GAP - MARK_LEN, MARK_W, MARK_LEN))
        marks.append(Mark(x, y1 + MARK_GAP, MARK_W, MARK_LEN))
    for r in range(ROWS + 1):
        y = y0 + r * CARD_H - MARK_W / 2
        marks.append(Mark(x0 - MARK_GAP - MARK_LEN, y, MARK_LEN, MARK_W))
        marks.append(Mark(x1 + MARK_GAP, y, MARK_LEN, MARK_W))
    return [Mark(round(m.x, 2), round(m.y, 2), m.w, m.h) for m in marks]


@dataclass(frozen=True)
class FlashcardJob:
    """Everything one flashcard file reads: the sheets' HTML with a size slot on every card."""

    filename: str
    paper: str
    html: tuple[str, ...]  # the document in pieces of `SHEETS_PER_LAYOUT` sheets (the first with the instructions)
    fonts_css: str  # @font-face of the typographic roles
    css: str  # cards.css
    sheet_css: str  # this paper's page and card sizes
    files: tuple[tuple[str, bytes], ...]  # the bank's files the layout reads (media/…, fonts/…)
    sizes: tuple[tuple[str, int], ...]  # card id → first size class to try
    places: tuple[tuple[str, Location], ...]  # card id → its question in the source (for problems)


def flashcard_job(ctx: RenderContext, paper: str, sheets_per_layout: int = SHEETS_PER_LAYOUT) -> FlashcardJob:
    cards = cards_for(ctx)
    offset = ctx.options.flashcards.offset_mm
    info = info_for(ctx, (q.id for q in ctx.bank.questions))
    template = ctx.env.get_template("cards/cards.html.jinja")
    every = sheets(cards, paper, offset)
    html = tuple(
        template.render(
            first=start == 0,
            book=ctx.bank.book,
            info=info,
            paper=paper,
            cards=cards,
            per_sheet=COLS * ROWS,
            sheets=every[start : start + sheets_per_layout],
            marks=crop_marks(paper),
            offset=offset,
            created=iso_timestamp(info.epoch),
            size=lambda card: slot(SIZE, card.id),
            command=Markup("<code>uv run build.py flashcards --card-offset X,Y</code>"),
        )
        for start in range(0, max(1, len(every)), sheets_per_layout)
    )
    width, height = PAPER_MM[paper]
    page_css = f"@page {{ size: {width}mm {height}mm; }} .sheet {{ width: {width}mm; height: {height}mm; }}"
    card_css = f".card {{ width: {CARD_W}mm; height: {CARD_H}mm; }}"
    by_name = {p.name: p for p in ctx.bank.media}
    owners = {c.id for c in cards}
    used = sorted(n for n in ctx.prepared.images(owners) if n in by_name)
    faces, font_files = fonts_css(ctx)
    files = {f"media/{n}": by_name[n].read_bytes() for n in used} | font_files
    return FlashcardJob(
        filename=f"{file_stem(ctx.bank)}-flashcards-{paper}.pdf",
        paper=paper,
        html=html,
        fonts_css=faces,
        css=source_of(ctx.env, "cards/cards.css"),
        sheet_css=page_css + card_css,
        files=tuple(sorted(files.items())),
        sizes=tuple((c.id, c.size) for c in cards),
        places=tuple((q.id, q.loc) for q in ctx.bank.questions),
    )


def _layout(job: FlashcardJob, html: str, css: Styles, sizes: dict[str, int]) -> weasyprint.Document:
    filled = fill(html, {SIZE: lambda card_id: str(sizes[card_id])})
    return weasyprint.HTML(string=filled, base_url=BANK_BASE, url_fetcher=JobFetcher(dict(job.files))).render(
        stylesheets=list(css.sheets), font_config=css.fonts
    )


def overflowing(doc: weasyprint.Document) -> set[str]:
    """Ids of cards whose content runs past the card's bottom edge (WeasyPrint's box tree, pinned version)."""
    out = set()
    for page in doc.pages:
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None or element.get("data-card") is None or "card" not in (element.get("class") or "").split():
                continue
            bottom = box.content_box_y() + box.height
            children = list(getattr(box, "children", []))
            used = max((c.position_y + c.margin_height() for c in children), default=0.0)
            if used > bottom + 0.5:
                out.add(element.get("data-card"))
    return out


def build_flashcards(job: FlashcardJob) -> tuple[bytes, int, list[str]]:
    """PDF bytes, page count, and the cards that do not fit even at the smallest size. A card
    that overflows is set one size smaller and its sheets laid out again, until all fit."""
    sizes = dict(job.sizes)
    css = styles((job.fonts_css, None), (job.css, (TEMPLATES_DIR / "cards").as_uri() + "/"), (job.sheet_css, None))
    pieces, pages, too_big = [], 0, set()
    for html in job.html:
        for _ in range(SIZES):
            doc = _layout(job, html, css, sizes)
            overflow = overflowing(doc)
            shrinkable = [c for c in overflow if sizes[c] < SIZES - 1]
            if not shrinkable:
                break
            for c in shrinkable:
                sizes[c] += 1
        pieces.append(doc.write_pdf())
        pages += len(doc.pages)
        too_big |= overflow
        del doc  # before the next piece is laid out
    return join_pages(pieces), pages, sorted(too_big)


class FlashcardsRenderer(Renderer[FlashcardJob]):
    """Writes <namespace>-flashcards-<paper>.pdf for each paper asked for."""

    name: ClassVar[str] = "flashcards"

    def units(self, ctx: RenderContext) -> list[Unit]:
        return [Unit(self.name, paper, weight=5) for paper in ctx.options.flashcards.papers]

    def job(self, ctx: RenderContext, unit: Unit) -> FlashcardJob:
        return flashcard_job(ctx, unit.name)

    def produce(self, job: FlashcardJob, runtime: Runtime) -> Produced:
        data, _, too_big = build_flashcards(job)
        places = dict(job.places)
        problems = tuple(
            warning(places[card], f"question '{card}': its answer does not fit a {CARD_W:g} × {CARD_H:g} mm flashcard "
                    "even at the smallest size; shorten it")
            for card in too_big
        )  # fmt: skip
        return Produced({job.filename: data}, problems)
