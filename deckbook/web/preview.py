"""The card preview: every note's cards, front and back, as Anki shows them, for `serve`.

Contract: `build_preview(ctx, memo)` returns the preview's files (path relative to the preview
folder → bytes): one page per chapter and one for the glossary, each card side rendered with
the deck's own card templates (`ctx.cards.templates`, Anki's syntax interpreted by
`deckbook.web.cardtemplate`) and the deck's stylesheet (`card_css`), in a frame of its own as
Anki gives each card a document of its own. The notes are built by the same function as the
deck's (`build_notes`) from the "web" flavour of the bank's HTML, so formulas show as MathML
(Anki's MathJax is not there offline) and readings as <ruby>; everything else is the deck's.
A page is rendered again only when what it shows changed: `memo` (kept by the caller between
builds) maps each page to the fingerprint of its inputs and its bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass

from markupsafe import Markup

from deckbook.model import Bank
from deckbook.rendered import BankHtml, QuestionHtml
from deckbook.renderers.anki_notes import NoteSpec, build_notes, card_css, media_name
from deckbook.renderers.base import RenderContext, fingerprint
from deckbook.templating import source_of
from deckbook.web.cardtemplate import Side, TemplateError, cloze_ordinals, render_card

T = "web/preview/"
INDEX, CARD_CSS, PAGE_CSS, SCRIPT = "index.html", "card.css", "preview.css", "preview.js"


@dataclass(frozen=True)
class Face:
    """One card of a note: both sides as Anki renders them (or the error Anki would show)."""

    name: str  # the card template's name (cloze: "Cloze 2")
    ordinal: int
    front: str
    back: str
    error: str | None = None


@dataclass(frozen=True)
class NoteCards:
    note: NoteSpec
    heading: str  # "3.2 What is …" or the glossary term
    faces: tuple[Face, ...]


def faces(note: NoteSpec, templates: dict[str, str]) -> tuple[Face, ...]:
    """Every card Anki makes of `note`: one per template, or one per deletion of a cloze note."""
    fields = {f.name: value for f, value in zip(note.notetype.fields, note.fields, strict=True)}
    out = []
    for position, template in enumerate(note.notetype.templates):
        if note.notetype.cloze:
            ordinals = cloze_ordinals(fields.get("Text", ""))
            names = [(n, f"{template.name} {n}") for n in ordinals]
        else:
            names = [(position + 1, template.name)]
        for ordinal, name in names:
            try:
                front = render_card(templates[template.front], Side(fields, ordinal, question=True))
                back = render_card(templates[template.back], Side(fields, ordinal, question=False, front_side=front))
                out.append(Face(name, ordinal, front, back))
            except TemplateError as problem:
                out.append(Face(name, ordinal, "", "", str(problem)))
    return tuple(out)


def _shielded(html: BankHtml) -> BankHtml:
    """The web flavour as the deck's fields hold text when the bank writes readings: every square
    bracket a character reference, so Anki's furigana filter leaves it alone (the readings are
    <ruby> already)."""
    if not html.furigana:
        return html

    def shield(value: Markup | None) -> Markup | None:
        return None if value is None else Markup(str(value).replace("[", "&#91;").replace("]", "&#93;"))

    def question(h: QuestionHtml) -> QuestionHtml:
        return QuestionHtml(Markup(shield(h.question)), Markup(shield(h.answer)), shield(h.explanation), shield(h.cloze))

    return dataclasses.replace(
        html,
        questions={k: question(v) for k, v in html.questions.items()},
        terms={k: Markup(shield(v)) for k, v in html.terms.items()},
    )


def preview_notes(ctx: RenderContext) -> tuple[NoteSpec, ...]:
    """The deck's notes with the "web" flavour's HTML in their fields."""
    return build_notes(ctx.bank, _shielded(ctx.html("web")), ctx.env, ctx.messages)


def page_name(bank: Bank, chapter_id: str | None) -> str:
    """ch03.html for a chapter's notes, glossary.html for the terms."""
    if chapter_id is None:
        return "glossary.html"
    return f"ch{bank.chapter_by_id[chapter_id].number:0{bank.chapter_digits}d}.html"


def groups(bank: Bank, notes: Iterable[NoteSpec]) -> dict[str, list[NoteSpec]]:
    """Notes by preview page, in deck order."""
    out: dict[str, list[NoteSpec]] = {}
    for note in notes:
        chapter = bank.question_by_id[note.question_id].chapter_id if note.question_id else None
        out.setdefault(page_name(bank, chapter), []).append(note)
    return out


def build_preview(ctx: RenderContext, memo: MutableMapping[str, tuple[str, bytes]] | None = None) -> dict[str, bytes]:
    """Every file of the card preview (see the module docstring); `memo` may be an empty dict."""
    memo = {} if memo is None else memo
    bank, env = ctx.bank, ctx.env
    notes = preview_notes(ctx)
    templates = dict(ctx.cards.templates)
    by_page = groups(bank, notes)
    titles = {page_name(bank, c.id): (f"{c.number}. {c.title}", len(c.questions)) for c in bank.chapters}
    titles["glossary.html"] = (ctx.messages.gettext("Glossary"), len(bank.terms))
    common = {"book": bank.book, "pages": [(name, titles[name][0], len(by_page[name])) for name in titles if name in by_page]}
    shared = fingerprint((templates, common["pages"], bank.book, ctx.messages.language))
    out: dict[str, bytes] = {}
    for name, page_notes in by_page.items():
        key = fingerprint((_digest(page_notes), shared, titles[name][0]))
        cached = memo.get(name)
        if cached is None or cached[0] != key:
            cards = [NoteCards(n, _heading(bank, n), faces(n, templates)) for n in page_notes]
            page = env.get_template(T + "page.html.jinja").render(**common, page=name, title=titles[name][0], cards=cards)
            cached = memo[name] = (key, page.encode("utf-8"))
        out[name] = cached[1]
    out[INDEX] = env.get_template(T + "index.html.jinja").render(**common, page=INDEX).encode("utf-8")
    out[CARD_CSS] = card_css(env).encode("utf-8")
    out[PAGE_CSS] = source_of(env, T + PAGE_CSS).encode("utf-8")
    out[SCRIPT] = source_of(env, T + SCRIPT).encode("utf-8")
    for path in bank.media:  # the deck's media folder: flat, content-hashed names
        out[media_name(path)] = path.read_bytes()
    return out


def _digest(notes: Iterable[NoteSpec]) -> str:
    """What a preview page shows of its notes (their fields, note types and labels), hashed."""
    h = hashlib.sha256()
    for n in notes:
        h.update("\x1e".join((n.key, n.notetype.key, n.label, *n.fields)).encode("utf-8") + b"\x1d")
    return h.hexdigest()


def _heading(bank: Bank, note: NoteSpec) -> str:
    if note.question_id is None:
        return note.label
    return f"{bank.question_by_id[note.question_id].section} {note.label}"
