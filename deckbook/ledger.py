"""The id ledger (``source/deckbook.lock``): when each published note's content last changed.

Anki takes an incoming note on import only if its modification time is newer than the copy in
the collection. A constant time means edits never arrive; the wall clock means every import
overwrites every note (and the user's own edits). So each note's time is the moment *its*
content last changed, remembered here and committed with the source:

- key → (content hash, time): a key is a note (question id, "<id>::cloze", term id) or a note
  type ("notetype::qa"); the time changes only when the hash does, so a rebuild is reproducible;
- retired: every key ever published and since removed, with the time it was removed. Removed
  ids are reported and can never be reused (a reused GUID would silently merge two questions).

The file is JSON with one entry per line, sorted, so a review diff shows exactly what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deckbook.model import Location
from deckbook.problems import Problem, error

LEDGER_NAME = "deckbook.lock"
FORMAT = 1


@dataclass(frozen=True)
class Entry:
    hash: str
    mod: int  # Unix seconds: when this content first appeared


@dataclass(frozen=True)
class Ledger:
    entries: Mapping[str, Entry] = field(default_factory=dict)
    retired: Mapping[str, int] = field(default_factory=dict)

    def mod(self, key: str) -> int:
        return self.entries[key].mod

    @property
    def newest(self) -> int:
        """The time of the most recent content change (0 for an empty ledger)."""
        return max((e.mod for e in self.entries.values()), default=0)


@dataclass(frozen=True)
class Changes:
    """How the source differs from a ledger."""

    new: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    reused: tuple[str, ...] = ()  # retired keys that appear again: always an error

    @property
    def stale(self) -> bool:
        return bool(self.new or self.changed or self.removed)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def now() -> int:
    """The time stamped on new content: SOURCE_DATE_EPOCH when set (reproducible builds), else the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(epoch) if epoch.isdigit() else int(time.time())


def compare(ledger: Ledger, contents: Mapping[str, str]) -> Changes:
    hashes = {k: content_hash(v) for k, v in contents.items()}
    return Changes(
        new=tuple(sorted(k for k in hashes if k not in ledger.entries and k not in ledger.retired)),
        changed=tuple(sorted(k for k in hashes if k in ledger.entries and ledger.entries[k].hash != hashes[k])),
        removed=tuple(sorted(k for k in ledger.entries if k not in hashes)),
        reused=tuple(sorted(k for k in hashes if k in ledger.retired)),
    )


def refresh(ledger: Ledger, contents: Mapping[str, str], stamp: int) -> Ledger:
    """The ledger after this build: changed content gets a time strictly newer than before."""
    entries: dict[str, Entry] = {}
    for key, text in contents.items():
        digest = content_hash(text)
        old = ledger.entries.get(key)
        if old is not None and old.hash == digest:
            entries[key] = old
        else:
            entries[key] = Entry(digest, max(stamp, old.mod + 1 if old else stamp))
    retired = dict(ledger.retired)
    for key, old in ledger.entries.items():
        if key not in contents:
            retired[key] = max(stamp, old.mod + 1)
    return Ledger(dict(sorted(entries.items())), dict(sorted(retired.items())))


def dumps(ledger: Ledger) -> str:
    """Serialise with one entry per line (stable, reviewable diffs)."""

    def block(items: list[str]) -> str:
        return "{\n" + ",\n".join(items) + "\n  }" if items else "{}"

    notes = [f"    {json.dumps(k)}: {json.dumps({'hash': e.hash, 'mod': e.mod})}" for k, e in sorted(ledger.entries.items())]
    retired = [f"    {json.dumps(k)}: {v}" for k, v in sorted(ledger.retired.items())]
    return (
        "{\n"
        f'  "format": {FORMAT},\n'
        '  "about": "deckbook ledger: when each note last changed; commit it, never edit by hand",\n'
        f'  "notes": {block(notes)},\n'
        f'  "retired": {block(retired)}\n'
        "}\n"
    )


def read(path: Path, display: str) -> tuple[Ledger | None, list[Problem]]:
    """Missing file → empty ledger (a new bank). Corrupt file → None and a problem."""
    if not path.exists():
        return Ledger(), []
    loc = Location(display)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, [error(loc, f"cannot read the ledger: {exc}")]
    except json.JSONDecodeError as exc:
        return None, [error(Location(display, exc.lineno), f"ledger is not valid JSON ({exc.msg}); restore it from version control")]
    problem = _shape_problem(data)
    if problem:
        return None, [error(loc, f"ledger is corrupt: {problem}; restore it from version control")]
    entries = {k: Entry(v["hash"], v["mod"]) for k, v in data["notes"].items()}
    return Ledger(entries, dict(data["retired"])), []


def _shape_problem(data: object) -> str | None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return f'expected a JSON object with "format": {FORMAT}'
    notes, retired = data.get("notes"), data.get("retired")
    if not isinstance(notes, dict) or not isinstance(retired, dict):
        return 'expected "notes" and "retired" objects'
    for key, value in notes.items():
        if not (isinstance(value, dict) and isinstance(value.get("hash"), str) and _is_time(value.get("mod"))):
            return f'entry {key!r} needs a "hash" string and a "mod" time'
    for key, value in retired.items():
        if not _is_time(value):
            return f"retired entry {key!r} needs a time"
    return None


def _is_time(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**32
