"""What every importer reads from its file, in one shape: notes with HTML fields, their note types,
decks and media. Planning the bank (`deckbook.importers.plan`) starts from here, whatever the format.

Contract of every reader (`package`, `text`, `markdown`): it returns a `Harvest` or raises
`Refused` with problems worded for people (``file[:line]: error: …``); it never writes outside
its own temporary folder, and never returns partial results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from deckbook.model import Location
from deckbook.problems import Problem, error


class Refused(Exception):
    """The input cannot be imported; `problems` say where and why (printed, exit status 1)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = tuple(problems)


def refuse(where: str, message: str, line: int | None = None) -> Refused:
    """A `Refused` with one error at `where` (a path as the user wrote it) and `line`."""
    return Refused([error(Location(where, line), message)])


@dataclass(frozen=True)
class SourceField:
    name: str
    id: int | None  # Anki's field id; None where Anki had none yet


@dataclass(frozen=True)
class SourceTemplate:
    name: str
    id: int | None
    front: str
    back: str


@dataclass(frozen=True)
class SourceNoteType:
    """A note type exactly as learners' collections hold it (what anki.yaml will record)."""

    id: int
    name: str
    cloze: bool
    fields: tuple[SourceField, ...]
    templates: tuple[SourceTemplate, ...]
    css: str
    sort_field: int
    stock_kind: int | None  # Anki's originalStockKind: 1 Basic, 2 and reversed, 3 optional reversed, 4 typing, 5 Cloze, 6 Image Occlusion
    mtime: int


@dataclass(frozen=True)
class SourceNote:
    """One note: its fields as HTML (as Anki stores them), in its note type's field order."""

    label: str  # how messages name it: "note 1796130056506" or "deck.csv:12"
    notetype: str  # note type name
    field_names: tuple[str, ...]
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str
    guid: str | None  # None: nothing identifies it in learners' collections
    mtime: int | None  # its modification time in learners' collections; None: unknown or changed since
    nid: int | None = None  # its note id in the collection it was read from
    losses: tuple[str, ...] = ()  # what the reader could not keep (reported with the note)


@dataclass(frozen=True)
class Harvest:
    """Everything read from one file (plus, for text formats, the collection given with --collection)."""

    source: Path
    title: str  # a default book title (the file's name)
    notes: tuple[SourceNote, ...]
    notetypes: Mapping[str, SourceNoteType] = field(default_factory=dict)  # by name; only definitions learners have
    decks: Mapping[str, str] = field(default_factory=dict)  # deck name → description (HTML)
    media: Mapping[str, Path] = field(default_factory=dict)  # file name as fields refer to it → the file
    remarks: tuple[str, ...] = ()  # what the summary must say about the whole file

    @cached_property
    def _guids(self) -> dict[str, SourceNote]:
        return {n.guid: n for n in self.notes if n.guid}

    @cached_property
    def _nids(self) -> dict[int, SourceNote]:
        return {n.nid: n for n in self.notes if n.nid is not None}

    def by_guid(self, guid: str) -> SourceNote | None:
        return self._guids.get(guid)

    def by_nid(self, nid: int) -> SourceNote | None:
        return self._nids.get(nid)

    def definition(self, note: SourceNote) -> SourceNoteType | None:
        """The note type learners have for `note`, if it is known and has the note's fields."""
        nt = self.notetypes.get(note.notetype)
        return nt if nt is not None and len(nt.fields) == len(note.fields) else None
