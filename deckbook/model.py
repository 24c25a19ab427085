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


@dataclass(frozen=True)
class Bank:
    """The whole question bank, as loaded and validated; the only input of every renderer."""

    book: Book
    chapters: tuple[Chapter, ...]
    terms: tuple[Term, ...]
    entries: tuple[Entry, ...]  # the index registry (empty: the bank has no index)
    source_dir: Path
    media: tuple[Path, ...] = field(default=())  # files under source/media/ that Markdown references

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
