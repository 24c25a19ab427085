"""Printable duplex flashcards: question fronts, answer backs, for A4 and US Letter.

Layout contract (tested): every card is 90 × 63 mm on a centred 2 × 4 grid; sheet k's back is
the next page; backs mirror each row (left ↔ right) so that a long-edge flip puts every answer
behind its question; crop marks sit outside the grid on the fronts only; the backs move by the
user's offset for printers that misalign duplex pages. A text that does not fit its card is set
one size smaller, laid out again, until everything fits (checked on WeasyPrint's box tree).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import weasyprint
from markupsafe import Markup

from deckbook import markup
from deckbook.model import Level
from deckbook.renderers.base import RenderContext, digest, file_stem, media_digest
from deckbook.renderers.weasy import LocalFetcher, fonts
from deckbook.templating import TEMPLATES_DIR, source_of

log = logging.getLogger(__name__)

CARD_W, CARD_H = 90.0, 63.0  # mm: close to a poker card, two across on either paper
COLS, ROWS = 2, 4
PAPER_MM = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
SIZES = 5  # size-0 (largest) … size-4 (smallest) in cards.css
MARK_LEN, MARK_GAP, MARK_W = 6.0, 2.0, 0.2


@dataclass(frozen=True)
class Card:
    id: str
    section: str
    chapter: Markup
    level: Level
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
    out = []
    for chapter in ctx.bank.chapters:
        for q in chapter.questions:
            h = ctx.html.questions[q.id]
            words = markup.plain_words(q.answer_md)[0] + len(q.question_md.split()) // 2
            out.append(Card(q.id, q.section, ctx.html.titles[chapter.id], q.level, h.question, h.answer, initial_size(words)))
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


def _html(ctx: RenderContext, paper: str, cards: list[Card]) -> str:
    offset = ctx.options.flashcard_offset_mm
    return ctx.env.get_template("cards/cards.html.jinja").render(
        book=ctx.bank.book,
        info=ctx.info,
        paper=paper,
        cards=cards,
        per_sheet=COLS * ROWS,
        sheets=sheets(cards, paper, offset),
        marks=crop_marks(paper),
        offset=offset,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ctx.info.epoch)),
    )


def _layout(ctx: RenderContext, paper: str, cards: list[Card]) -> weasyprint.Document:
    width, height = PAPER_MM[paper]
    page_css = f"@page {{ size: {width}mm {height}mm; }} .sheet {{ width: {width}mm; height: {height}mm; }}"
    card_css = f".card {{ width: {CARD_W}mm; height: {CARD_H}mm; }}"
    styles = [
        weasyprint.CSS(
            string=source_of(ctx.env, "cards/cards.css"), base_url=(TEMPLATES_DIR / "cards").as_uri() + "/", font_config=fonts()
        ),
        weasyprint.CSS(string=page_css + card_css, font_config=fonts()),
    ]
    return weasyprint.HTML(
        string=_html(ctx, paper, cards),
        base_url=ctx.bank.source_dir.resolve().as_uri() + "/",
        url_fetcher=LocalFetcher(ctx.bank.source_dir),
    ).render(stylesheets=styles, font_config=fonts())


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


def build_flashcards(ctx: RenderContext, paper: str) -> tuple[bytes, int]:
    """PDF bytes of the sheets and the number of pages; shrinks cards until every one fits."""
    cards = cards_for(ctx)
    for _ in range(SIZES):
        doc = _layout(ctx, paper, cards)
        too_big = overflowing(doc)
        if not too_big:
            break
        shrinkable = [c for c in cards if c.id in too_big and c.size < SIZES - 1]
        if not shrinkable:
            log.warning("flashcards: %d cards still overflow at the smallest size: %s", len(too_big), ", ".join(sorted(too_big)))
            break
        cards = [replace(c, size=c.size + 1) if c.id in too_big and c.size < SIZES - 1 else c for c in cards]
    return doc.write_pdf(), len(doc.pages)


def flashcard_inputs(ctx: RenderContext, paper: str) -> str:
    """Cards depend on questions and answers only: glossary or explanation edits do not redo them."""
    cards = [(c.id, c.section, str(c.chapter), c.level.value, str(c.question), str(c.answer)) for c in cards_for(ctx)]
    book = ctx.bank.book
    return digest(
        cards, book.title, book.version, book.author, ctx.info.date, paper, ctx.options.flashcard_offset_mm, media_digest(ctx.bank)
    )


def write_flashcards(ctx: RenderContext, paper: str) -> Path:
    data, _ = build_flashcards(ctx, paper)
    path = ctx.out_dir / f"{file_stem(ctx.bank)}-flashcards-{paper}.pdf"
    path.write_bytes(data)
    return path
