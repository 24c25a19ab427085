"""Command-line choices that change outputs, grouped by the renderer that reads them.

Each renderer copies the options it reads into its job, so an option changes the fingerprint of
exactly the outputs it affects (a flashcard offset never rebuilds the decks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PAPERS = ("a4", "letter")


@dataclass(frozen=True)
class DeckFilter:
    """A focused deck: only questions matching every non-empty criterion (terms only when unfiltered)."""

    levels: tuple[str, ...] = ()
    chapters: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.levels or self.chapters or self.tags)

    @property
    def slug(self) -> str:
        parts = [("level", self.levels), ("chapter", self.chapters), ("tag", self.tags)]
        return "--".join(f"{name}-{'-'.join(values)}" for name, values in parts if values)


@dataclass(frozen=True)
class AnkiOptions:
    deck_filter: DeckFilter = field(default_factory=DeckFilter)
    level_decks: bool = True  # the default build also writes one deck per level


@dataclass(frozen=True)
class FlashcardOptions:
    papers: tuple[str, ...] = PAPERS
    offset_mm: tuple[float, float] = (0.0, 0.0)  # shift of the back side, for misaligned duplex printers


@dataclass(frozen=True)
class Options:
    """All of them; `papers` is the handbook's."""

    papers: tuple[str, ...] = PAPERS
    anki: AnkiOptions = field(default_factory=AnkiOptions)
    flashcards: FlashcardOptions = field(default_factory=FlashcardOptions)
