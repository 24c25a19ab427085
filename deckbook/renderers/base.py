"""What every renderer receives and promises: `Renderer`, its `Unit`s, `RenderContext` and `Produced`.

A renderer turns the validated bank into files in two steps, like a build system's action:

1. `job(ctx, unit)` gathers, cheaply, *everything* the unit's output depends on into one plain
   value (strings, bytes, numbers, tuples, frozen dataclasses) — the rendered HTML, the notes,
   the template text, its own options;
2. `produce(job, store)` makes the files from that value alone (the expensive part: layout,
   packaging), possibly in a worker process.

Because `produce` reads nothing but its job, the job's `fingerprint` is a complete description of
the output: a unit whose fingerprint (and code) did not change since the last build is skipped,
and no one has to list a unit's inputs by hand. Adding an output format means writing one
renderer module (and its templates) and naming it in `deckbook.renderers.REGISTRY`.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

import jinja2

from deckbook.files import iso_date
from deckbook.i18n import Messages
from deckbook.ledger import Ledger
from deckbook.model import Bank
from deckbook.options import Options
from deckbook.prepared import Prepared
from deckbook.problems import Problem
from deckbook.rendered import BankHtml, Flavour, render_bank
from deckbook.renderers.anki_notes import Cards
from deckbook.store import Store


@dataclass(frozen=True)
class BuildInfo:
    """Facts about this build that appear in outputs; all derived from the source, never the clock."""

    epoch: int  # newest content change (ledger) or SOURCE_DATE_EPOCH
    date: str  # the same, as YYYY-MM-DD
    revision: str  # source revision (git) or "unversioned"
    fixed: bool = False  # the epoch was given (SOURCE_DATE_EPOCH): every output carries it


@dataclass(frozen=True)
class RenderContext:
    """Everything a build knows once the bank is valid, computed once and passed to every renderer."""

    bank: Bank
    prepared: Prepared  # every Markdown field's analysis and HTML (with slots for math and readings)
    cards: Cards  # the full deck's notes and card templates (the ledger hashes them too)
    env: jinja2.Environment  # templates, with the book's language installed
    messages: Messages  # the same language's labels, for code
    ledger: Ledger  # as refreshed by this build
    info: BuildInfo
    options: Options
    store: Store  # derived data kept between builds (page maps); renderers may read it in `job`
    memo: dict[object, object] = field(default_factory=dict, compare=False)  # values several renderers derive, once per build

    def html(self, flavour: Flavour) -> BankHtml:
        """The bank's HTML as `flavour`'s outputs show it (derived once per build and flavour)."""
        key = ("html", flavour)
        if key not in self.memo:
            self.memo[key] = render_bank(self.bank, self.prepared, flavour, self.env)
        got = self.memo[key]
        assert isinstance(got, BankHtml)
        return got


def info_for(ctx: RenderContext, keys: Iterable[str]) -> BuildInfo:
    """The build info of an output that shows only the notes `keys`: dated by the newest change
    among them, so an edit elsewhere in the bank leaves that output's bytes (and date) alone."""
    if ctx.info.fixed:
        return ctx.info
    epoch = max((ctx.ledger.mod(k) for k in keys), default=ctx.info.epoch)
    return dataclasses.replace(ctx.info, epoch=epoch, date=iso_date(epoch))


@dataclass(frozen=True)
class Unit:
    """An independent piece of a renderer's work, e.g. one paper size of the handbook."""

    renderer: str
    name: str
    weight: int = 1  # expected cost relative to other units: heavier ones start first
    after: tuple[str, ...] = ()  # keys of units to finish first when they run in the same build (to reuse their results)
    alone: bool = False  # runs with no other unit beside it: it keeps every core busy itself (and its memory is large)

    @property
    def key(self) -> str:
        return f"{self.renderer}:{self.name}"


@dataclass(frozen=True)
class Runtime:
    """What `produce` may use beside its job: the store of derived data, and how many worker
    processes it may start (a renderer that can split its own work, like the handbook's parts)."""

    store: Store
    workers: int = 1


@dataclass(frozen=True)
class Produced:
    """A unit's result: files (name relative to the output folder → bytes) and problems found late."""

    files: Mapping[str, bytes]
    problems: tuple[Problem, ...] = ()


JobT = TypeVar("JobT")


class Renderer(ABC, Generic[JobT]):
    """One output format. Subclasses set `name` and implement `job` and `produce`.

    Contract: `job` is cheap and pure; `produce` reads only its job (and the runtime's shared
    store of derived data such as page maps) and never writes files itself — the pipeline stages and
    commits what it returns. Units of one renderer may run in parallel processes.
    """

    name: ClassVar[str]

    def units(self, ctx: RenderContext) -> list[Unit]:
        """The pieces of work for this build (default: one unit named after the renderer)."""
        return [Unit(self.name, self.name)]

    @abstractmethod
    def job(self, ctx: RenderContext, unit: Unit) -> JobT:
        """Everything `produce` will read, as one plain value; its fingerprint identifies the output."""

    @abstractmethod
    def produce(self, job: JobT, runtime: Runtime) -> Produced:
        """The output files of one unit, made from `job` alone (and the runtime's derived data)."""


def fingerprint(value: object) -> str:
    """A stable digest of a plain value: equal values give equal digests on every machine."""
    h = hashlib.sha256()
    _feed(h, value)
    return h.hexdigest()


def _feed(h: hashlib._Hash, value: object) -> None:
    if value is None or isinstance(value, bool | int | float):
        h.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, str):
        data = value.encode("utf-8")
        h.update(f"s{len(data)}:".encode() + data)
    elif isinstance(value, bytes):
        h.update(f"b{len(value)}:".encode() + value)
    elif isinstance(value, enum.Enum):
        h.update(f"e{type(value).__name__}.".encode())
        _feed(h, value.value)
    elif isinstance(value, Path):
        _feed(h, str(value))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(f"d{type(value).__name__}(".encode())
        for f in dataclasses.fields(value):
            h.update(f.name.encode() + b"=")
            _feed(h, getattr(value, f.name))
        h.update(b")")
    elif isinstance(value, Mapping):
        h.update(f"m{len(value)}{{".encode())
        for k in sorted(value, key=repr):
            _feed(h, k)
            _feed(h, value[k])
        h.update(b"}")
    elif isinstance(value, tuple | list):
        h.update(f"l{len(value)}[".encode())
        for item in value:
            _feed(h, item)
        h.update(b"]")
    else:
        raise TypeError(f"a renderer's job may hold only plain values, not {type(value).__name__}")


def file_stem(bank: Bank) -> str:
    """Output files are named after the bank's namespace, e.g. organic-chemistry.epub."""
    return bank.book.namespace
