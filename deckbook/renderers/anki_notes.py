"""Anki notes and note types as plain data: what each note contains, and the note types' schema.

Kept apart from packaging so the ledger can hash exactly what a note will contain (fields and
tags) without building a package, and so tests can read the notes without unzipping anything.

Identity rules (see ../shared/design/anki.md):
- a note's GUID is ``guid_for(namespace, id)`` (cloze notes add "cloze"), never a hash of fields;
- note type ids derive from the namespace and a fixed key, and every field and template carries
  a hard-coded ``id``: fields may be renamed or appended (never removed or reordered) and Anki
  still updates notes in place instead of forking a "Name+" note type;
- a question imported from Anki (`anki:`, see `deckbook.ankispec`) keeps the note it came from:
  its GUID, and its own note type from anki.yaml (id, fields, templates, styling as recorded),
  each field filled from the question's Markdown by its role or from ``anki.fields``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import genanki
import jinja2
from markupsafe import Markup

from deckbook.fields import Field, Role
from deckbook.i18n import Messages
from deckbook.ledger import Item
from deckbook.markup import MEDIA_PREFIX, pygments_css
from deckbook.model import AnkiNoteType, Bank, Chapter, Level, Question
from deckbook.prepared import process
from deckbook.rendered import BankHtml, QuestionHtml, filler
from deckbook.renderers.indexing import entry_names, index_label
from deckbook.report import card_url
from deckbook.templating import card_env, source_of

TEMPLATES = Path("anki")
NIGHT = [".nightMode .highlight", ".night_mode .highlight"]  # desktop/AnkiMobile and AnkiDroid


@dataclass(frozen=True)
class FieldDef:
    name: str
    id: int  # hard-coded forever; a rename keeps the id


@dataclass(frozen=True)
class TemplateDef:
    name: str
    front: str  # file under templates/anki/
    back: str
    id: int


@dataclass(frozen=True)
class NoteTypeDef:
    key: str  # "qa" | "cloze" | "term": with the namespace, gives the note type id
    title: str  # shown in Anki as "<deck> · <title>"
    fields: tuple[FieldDef, ...]
    templates: tuple[TemplateDef, ...]
    cloze: bool = False
    sort_field: int = 0
    imported: AnkiNoteType | None = None  # a note type from anki.yaml: emitted exactly as recorded there


INDEX_FIELD = "Index"  # the default name of the Q&A field listing index entries
QA = NoteTypeDef(
    "qa",
    "Q&A",
    (
        FieldDef("Id", 3187004409921163),
        FieldDef("Question", 1437616744391925),
        FieldDef("Answer", 2848217096541830),
        FieldDef("Explanation", 4227381902216545),
        FieldDef("Section", 1269712353398176),
        FieldDef("Chapter", 3663020112473513),
        FieldDef("Level", 2057338446880251),
        FieldDef("Kind", 1753305939963342),
        FieldDef(INDEX_FIELD, 4087925520918839),  # renamed per bank: book.yaml index.label
        FieldDef("SeeAlso", 1182410717309431),
        FieldDef("Reviewed", 2921566617011079),
    ),
    (TemplateDef("Question → answer", "qa.front.html.jinja", "qa.back.html.jinja", 3931087815230047),),
    sort_field=1,
)
CLOZE = NoteTypeDef(
    "cloze",
    "Cloze",
    (
        FieldDef("Id", 1532772290460311),
        FieldDef("Text", 2716412858402329),
        FieldDef("Question", 4457640286370905),
        FieldDef("Extra", 3046981577613251),
        FieldDef("Section", 1931196337003571),
        FieldDef("Chapter", 2510633364981767),
        FieldDef("Level", 3379962104719889),
        FieldDef("Reviewed", 1109742658305011),
    ),
    (TemplateDef("Cloze", "cloze.front.html.jinja", "cloze.back.html.jinja", 2623372963862317),),
    cloze=True,
    sort_field=1,
)
TERM = NoteTypeDef(
    "term",
    "Term",
    (
        FieldDef("Id", 4403823372440887),
        FieldDef("Term", 1657745118813461),
        FieldDef("Definition", 3499113733113327),
        FieldDef("SeeAlso", 2315106458939571),
    ),
    (
        TemplateDef("Term → definition", "term.front.html.jinja", "term.back.html.jinja", 1876931650178597),
        TemplateDef("Definition → term", "term-reverse.front.html.jinja", "term-reverse.back.html.jinja", 3806286734367449),
    ),
    sort_field=1,
)
NOTE_TYPES = (QA, CLOZE, TERM)


@dataclass(frozen=True)
class NoteSpec:
    """One note, fully decided: the ledger hashes `fields` and `tags`."""

    key: str  # ledger key: question id, "<id>::cloze" or term id
    guid: str
    notetype: NoteTypeDef
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str
    due: int  # new-card position: book order
    question_id: str | None  # None for glossary terms
    media: tuple[str, ...]  # media/ file names the fields show
    substance: str = ""  # the author's own words in it, as written (a change is a correction)
    label: str = ""  # plain text naming it: the question, or the term

    def ledger_item(self) -> Item:
        return Item(
            json.dumps([self.notetype.key, self.fields, self.tags], ensure_ascii=False), self.substance, self.label, self.notetype.key
        )


def stable_id(*parts: str, low: int = 1 << 30, high: int = 1 << 31) -> int:
    """A deterministic id in [low, high) from text: note type and deck ids never change."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return low + int.from_bytes(digest[:8], "big") % (high - low)


def media_name(path: Path) -> str:
    """Content-hashed file name: an edited image never collides with the old one in a collection."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    return f"{path.stem}-{digest}{path.suffix.lower()}"


def chapter_deck(bank: Bank, chapter: Chapter) -> str:
    """A chapter's deck: the one learners have (imported chapters), or deckbook's numbered subdeck."""
    return chapter.anki_deck or deck_name(bank, chapter.number, chapter.title)


def deck_name(bank: Bank, chapter_number: int | None, title: str) -> str:
    """'<deck>::03 Networking' (numbered so Anki lists chapters in reading order), or '<deck>::<title>'."""
    if chapter_number is None:
        return f"{bank.book.deck}::{title}"
    return f"{bank.book.deck}::{chapter_number:0{bank.chapter_digits}d} {title}"


def note_types(bank: Bank) -> tuple[NoteTypeDef, ...]:
    """The bank's note types: the built-in ones, with the Q&A index field named as the bank names
    its index (the field keeps its id, so renaming it never forks the note type), then the note
    types imported from Anki (anki.yaml)."""
    name = index_field(bank)
    qa = replace(QA, fields=tuple(replace(f, name=name) if f.name == INDEX_FIELD else f for f in QA.fields))
    return (qa, CLOZE, TERM, *(imported_type(nt) for nt in bank.anki.notetypes))


def imported_type(nt: AnkiNoteType) -> NoteTypeDef:
    """An anki.yaml note type as a NoteTypeDef; its key ("anki::<key>") names it in the ledger."""
    return NoteTypeDef(f"anki::{nt.key}", nt.name, (), (), cloze=nt.cloze, sort_field=nt.sort_field, imported=nt)


def index_field(bank: Bank) -> str:
    """The Anki field name of the index entries: book.yaml `index.label`, else "Index"."""
    label = bank.book.index.label or INDEX_FIELD
    return re.sub(r'[:{}"]', "", label).strip() or INDEX_FIELD


def card_templates(bank: Bank, env: jinja2.Environment, messages: Messages, *, furigana: bool) -> dict[str, str]:
    """Every card template file, rendered for this bank: labels in its language, the fields it
    has, Anki's furigana filter on the text fields when the bank writes readings."""
    cards = card_env(env)

    def field(name: str) -> str:
        return f"{{{{furigana:{name}}}}}" if furigana else f"{{{{{name}}}}}"

    values = {
        "levels": bool(bank.book.levels),
        "show_ids": bank.book.show_ids,
        "index_field": index_field(bank),
        "index_label": index_label(bank, messages),
        "field": field,
        "report_url": card_url(bank.book),
    }
    out = {}
    for nt in NOTE_TYPES:
        for t in nt.templates:
            for name in (t.front, t.back):
                out[name] = cards.get_template(str(TEMPLATES / name)).render(**values).strip() + "\n"
    return out


def level_badge(level: Level | None, env: jinja2.Environment) -> str:
    """The Level field: the level's label in a badge coloured by its rank ('' without levels)."""
    if level is None:
        return ""
    return str(env.get_template("fragments.jinja").module.level_badge(level)).strip()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Cards:
    """The deck's content for one build: every note, and the card templates rendered for the bank."""

    notes: tuple[NoteSpec, ...]
    templates: dict[str, str]  # template file name → Anki template text


def make_cards(bank: Bank, html: BankHtml, env: jinja2.Environment, messages: Messages) -> Cards:
    """The notes and card templates of `bank`; `html` is its "anki" flavour."""
    return Cards(build_notes(bank, html, env, messages), card_templates(bank, env, messages, furigana=html.furigana))


def build_notes(bank: Bank, html: BankHtml, env: jinja2.Environment, messages: Messages) -> tuple[NoteSpec, ...]:
    """Every note of the full deck, in study order. Pure; the pipeline calls it once per build
    (the ledger, the deck renderer and the card preview all read the result). `html` is the
    bank's "anki" flavour."""
    ns = bank.book.namespace
    media = {p.name: media_name(p) for p in bank.media}
    see_template = env.get_template(str(TEMPLATES / "see-also.html.jinja"))
    qa, cloze, term, *imported = note_types(bank)
    by_key = {nt.imported.key: nt for nt in imported if nt.imported is not None}
    finish = filler("anki", env, furigana=html.furigana)
    notes: list[NoteSpec] = []

    def fix(text: str) -> str:
        return _rewrite_media(text, media)

    def own_field(q: Question, text: str) -> str:
        """An `anki.fields` entry's Markdown as card HTML (checked by the loader like all Markdown)."""
        return finish(process(Field(q.id, Role.ANSWER, text, f"question '{q.id}'", q.loc))) if text.strip() else ""

    def see_also(ids: tuple[str, ...]) -> str:
        refs = [bank.question_by_id[i] for i in ids if i in bank.question_by_id]
        if not refs:
            return ""
        items = [{"section": q.section, "question": html.questions[q.id].question} for q in refs]
        return see_template.render(refs=items).strip()

    for chapter in bank.chapters:
        deck = chapter_deck(bank, chapter)
        reviewed = messages.month(chapter.reviewed) if chapter.reviewed else ""
        for q in chapter.questions:
            h = html.questions[q.id]
            tags = _tags(bank, q)
            common = (q.section, str(html.titles[chapter.id]), level_badge(q.level, env))
            kept = by_key.get(q.anki.notetype) if q.anki is not None else None
            words = _words(q.question_md, q.answer_md, q.explanation_md)
            label = plain(h.question)
            if q.anki is not None and kept is not None and kept.imported is not None:
                # the note learners already have: its GUID and note type, instead of a Q&A note
                ifields = _imported_fields(q, kept.imported, h, own_field)
                notes.append(_spec(q.id, q.anki.guid, kept, tuple(fix(f) for f in ifields), tags, deck, len(notes), q.id, words, label))
                cloze_taken = kept.imported.field_for("cloze") is not None
            else:
                kind = q.kind.label if q.kind else ""
                fields = (
                    q.id, fix(h.question), fix(h.answer), fix(h.explanation or ""), *common, kind,
                    str(entry_names(bank, q, messages)), see_also(q.see), reviewed,
                )  # fmt: skip
                notes.append(_spec(q.id, genanki.guid_for(ns, q.id), qa, fields, tags, deck, len(notes), q.id, words, label))
                cloze_taken = False
            if h.cloze is not None and not cloze_taken:
                cfields = (q.id, fix(h.cloze), fix(h.question), fix(h.answer), *common, reviewed)
                key, guid = f"{q.id}::cloze", genanki.guid_for(ns, q.id, "cloze")
                notes.append(_spec(key, guid, cloze, cfields, tags, deck, len(notes), q.id, _words(q.cloze_md), label))
    glossary = deck_name(bank, None, messages.gettext("Glossary"))
    for t in bank.terms:
        tfields = (t.id, str(Markup.escape(t.term)), fix(html.terms[t.id]), see_also(t.see))
        words = _words(t.term, t.definition_md)
        notes.append(
            _spec(t.id, genanki.guid_for(ns, t.id), term, tfields, (f"{ns}::glossary",), glossary, len(notes), None, words, t.term)
        )
    return tuple(notes)


def _imported_fields(q: Question, nt: AnkiNoteType, h: QuestionHtml, own_field: Callable[[Question, str], str]) -> tuple[str, ...]:
    """An imported note's fields, in its note type's order: each from the note's own `anki.fields`
    entry if it has one, else from the question's Markdown its role names (empty without a role).
    A block that is a single paragraph loses its <p> wrapper, as Anki's editor writes fields."""
    own = dict(q.anki.fields) if q.anki is not None else {}
    by_role = {"question": h.question, "answer": h.answer, "explanation": h.explanation, "cloze": h.cloze}
    out = []
    for f in nt.fields:
        if f.name in own:
            value = own_field(q, own[f.name])
        else:
            got = by_role.get(f.role or "")
            value = "" if got is None else str(got)
        out.append(_unwrap(value))
    return tuple(out)


_ONE_PARAGRAPH = re.compile(r"\A<p>((?:(?!</?p[ >]).)*)</p>\s*\Z", re.DOTALL)


def _unwrap(html: str) -> str:
    """'<p>text</p>' → 'text': a one-paragraph field as Anki's editor stores it."""
    match = _ONE_PARAGRAPH.match(html)
    return match.group(1) if match else html.strip()


def _spec(
    key: str,
    guid: str,
    nt: NoteTypeDef,
    fields: tuple[str, ...],
    tags: tuple[str, ...],
    deck: str,
    due: int,
    qid: str | None,
    substance: str,
    label: str,
) -> NoteSpec:
    shown = tuple(dict.fromkeys(name for f in fields for pair in _MEDIA_SRC.findall(f) for name in pair if name))
    return NoteSpec(key, guid, nt, tuple(fields), tags, deck, due, qid, shown, substance, label)


def _words(*texts: str | None) -> str:
    """The author's words behind a note, as written: what a correction changes."""
    return "\x1f".join(t or "" for t in texts)


def plain(html: str) -> str:
    """Inline HTML as one line of plain text (for the ledger and the changelog)."""
    return " ".join(Markup(html).striptags().split())


def tag_segments(bank: Bank) -> list[str]:
    """The hierarchical tag groups a bank's notes carry, in a stable order (for the deck description)."""
    out = ["chapter"]
    if bank.book.levels:
        out.append("level")
    if bank.book.kinds:
        out.append("kind")
    if bank.entries:
        out.append(bank.book.index.tag)
    return [*out, "tag"]


def _tags(bank: Bank, q: Question) -> tuple[str, ...]:
    """A note's tags. A tag anki.yaml maps is written as the Anki tag learners have (e.g.
    Geo::Europe); a note imported from Anki carries no chapter tag, so its tags stay its own."""
    ns = bank.book.namespace
    names = bank.anki.tag_names
    tags = [] if q.anki is not None else [f"{ns}::chapter::{q.chapter_id}"]
    if q.level is not None:
        tags.append(f"{ns}::level::{q.level.id}")
    if q.kind is not None:
        tags.append(f"{ns}::kind::{q.kind.id}")
    tags += [f"{ns}::{bank.book.index.tag}::{e}" for e in q.index]
    tags += [names.get(t, f"{ns}::tag::{t}") for t in q.tags]
    return tuple(tags)


_MEDIA_SRC = re.compile(r'src="([^"/]+)"|\[sound:([^\]/"<>]+)\]')


def _rewrite_media(text: str, names: dict[str, str]) -> str:
    """src="media/x.svg" → src="x-<hash>.svg": Anki keeps media flat, by file name. A sound an
    imported note plays ([sound:x.mp3], a file in media/) is renamed the same way."""

    def sub(match: re.Match[str]) -> str:
        return f'src="{names.get(match.group(1), match.group(1))}"'

    def sound(match: re.Match[str]) -> str:
        return f"[sound:{names.get(match.group(1), match.group(1))}]"

    text = re.sub(r"\[sound:([^\]/\"<>]+)\]", sound, text) if "[sound:" in text else text
    return re.sub(r'src="' + re.escape(MEDIA_PREFIX) + r'([^"]+)"', sub, text)


def notetype_text(nt: NoteTypeDef, templates: dict[str, str], css: str) -> str:
    """Everything that defines a note type; its hash drives the note type's modification time."""
    if nt.imported is not None:  # as anki.yaml records it (field roles are deckbook's, not Anki's)
        i = nt.imported
        own = [(t.name, t.id, t.front, t.back) for t in i.templates]
        fields = [(f.name, f.id) for f in i.fields]
        return json.dumps([nt.key, i.id, i.name, i.cloze, i.sort_field, i.stock_kind, fields, own, i.css], ensure_ascii=False)
    parts = [(t.name, t.id, templates[t.front], templates[t.back]) for t in nt.templates]
    return json.dumps([nt.key, nt.title, [(f.name, f.id) for f in nt.fields], parts, css], ensure_ascii=False)


def card_css(env: jinja2.Environment) -> str:
    """The note types' stylesheet: card.css plus Pygments colours for light and night mode."""
    base = source_of(env, str(TEMPLATES / "card.css"))
    return base + pygments_css([".highlight"], "default") + pygments_css(NIGHT, "github-dark")


def ledger_contents(bank: Bank, cards: Cards, env: jinja2.Environment) -> dict[str, Item]:
    """Ledger key → what it stands for: every note, and every note type's definition."""
    css = card_css(env)
    contents = {n.key: n.ledger_item() for n in cards.notes}
    contents.update({f"notetype::{nt.key}": Item(notetype_text(nt, cards.templates, css)) for nt in note_types(bank)})
    return contents
