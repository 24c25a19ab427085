"""What every renderer receives and promises: the `Renderer` protocol and its `RenderContext`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

import jinja2

from deckbook.ledger import Ledger
from deckbook.model import Bank
from deckbook.rendered import BankHtml

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
class Options:
    """Command-line choices that change outputs."""

    papers: tuple[str, ...] = PAPERS
    deck_filter: DeckFilter = field(default_factory=DeckFilter)
    level_decks: bool = True  # the default build also writes one deck per level
    flashcard_offset_mm: tuple[float, float] = (0.0, 0.0)  # shift of the back side, for misaligned duplex printers


@dataclass(frozen=True)
class BuildInfo:
    """Facts about this build that appear in outputs; all derived from the source, never the clock."""

    epoch: int  # newest content change (ledger) or SOURCE_DATE_EPOCH
    date: str  # the same, as YYYY-MM-DD
    revision: str  # source revision (git) or "unversioned"


@dataclass(frozen=True)
class RenderContext:
    bank: Bank
    html: BankHtml
    env: jinja2.Environment
    out_dir: Path  # a staging folder: the pipeline moves its files into place only if every renderer succeeds
    ledger: Ledger
    info: BuildInfo
    options: Options
    cache_dir: Path  # survives between builds (page-number maps); never part of the outputs


class Renderer(Protocol):
    """One output format, split into independent units of work (e.g. one per paper size).

    Contract: `render(ctx, unit)` writes only under ctx.out_dir and returns the files it wrote;
    units of one renderer may run in parallel processes; a unit runs after every unit named in
    `after(ctx, unit)` (e.g. the e-book's page list reuses the A4 layout).
    """

    name: ClassVar[str]

    def units(self, ctx: RenderContext) -> list[str]: ...

    def after(self, ctx: RenderContext, unit: str) -> list[tuple[str, str]]: ...

    def inputs(self, ctx: RenderContext, unit: str) -> str:
        """A digest of what this unit's output depends on in the bank (code, templates and options
        are added by the pipeline); equal digests mean the previous output is still right."""
        ...

    def render(self, ctx: RenderContext, unit: str) -> list[Path]: ...


def digest(*parts: object) -> str:
    """A short stable digest of JSON-able parts (for `Renderer.inputs`)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def media_digest(bank: Bank) -> str:
    """The bytes of every media file (an edited image changes every output that shows it)."""
    h = hashlib.sha256()
    for path in bank.media:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def file_stem(bank: Bank) -> str:
    """Output files are named after the bank's namespace, e.g. cloud-interview.epub."""
    return bank.book.namespace
