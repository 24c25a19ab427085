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


class Level(enum.Enum):
    """How senior a question is; the order is the study order."""

    BASIC = "basic"  # associate / entry level
    INTERMEDIATE = "intermediate"  # professional
    ADVANCED = "advanced"  # senior (L6)
    EXPERT = "expert"  # principal (L7)

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Kind(enum.Enum):
    """What sort of answer a question asks for."""

    CONCEPT = "concept"
    SCENARIO = "scenario"
    DESIGN = "design"
    LEADERSHIP = "leadership"


class Status(enum.Enum):
    """Whether a cloud service can still be adopted."""

    ACTIVE = "active"
    CLOSED = "closed-to-new-customers"
    RETIRED = "retired"


@dataclass(frozen=True)
class Service:
    """One entry of the services registry (``services.yaml``)."""

    id: str
    name: str
    full_name: str | None
    aliases: tuple[str, ...]
    category: str
    status: Status
    note: str | None
    loc: Location


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
    level: Level
    kind: Kind
    services: tuple[str, ...]
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
    reviewed: str  # "2026-11": the month its facts were last checked
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


@dataclass(frozen=True)
class Bank:
    """The whole question bank, as loaded and validated; the only input of every renderer."""

    book: Book
    chapters: tuple[Chapter, ...]
    terms: tuple[Term, ...]
    services: tuple[Service, ...]
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
    def service_by_id(self) -> dict[str, Service]:
        return {s.id: s for s in self.services}

    @cached_property
    def term_by_id(self) -> dict[str, Term]:
        return {t.id: t for t in self.terms}
