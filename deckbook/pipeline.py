"""load → validate → ledger → render → commit: the whole build, without any printing.

`build()` reads as the steps it takes:

1. if nothing that can change an output changed since the last build, stop (up to date);
2. load and validate the bank, every Markdown field parsed once (`prepared`); any error (or,
   with `strict`, any warning) stops the build here — nothing is written;
3. compare the bank with the ledger: a reused id stops the build; new or changed notes get
   fresh times;
4. render: each unit whose fingerprint changed produces its files (in parallel with `jobs`);
   problems found late (a flashcard that does not fit) stop the build like early ones;
5. commit: write the files that changed, then the ledger, then the build state.

Nothing is written before step 5, and step 5 writes each file atomically, so a failing or
interrupted build leaves the previous good outputs intact.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deckbook import i18n, incremental, outlock, releasediff, renderers, scheduler
from deckbook import ledger as ledger_mod
from deckbook.fields import markdown_fields
from deckbook.files import ZIP_EPOCH_MIN, iso_date, write_atomic, write_if_changed
from deckbook.load import ReadMemo, SourceIndex, load_bank
from deckbook.model import Bank, Location
from deckbook.options import Options
from deckbook.prepared import CACHE_NAME, MarkdownCache, Prepared, prepare
from deckbook.problems import Problem, Severity, error, sort_key, warning
from deckbook.rendered import render_bank
from deckbook.renderers.anki_notes import ledger_contents, make_cards
from deckbook.renderers.base import BuildInfo, RenderContext, Runtime, Unit, fingerprint
from deckbook.renderers.handbook import handbook_job, stored_pages
from deckbook.store import CACHE_DIR, Store
from deckbook.templating import make_env
from deckbook.validate import validate_bank

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Written:
    path: Path
    size: int
    seconds: float
    target: str
    changed: bool = True  # False: the new bytes equal the old file, which was left untouched


@dataclass(frozen=True)
class Outcome:
    """What a check or build found and did. `ok` is False when nothing was (or would be) written."""

    problems: tuple[Problem, ...] = ()
    written: tuple[Written, ...] = ()
    skipped: tuple[str, ...] = ()  # units whose outputs were already up to date
    ledger_note: str | None = None
    notes: tuple[str, ...] = ()  # other things worth saying (a lock taken over from a dead build)
    ok: bool = True
    up_to_date: bool = False  # nothing changed since the last build: nothing was loaded or written


@dataclass(frozen=True)
class Checked:
    """A loaded and validated bank: `bank` is None when book.yaml itself is unusable."""

    bank: Bank | None
    index: SourceIndex
    prepared: Prepared | None
    problems: tuple[Problem, ...]


def check_source(source: Path, jobs: int = 1, cache: MarkdownCache | None = None, reads: ReadMemo | None = None) -> Checked:
    """Load and validate; every problem, sorted. Markdown is parsed once per field, in `jobs`
    processes, and taken from `cache` where the last build saw the same text (and files from
    `reads` where the last load saw the same bytes: `load_bank`)."""
    loaded = load_bank(source, reads)
    problems = list(loaded.problems)
    prepared = None
    if loaded.bank is not None:
        prepared = prepare(markdown_fields(loaded.bank), jobs, cache)
        problems += validate_bank(loaded.bank, loaded.index, prepared)
    return Checked(loaded.bank, loaded.index, prepared, tuple(sorted(set(problems), key=sort_key)))


def blocking(problems: Sequence[Problem], strict: bool) -> bool:
    return any(p.severity is Severity.ERROR or strict for p in problems)


class Book:
    """The templates in the bank's language and the deck's cards: what the ledger and every
    renderer share, derived once per build."""

    def __init__(self, bank: Bank, prepared: Prepared, templates: Path | None) -> None:
        self.env = make_env(templates)
        self.messages = i18n.messages(bank.book.language, self.env)
        i18n.install(self.env, self.messages)
        self.cards = make_cards(bank, render_bank(bank, prepared, "anki", self.env), self.env, self.messages)


@dataclass(frozen=True)
class LedgerPlan:
    """The bank measured against its ledger: what changed, and the ledger after this build."""

    path: Path
    shown: str
    current: ledger_mod.Ledger
    fresh: ledger_mod.Ledger
    changes: ledger_mod.Changes
    problems: tuple[Problem, ...]
    stale: bool  # the ledger on disk must be rewritten


def plan_ledger(bank: Bank, contents: dict[str, ledger_mod.Item]) -> LedgerPlan | tuple[Problem, ...]:
    """Compare `contents` (ledger key → what it stands for) with the ledger on disk and work out the
    ledger after this build of release `book.yaml` version; problems if it is unusable."""
    path = bank.source_dir / ledger_mod.LEDGER_NAME
    shown = os.path.normpath(str(path))
    current, read_problems = ledger_mod.read(path, shown, bank.book.version)
    if current is None:
        return tuple(read_problems)
    changes = ledger_mod.compare(current, contents)
    problems = [
        error(_where(bank, key), f"id '{key}' was removed from an earlier release; ids are never reused — choose a new id")
        for key in changes.reused
    ]
    tag = f"{bank.book.namespace}::retired"
    problems += [
        warning(
            Location(shown),
            f"'{key}' was published before and is no longer in the source; the next build publishes a tombstone for it ({tag})",
        )
        for key in changes.removed
    ]
    replaced = dict(bank.book.replaced)
    stale = changes.stale or any(current.retired[k].replaced_by != v for k, v in replaced.items() if k in current.retired)
    fresh = ledger_mod.refresh(current, contents, ledger_mod.now(), bank.book.version, replaced) if stale else current
    return LedgerPlan(path, shown, current, fresh, changes, tuple(problems), stale)


def check(source: Path, *, strict: bool = False, locked: bool = False, templates: Path | None = None, jobs: int = 1) -> Outcome:
    """`build.py check`: report problems; with `locked`, a stale ledger is an error too."""
    checked = check_source(source, jobs)
    problems = list(checked.problems)
    if checked.bank is not None and checked.prepared is not None and not blocking(problems, False):
        book = Book(checked.bank, checked.prepared, templates)
        plan = plan_ledger(checked.bank, ledger_contents(checked.bank, book.cards, book.env))
        if isinstance(plan, tuple):
            problems += plan
        else:
            problems += plan.problems
            if locked and plan.stale:
                where = "" if source == Path("source") else f" --source {source}"
                hint = f"run `uv run build.py lock{where}` and commit {ledger_mod.LEDGER_NAME}"
                problems.append(error(Location(plan.shown), f"ledger is stale ({describe(plan.changes)}); {hint}"))
    return Outcome(problems=tuple(problems), ok=not blocking(problems, strict))


def _where(bank: Bank, key: str) -> Location:
    base = key.split("::", maxsplit=1)[0]
    if base in bank.question_by_id:
        return bank.question_by_id[base].loc
    if base in bank.term_by_id:
        return bank.term_by_id[base].loc
    return bank.book.loc


def describe(changes: ledger_mod.Changes) -> str:
    """'2 new: a, b; 1 changed: c' — for messages about the ledger."""
    parts = []
    for label, keys in (
        ("new", changes.new),
        ("changed", changes.changed),
        ("removed", changes.removed),
        ("described anew", changes.described),
    ):
        if keys:
            shown = ", ".join(keys[:3]) + (", …" if len(keys) > 3 else "")
            parts.append(f"{len(keys)} {label}: {shown}")
    return "; ".join(parts) or "replacements named in book.yaml 'retired'"


@dataclass(frozen=True)
class Request:
    """What to build: the bank, where to, which targets, and how."""

    source: Path
    out: Path
    targets: tuple[str, ...]
    options: Options = field(default_factory=Options)
    strict: bool = False
    lock_only: bool = False  # refresh the ledger, build nothing
    templates: Path | None = None
    jobs: int = 1


def build(request: Request, progress: Callable[[str], None] = lambda _msg: None) -> Outcome:
    """Validate, refresh the ledger, render the targets and commit the results (see the module docstring)."""
    store = Store(request.out / CACHE_DIR)
    manifest = incremental.Manifest.read(store.root)
    if not request.lock_only and manifest.inputs == _inputs(request) and manifest.files_intact(request.out):
        return Outcome(up_to_date=True)

    checked = check_source(request.source, request.jobs, MarkdownCache.load(store.root / CACHE_NAME))
    if checked.bank is None or checked.prepared is None or blocking(checked.problems, request.strict):
        return Outcome(problems=checked.problems, ok=False)
    bank, prepared = checked.bank, checked.prepared

    book = Book(bank, prepared, request.templates)
    plan = plan_ledger(bank, ledger_contents(bank, book.cards, book.env))
    if isinstance(plan, tuple) or plan.changes.reused:
        problems = plan if isinstance(plan, tuple) else plan.problems
        return Outcome(problems=checked.problems + tuple(p for p in problems if p.severity is Severity.ERROR), ok=False)
    problems = checked.problems + plan.problems
    note = f"updated {plan.shown} ({describe(plan.changes)})" if plan.stale else None
    if request.lock_only:
        _commit_ledger(plan)
        return Outcome(problems=problems, ledger_note=note)

    info = build_info(bank, plan.fresh)
    ctx = RenderContext(bank, prepared, book.cards, book.env, book.messages, plan.fresh, info, request.options, store)
    try:
        with outlock.holding(request.out) as held:
            outcome = _render_and_commit(ctx, request, plan, progress)
    except outlock.Busy as busy:
        return Outcome(problems=(*problems, error(Location(os.path.normpath(str(request.out))), str(busy))), ok=False)
    took_over = (held.took_over,) if held.took_over else ()
    return dataclasses.replace(outcome, problems=problems + outcome.problems, ledger_note=note, notes=took_over)


def _render_and_commit(ctx: RenderContext, request: Request, plan: LedgerPlan, progress: Callable[[str], None]) -> Outcome:
    """Steps 4 and 5, under the output folder's lock."""
    manifest = incremental.Manifest.read(ctx.store.root)  # again: a build that held the lock before may have changed it
    done = _render(ctx, request, manifest, progress)
    late = tuple(p for d in done if d.produced is not None for p in d.produced.problems)
    if blocking(late, request.strict):
        return Outcome(problems=late, ok=False)
    written = _commit_outputs(request.out, done, manifest)
    plan = _with_release_pages(ctx, request, plan)
    _commit_ledger(plan)
    manifest.inputs = _inputs(request)  # after the ledger is written: it is one of the inputs
    manifest.forget({d.unit.key for d in done})
    manifest.write(ctx.store.root)
    MarkdownCache.save(ctx.store.root / CACHE_NAME, ctx.prepared)
    skipped = tuple(d.unit.key for d in done if d.produced is None)
    return Outcome(problems=late, written=written, skipped=skipped)


def _inputs(request: Request) -> str:
    return incremental.build_inputs(request.source, request.templates, request.targets, request.options, request.strict)


def _render(ctx: RenderContext, request: Request, manifest: incremental.Manifest, progress: Callable[[str], None]) -> list[scheduler.Done]:
    """Produce every unit whose fingerprint changed (or whose files are gone); skip the rest."""
    code = incremental.code_digest(request.templates)
    units = [u for t in request.targets for u in renderers.get(t).units(ctx)]

    def start(unit: Unit) -> scheduler.Task | None:
        renderer = renderers.get(unit.renderer)
        job = renderer.job(ctx, unit)
        print_ = hashlib.sha256(f"{code}\0{fingerprint(job)}".encode()).hexdigest()
        if manifest.is_current(unit.key, print_, request.out):
            return None
        manifest.pending[unit.key] = print_
        # a unit that runs beside others (not `alone`) has a core of its own, not every core
        workers = request.jobs if unit.alone or len(units) == 1 else 1
        return scheduler.Task(renderer.produce, job, Runtime(ctx.store, workers))

    return scheduler.run(units, start, request.jobs, progress)


def _commit_outputs(out: Path, done: list[scheduler.Done], manifest: incremental.Manifest) -> tuple[Written, ...]:
    """Write every produced file whose bytes changed (atomically), and record what each unit made."""
    written = []
    for d in done:
        if d.produced is None:
            continue
        for name, data in sorted(d.produced.files.items()):
            path = out / name
            changed = write_if_changed(path, data)
            written.append(Written(path, len(data), d.seconds / max(1, len(d.produced.files)), d.unit.renderer, changed))
        manifest.record(d.unit.key, out, sorted(d.produced.files))
    return tuple(written)


def a4_pages(ctx: RenderContext) -> dict[str, int] | None:
    """Where every anchor lands in the A4 handbook of this source, if it was laid out (the store knows)."""
    return stored_pages(ctx.store, handbook_job(ctx, "a4"), exact=True)


def _with_release_pages(ctx: RenderContext, request: Request, plan: LedgerPlan) -> LedgerPlan:
    """Record where each chapter begins in this release's A4 handbook (for `diff`), when the
    ledger is written anyway or this release has none recorded yet."""
    version = ctx.bank.book.version
    if not ({"pdf", "epub"} & set(request.targets)) or (not plan.stale and version in plan.fresh.releases):
        return plan
    pages = a4_pages(ctx)
    if pages is None:
        return plan
    chapters = {c.id: pages[f"ch-{c.id}"] for c in ctx.bank.chapters if f"ch-{c.id}" in pages}
    if plan.fresh.releases.get(version) == chapters:
        return plan
    return dataclasses.replace(plan, fresh=ledger_mod.with_release_pages(plan.fresh, version, chapters), stale=True)


def diff(source: Path, out: Path, templates: Path | None = None) -> releasediff.Report | tuple[Problem, ...]:
    """`build.py diff`: what importing the release being prepared does to a learner of the last one."""
    checked = check_source(source)
    if checked.bank is None or checked.prepared is None or blocking(checked.problems, False):
        return tuple(p for p in checked.problems if p.severity is Severity.ERROR)
    bank = checked.bank
    book = Book(bank, checked.prepared, templates)
    plan = plan_ledger(bank, ledger_contents(bank, book.cards, book.env))
    if isinstance(plan, tuple):
        return plan
    info = build_info(bank, plan.fresh)
    ctx = RenderContext(bank, checked.prepared, book.cards, book.env, book.messages, plan.fresh, info, Options(), Store(out / CACHE_DIR))
    return releasediff.release_diff(bank, plan.current, plan.fresh, plan.changes.reused, a4_pages(ctx))


def _commit_ledger(plan: LedgerPlan) -> None:
    if plan.stale:
        write_atomic(plan.path, ledger_mod.dumps(plan.fresh).encode("utf-8"))


def context(
    bank: Bank, prepared: Prepared, store: Store, options: Options | None = None, templates: Path | None = None, *, stamp: int | None = None
) -> RenderContext:
    """What renderers receive for `bank`, without a ledger on disk: every note is new as of
    `stamp` (default SOURCE_DATE_EPOCH, or now). For tests and tools that call renderers' pure builders."""
    book = Book(bank, prepared, templates)
    ledger = ledger_mod.refresh(
        ledger_mod.Ledger(), ledger_contents(bank, book.cards, book.env), stamp or ledger_mod.now(), bank.book.version
    )
    return RenderContext(bank, prepared, book.cards, book.env, book.messages, ledger, build_info(bank, ledger), options or Options(), store)


def build_info(bank: Bank, fresh: ledger_mod.Ledger) -> BuildInfo:
    """Dates and revision printed in outputs: from SOURCE_DATE_EPOCH or the ledger, never the clock."""
    epoch_env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    epoch = int(epoch_env) if epoch_env.isdigit() else (fresh.newest or ZIP_EPOCH_MIN)
    return BuildInfo(epoch=epoch, date=iso_date(epoch), revision=incremental.source_revision(bank.source_dir), fixed=epoch_env.isdigit())
