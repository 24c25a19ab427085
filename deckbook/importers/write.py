"""A `Plan` → the bank folder, all or nothing.

Everything is written into a staging folder beside DIR, checked there with deckbook's own
loader and validator, given its ledger, and only then renamed into place. DIR is never touched
when anything fails: not when it exists and holds files (unless `force`), not when the check
finds an error (which would be a bug in the importer: the converter keeps every field valid).

The ledger (``deckbook.lock``) is seeded so the first build sends learners nothing new: each
imported note's entry carries the hash of exactly what the build will emit for it and the
modification time learners' copies have, and each imported note type's entry the time of its
definition. Anki updates a note only when the incoming copy is newer, so those notes are left
alone until the author edits them; an edit gets a newer time (`deckbook.ledger.refresh`) and
reaches learners as an update of the same note.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from deckbook import ledger as ledger_mod
from deckbook.importers.harvest import Refused
from deckbook.importers.plan import Plan
from deckbook.importers.yamlout import dump
from deckbook.model import Location
from deckbook.pipeline import Book, check_source
from deckbook.problems import Problem, Severity, error
from deckbook.renderers.anki_notes import ledger_contents
from deckbook.schemacheck import SCHEMA_DIR


@dataclass(frozen=True)
class Written:
    folder: Path
    warnings: tuple[Problem, ...]  # what `check` reports about the new bank (never errors)


def refuse_folder(into: Path, force: bool) -> None:
    """Raise `Refused` when the bank may not be written to `into`."""
    if into.exists() and not into.is_dir():
        raise Refused([error(Location(str(into)), "exists and is not a folder; choose a new folder for the bank")])
    if into.is_dir() and any(into.iterdir()) and not force:
        raise Refused([error(Location(str(into)), "already exists and is not empty; choose a new folder, or pass --force to replace it")])


def write_bank(plan: Plan, into: Path, force: bool = False) -> Written:
    """Write `plan` as a bank in `into` (see the module docstring); `Refused` leaves `into` as it was."""
    refuse_folder(into, force)
    parent = into.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{into.name}.import-", dir=parent))
    try:
        _write_files(plan, staging, into)
        warnings = _check_and_seed(plan, staging, into)
        _swap(staging, into)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Written(into, warnings)


def _write_files(plan: Plan, staging: Path, into: Path) -> None:
    schemas = SCHEMA_DIR.resolve()
    for rel, (kind, data) in plan.documents.items():
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        schema = Path(os.path.relpath(schemas, (into.resolve() / rel).parent)) / f"{kind}.schema.json"
        target.write_text(dump(data, schema.as_posix()), encoding="utf-8")
    if plan.media:
        (staging / "media").mkdir()
    for name, source in plan.media.items():
        shutil.copyfile(source, staging / "media" / name)


def _check_and_seed(plan: Plan, staging: Path, into: Path) -> tuple[Problem, ...]:
    checked = check_source(staging)
    problems = tuple(_shown(p, staging, into) for p in checked.problems)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors or checked.bank is None or checked.prepared is None:
        note = error(Location(str(into)), "the converted bank does not pass check: this is a bug in deckbook's importer; please report it")
        raise Refused([*errors, note])
    book = Book(checked.bank, checked.prepared, None)
    contents = ledger_contents(checked.bank, book.cards, book.env)
    version = checked.bank.book.version
    seeded = ledger_mod.refresh(ledger_mod.Ledger(), contents, ledger_mod.now(), version)
    entries = {key: replace(entry, mod=plan.seeds.get(key, entry.mod)) for key, entry in seeded.entries.items()}
    (staging / ledger_mod.LEDGER_NAME).write_text(ledger_mod.dumps(replace(seeded, entries=entries)), encoding="utf-8")
    return problems


def _shown(problem: Problem, staging: Path, into: Path) -> Problem:
    """A problem found in the staging folder, named as the bank's final path."""
    old, new = os.path.normpath(str(staging)), os.path.normpath(str(into))
    path = problem.loc.path
    if path == old or path.startswith(old + os.sep):
        path = new + path[len(old) :]
    return Problem(Location(path, problem.loc.line), problem.severity, problem.message.replace(old, new))


def _swap(staging: Path, into: Path) -> None:
    """Rename `staging` to `into`; an existing (empty, or --force) `into` is removed only after."""
    if not into.exists():
        os.replace(staging, into)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{into.name}.old-", dir=into.resolve().parent))
    os.replace(into, trash / "bank")
    try:
        os.replace(staging, into)
    except OSError:
        os.replace(trash / "bank", into)
        raise
    shutil.rmtree(trash, ignore_errors=True)
