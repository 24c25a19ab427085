"""load → validate → (ledger) → render → commit: the whole build, without any printing.

The order is never interleaved. Nothing is written unless the bank has no errors (and, with
`strict`, no warnings). Renderers write into a staging folder beside the output; only when
every one of them has succeeded are the files moved into place (one atomic rename each) and the
ledger refreshed, so a failing or interrupted build leaves the previous good outputs intact.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deckbook import incremental, premark, renderers
from deckbook import jobs as jobs_mod
from deckbook import ledger as ledger_mod
from deckbook.load import SourceIndex, load_bank
from deckbook.model import Bank, Location
from deckbook.problems import Problem, Severity, error, sort_key, warning
from deckbook.rendered import render_bank
from deckbook.renderers.anki import ledger_contents
from deckbook.renderers.base import BuildInfo, Options, RenderContext
from deckbook.templating import TEMPLATES_DIR, make_env
from deckbook.validate import markdown_work, validate_bank

log = logging.getLogger(__name__)
CACHE_DIR = incremental.CACHE_DIR


@dataclass(frozen=True)
class Written:
    path: Path
    size: int
    seconds: float
    target: str
    changed: bool = True  # False: the new bytes equal the old file, which was left untouched


@dataclass
class Outcome:
    """What a check or build found and did. `ok` is False when nothing was (or would be) written."""

    problems: list[Problem] = field(default_factory=list)
    written: list[Written] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # units whose outputs were already up to date
    ledger_note: str | None = None
    ok: bool = True
    up_to_date: bool = False  # nothing changed since the last build: nothing was loaded or written


@dataclass(frozen=True)
class Checked:
    bank: Bank | None
    index: SourceIndex
    problems: list[Problem]
    markdown: list[premark.Work]


def check_source(source: Path, jobs: int = 1, markdown_cache: Path | None = None) -> Checked:
    """Load and validate; every problem, sorted. The bank's Markdown is first taken from
    `markdown_cache` or parsed in `jobs` processes (same results, less wall time)."""
    loaded = load_bank(source)
    problems = list(loaded.problems)
    work = []
    if loaded.bank is not None:
        work = markdown_work(loaded.bank)
        premark.prime(work, jobs, markdown_cache)
        problems += validate_bank(loaded.bank, loaded.index)
    problems = sorted(set(problems), key=sort_key)
    return Checked(loaded.bank, loaded.index, problems, work)


def _blocking(problems: Sequence[Problem], strict: bool) -> bool:
    return any(p.severity is Severity.ERROR or strict for p in problems)


def check(source: Path, *, strict: bool = False, locked: bool = False, templates: Path | None = None, jobs: int = 1) -> Outcome:
    """`build.py check`: report problems; with `locked`, a stale ledger is an error too."""
    checked = check_source(source, jobs)
    problems = list(checked.problems)
    if checked.bank is not None and not any(p.severity is Severity.ERROR for p in problems):
        problems += _ledger_problems(checked.bank, locked, templates)
    return Outcome(problems=problems, ok=not _blocking(problems, strict))


def _ledger_path(source: Path) -> tuple[Path, str]:
    path = source / ledger_mod.LEDGER_NAME
    return path, os.path.normpath(str(path))


def _ledger_problems(bank: Bank, locked: bool, templates: Path | None) -> list[Problem]:
    path, shown = _ledger_path(bank.source_dir)
    current, problems = ledger_mod.read(path, shown)
    if current is None:
        return problems
    env = make_env(templates)
    changes = ledger_mod.compare(current, ledger_contents(bank, render_bank(bank), env))
    loc = Location(shown)
    out: list[Problem] = [
        error(_where(bank, key), f"id '{key}' was removed from an earlier release; ids are never reused — choose a new id")
        for key in changes.reused
    ]
    out += [
        warning(loc, f"'{key}' was published before and is no longer in the source; the next build records it as retired")
        for key in changes.removed
    ]
    if locked and changes.stale:
        what = _describe(changes)
        out.append(error(loc, f"ledger is stale ({what}); run `uv run build.py lock` and commit {ledger_mod.LEDGER_NAME}"))
    return out


def _where(bank: Bank, key: str) -> Location:
    base = key.split("::", maxsplit=1)[0]
    if base in bank.question_by_id:
        return bank.question_by_id[base].loc
    if base in bank.term_by_id:
        return bank.term_by_id[base].loc
    return bank.book.loc


def _describe(changes: ledger_mod.Changes) -> str:
    parts = []
    for label, keys in (("new", changes.new), ("changed", changes.changed), ("removed", changes.removed)):
        if keys:
            shown = ", ".join(keys[:3]) + (", …" if len(keys) > 3 else "")
            parts.append(f"{len(keys)} {label}: {shown}")
    return "; ".join(parts)


def build(
    source: Path,
    out: Path,
    targets: Sequence[str],
    options: Options,
    *,
    strict: bool = False,
    lock_only: bool = False,
    templates: Path | None = None,
    jobs: int = 1,
    progress: Callable[[str], None] = lambda _msg: None,
) -> Outcome:
    """Validate, refresh the ledger, render `targets` and move the results into `out`."""
    cache_dir = out / CACHE_DIR
    options_key = repr((sorted(targets), options, strict))
    manifest = incremental.Manifest.read(cache_dir)
    if not lock_only and manifest.inputs and manifest.inputs == _inputs(source, templates, options_key) and manifest.files_intact(out):
        return Outcome(up_to_date=True)
    checked = check_source(source, jobs, cache_dir / premark.CACHE_NAME)
    outcome = Outcome(problems=list(checked.problems))
    bank = checked.bank
    if bank is None or _blocking(outcome.problems, strict):
        outcome.ok = False
        return outcome
    path, shown = _ledger_path(source)
    current, problems = ledger_mod.read(path, shown)
    outcome.problems += problems
    if current is None:
        outcome.ok = False
        return outcome
    html = render_bank(bank)
    env = make_env(templates)
    contents = ledger_contents(bank, html, env)
    changes = ledger_mod.compare(current, contents)
    if changes.reused:
        outcome.problems += [p for p in _ledger_problems(bank, False, templates) if p.severity is Severity.ERROR]
        outcome.ok = False
        return outcome
    fresh = ledger_mod.refresh(current, contents, ledger_mod.now()) if changes.stale else current
    if changes.stale:
        outcome.ledger_note = f"updated {shown} ({_describe(changes)})"
    if not lock_only:
        base = RenderContext(bank, html, env, out, fresh, build_info(bank, fresh), options, cache_dir)
        outcome.written, outcome.skipped = _render_all(base, list(targets), manifest, jobs, progress)
    if changes.stale:
        write_atomic(path, ledger_mod.dumps(fresh).encode("utf-8"))
    if not lock_only:
        manifest.inputs = _inputs(source, templates, options_key)
        manifest.write(cache_dir)
        premark.save(cache_dir / premark.CACHE_NAME, checked.markdown)
    return outcome


def _inputs(source: Path, templates: Path | None, options_key: str) -> str:
    return incremental.input_fingerprint(source, templates, options_key, source_revision(source))


def _render_all(
    base: RenderContext, targets: list[str], manifest: incremental.Manifest, jobs: int, progress: Callable[[str], None]
) -> tuple[list[Written], list[str]]:
    """Render the units whose inputs changed into a staging folder inside the output folder; only
    when all succeeded, move each file into place (unless it is byte-identical to what is there)."""
    out = base.out_dir
    out.mkdir(parents=True, exist_ok=True)
    units = jobs_mod.plan(base, targets)
    code = incremental.digest_files(incremental.CODE_DIR) + incremental.digest_files(TEMPLATES_DIR)
    prints = {u.key: _unit_fingerprint(base, u, code) for u in units}
    todo = [u for u in units if manifest.units.get(u.key) != prints[u.key] or not manifest.files_intact(out, u.key)]
    skipped = [u.key for u in units if u not in todo]
    staging = Path(tempfile.mkdtemp(prefix=".deckbook-staging-", dir=out))
    try:
        done = jobs_mod.run(dataclasses.replace(base, out_dir=staging), todo, jobs, progress)
        written = []
        for result in done:
            for f in result.files:
                final = out / f.relative_to(staging)
                changed = not (final.exists() and final.read_bytes() == f.read_bytes())
                if changed:
                    os.replace(f, final)
                written.append(Written(final, final.stat().st_size, result.seconds / len(result.files), result.unit.target, changed))
            manifest.record(result.unit.key, prints[result.unit.key], out, [str(f.relative_to(staging)) for f in result.files])
        manifest.forget(prints)
        return written, skipped
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _unit_fingerprint(ctx: RenderContext, unit: jobs_mod.Unit, code: str) -> str:
    renderer = renderers.get(unit.target)
    options = (ctx.options, ctx.options.papers)
    return hashlib.sha256(f"{unit.key}\0{renderer.inputs(ctx, unit.name)}\0{code}\0{options}".encode()).hexdigest()


def build_info(bank: Bank, fresh: ledger_mod.Ledger) -> BuildInfo:
    """Dates and revision printed in outputs: from SOURCE_DATE_EPOCH or the ledger, never the clock."""
    epoch_env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    epoch = int(epoch_env) if epoch_env.isdigit() else (fresh.newest or 315532800)
    return BuildInfo(epoch=epoch, date=time.strftime("%Y-%m-%d", time.gmtime(epoch)), revision=source_revision(bank.source_dir))


def source_revision(source: Path) -> str:
    """The git commit of the source folder (with +dirty when it has uncommitted edits)."""
    forced = os.environ.get("DECKBOOK_REVISION")
    if forced:
        return forced
    try:
        head = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unversioned"
    return f"{head}+dirty" if dirty else head


def write_atomic(path: Path, data: bytes) -> None:
    """Write beside the target and rename over it: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
