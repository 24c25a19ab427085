"""The immutable in-memory question bank that every renderer reads; no I/O here.

Every node remembers where it came from (`Location`) so that a problem found anywhere can be
reported as ``path:line``. Fields named ``*_md`` hold Markdown exactly as written in the source;
HTML is produced once, by `deckbook.rendered`, never stored here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path


@dataclass(frozen=True, order=True)
class Location:
    """A place in the source: the path as the user should see it, and a 1-based line if known."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Level:
    """A study level the bank declares in book.yaml (`levels:`); `rank` orders them, from 1."""

    id: str
    label: str
    meaning: str | None
    rank: int


@dataclass(frozen=True)
class Kind:
    """A kind of question the bank declares in book.yaml (`kinds:`), e.g. concept or scenario."""

    id: str
    label: str


class Status(enum.Enum):
    """Whether an index entry is current: a product can close to new customers or be retired."""

    ACTIVE = "active"
    CLOSED = "closed-to-new-customers"
    RETIRED = "retired"


@dataclass(frozen=True)
class Entry:
    """One entry of the bank's index registry (services, drugs, theorems…: the bank says which)."""

    id: str
    name: str
    full_name: str | None
    aliases: tuple[str, ...]
    category: str | None
    status: Status
    note: str | None
    loc: Location


@dataclass(frozen=True)
class IndexSpec:
    """How the bank names its index (book.yaml `index:`); every field has a neutral default."""

    file: str = "index.yaml"
    title: str | None = None  # the index's heading; None: the catalogue's word for "Index"
    noun: str | None = None  # what one entry is, for messages ("unknown service 's4'"); None: "index entry"
    label: str | None = None  # beside a question and as the Anki field: "Services"; None: the catalogue's "Index"
    tag: str = "index"  # Anki tag segment: <namespace>::<tag>::<entry id>


@dataclass(frozen=True)
class FontSpec:
    """Font files in the bank (book.yaml `fonts:`) that replace the bundled faces, by role."""

    body: tuple[str, ...] = ()
    headings: tuple[str, ...] = ()
    code: tuple[str, ...] = ()


# --- What a bank keeps of the Anki deck it was imported from (anki.yaml, `anki:` keys) ---------
# An imported note must reach learners' collections as the same note: same GUID, same note type
# (id, fields, templates), or Anki skips it as "conflicting" and the learner never gets an update.
# These records let the deck renderer emit it exactly so; see README "Bring an existing deck".

ROLES = ("question", "answer", "explanation", "cloze")  # the Markdown that may fill an imported field


@dataclass(frozen=True)
class AnkiField:
    """One field of an imported note type; its position in the note type is its ordinal."""

    name: str
    id: int | None  # Anki's field id (None in note types older than field ids: Anki matches by name)
    role: str | None  # one of ROLES: the question's Markdown that fills it; None: the note's own `anki.fields`


@dataclass(frozen=True)
class AnkiTemplate:
    """One card template of an imported note type, as Anki stores it (HTML, Anki's {{field}} syntax)."""

    name: str
    id: int | None
    front: str
    back: str


@dataclass(frozen=True)
class AnkiNoteType:
    """An imported note type (anki.yaml `notetypes:`), emitted as is so learners' copies match."""

    key: str  # the bank's name for it: questions' `anki.notetype`
    id: int  # the note type's id in learners' collections; never change it
    name: str
    cloze: bool
    sort_field: int
    fields: tuple[AnkiField, ...]
    templates: tuple[AnkiTemplate, ...]
    css: str
    stock_kind: int | None  # Anki's originalStockKind (1 Basic … 5 Cloze, 6 Image Occlusion), if any
    loc: Location

    def field_for(self, role: str) -> AnkiField | None:
        return next((f for f in self.fields if f.role == role), None)


@dataclass(frozen=True)
class AnkiSpec:
    """anki.yaml: the imported note types, and the Anki tag each deckbook tag stands for."""

    notetypes: tuple[AnkiNoteType, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()  # (deckbook tag, Anki tag as learners have it)

    @cached_property
    def notetype_by_key(self) -> dict[str, AnkiNoteType]:
        return {nt.key: nt for nt in self.notetypes}

    @cached_property
    def tag_names(self) -> dict[str, str]:
        return dict(self.tags)


@dataclass(frozen=True)
class AnkiNote:
    """A question's `anki:` key: the Anki note it continues (its GUID and note type)."""

    guid: str
    notetype: str  # key into AnkiSpec.notetypes
    fields: tuple[tuple[str, str], ...] = ()  # (field name, Markdown) for fields no role fills, or that fit no role


@dataclass(frozen=True)
class Term:
    """A glossary term: a reversible Anki note and an entry in the book's glossary."""

    id: str
    term: str
    definition_md: str
    see: tuple[str, ...]
    origin: tuple[str, ...]
    loc: Location


@dataclass(frozen=True)
class Question:
    """One question. `id` is permanent: it seeds the Anki GUID, the HTML anchor and the ledger key."""

    id: str
    chapter_id: str
    section: str  # "3.12": chapter number and position, derived from source order
    question_md: str
    answer_md: str
    explanation_md: str | None
    level: Level | None  # None when the bank declares no levels
    kind: Kind | None
    index: tuple[str, ...]  # ids of index entries this question names
    tags: tuple[str, ...]
    cloze_md: str | None
    see: tuple[str, ...]
    origin: tuple[str, ...]
    loc: Location
    anki: AnkiNote | None = None  # imported from Anki: the deck emits that note, with its GUID and note type
    acknowledges: tuple[tuple[str, Status], ...] = ()  # (index entry id, the status its text says it has)


@dataclass(frozen=True)
class Chapter:
    """A chapter file: an intro and its questions in reading order."""

    id: str
    number: int  # 1-based position in book.yaml's `chapters`
    title: str
    reviewed: str | None  # "2026-11": the month its facts were last checked, if the bank records it
    intro_md: str | None
    questions: tuple[Question, ...]
    loc: Location
    anki_deck: str | None = None  # imported from Anki: the deck's name as learners have it (`anki: {deck: …}`)


@dataclass(frozen=True)
class Book:
    """The book-level metadata from ``book.yaml``."""

    title: str
    subtitle: str | None
    author: str
    version: str
    language: str
    deck: str
    namespace: str
    description_md: str | None
    chapter_ids: tuple[str, ...]
    loc: Location
    subject: str | None = None  # e.g. "Organic chemistry": e-book subject, PDF keywords
    keywords: tuple[str, ...] = ()
    guide_md: str | None = None  # Markdown: what the answer and the explanation are for ("How to use")
    levels: tuple[Level, ...] = ()
    kinds: tuple[Kind, ...] = ()
    index: IndexSpec = field(default_factory=IndexSpec)
    show_ids: bool = False  # print question ids on cards and in the book
    replaced: tuple[tuple[str, str], ...] = ()  # (removed id, the question that replaces it), from `retired:`
    report: str | None = None  # URL template to report a mistake: {id}, {version}, {title}, {section}
    fonts: FontSpec = field(default_factory=FontSpec)
    author_sort: str | None = None  # how the author files in a library ("Doe, Jane"); None: as written


@dataclass(frozen=True)
class Bank:
    """The whole question bank, as loaded and validated; the only input of every renderer."""

    book: Book
    chapters: tuple[Chapter, ...]
    terms: tuple[Term, ...]
    entries: tuple[Entry, ...]  # the index registry (empty: the bank has no index)
    source_dir: Path
    media: tuple[Path, ...] = field(default=())  # files under source/media/ that Markdown references
    anki: AnkiSpec = field(default_factory=AnkiSpec)  # anki.yaml: what an imported bank keeps of its Anki deck

    @property
    def chapter_digits(self) -> int:
        """Width of zero-padded chapter numbers in file and deck names (at least 2: '03')."""
        return max(2, len(str(len(self.chapters))))

    @cached_property
    def questions(self) -> tuple[Question, ...]:
        """Every question in reading order."""
        return tuple(q for chapter in self.chapters for q in chapter.questions)

    @cached_property
    def question_by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    @cached_property
    def chapter_by_id(self) -> dict[str, Chapter]:
        return {c.id: c for c in self.chapters}

    @cached_property
    def entry_by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}

    @cached_property
    def level_by_id(self) -> dict[str, Level]:
        return {lv.id: lv for lv in self.book.levels}

    @cached_property
    def term_by_id(self) -> dict[str, Term]:
        return {t.id: t for t in self.terms}
