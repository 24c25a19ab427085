"""The ledger (``source/deckbook.lock``): what each published note is, when it last changed, and in
which release — committed with the source, so a learner's next import does exactly the right thing.

Anki takes an incoming note on import only if its modification time is newer than the copy in
the collection. A constant time means edits never arrive; the wall clock means every import
overwrites every note (and the user's own edits). So each note's time is the moment *its*
content last changed, remembered here:

- ``notes``: key → the hash of the note's full content, its time, the hash of its *substance*
  (the author's own words: question, answer, explanation, cloze, term and definition, as written),
  the release it was added in, and the releases in which its substance changed. A change of
  presentation only — a new section number because a question was inserted before it, a label —
  gets a new time (Anki then updates the note) but no release: it is not a correction to re-study;
- ``retired``: every key ever published and since removed: its time, the release that removed
  it, its question as text and note type (so a tombstone can be published in its place, and the
  changelog can name it), and the question that replaces it, if the author names one. Retired ids
  are never reused (a reused GUID would silently merge two questions);
- ``releases``: per release, where each chapter begins in the A4 handbook (so `build.py diff` can
  say which page numbers move).

JSON with one entry per line, sorted, so a review diff shows exactly what changed. A format-1
ledger (before releases were recorded) is read as if everything in it was added in the current
release.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from deckbook.model import Location
from deckbook.problems import Problem, error

LEDGER_NAME = "deckbook.lock"
FORMAT = 2


@dataclass(frozen=True)
class Item:
    """What the ledger needs to know of one note (or note type) in the source."""

    text: str  # everything the note contains, as published
    substance: str = ""  # the author's own words in it, as written
    question: str = ""  # plain text naming it (changelog, tombstone)
    notetype: str = ""  # "qa", "cloze", "term" (notes only)


@dataclass(frozen=True)
class Entry:
    hash: str
    mod: int  # Unix seconds: when this content first appeared
    substance: str = ""
    added: str = ""  # release the key first appeared in
    changed: tuple[str, ...] = ()  # releases in which its substance changed, oldest first
    question: str = ""  # plain text naming it (kept for the tombstone and the changelog once it is removed)
    notetype: str = ""
    since: str = ""  # the release in which its current content (hash) was first recorded


@dataclass(frozen=True)
class Retired:
    mod: int  # when it was removed (the tombstone's time)
    version: str = ""  # the release that removed it
    question: str = ""
    notetype: str = ""
    replaced_by: str | None = None


@dataclass(frozen=True)
class Ledger:
    entries: Mapping[str, Entry] = field(default_factory=dict)
    retired: Mapping[str, Retired] = field(default_factory=dict)
    releases: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # version → chapter id → first A4 page

    def mod(self, key: str) -> int:
        return self.entries[key].mod

    @property
    def newest(self) -> int:
        """The time of the most recent change, tombstones included (0 for an empty ledger)."""
        times = [e.mod for e in self.entries.values()] + [r.mod for r in self.retired.values()]
        return max(times, default=0)


@dataclass(frozen=True)
class Changes:
    """How the source differs from a ledger."""

    new: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()  # anything in the note changed (it will be updated)
    corrected: tuple[str, ...] = ()  # its substance changed (it will carry this release's tag)
    removed: tuple[str, ...] = ()
    reused: tuple[str, ...] = ()  # retired keys that appear again: always an error
    described: tuple[str, ...] = ()  # entries the ledger knows too little about (an older format): rewritten

    @property
    def stale(self) -> bool:
        return bool(self.new or self.changed or self.removed or self.described)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def now(clock: Callable[[], float] = time.time) -> int:
    """The time stamped on new content: SOURCE_DATE_EPOCH when set (reproducible builds), else `clock`."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(epoch) if epoch.isdigit() else int(clock())


def compare(ledger: Ledger, contents: Mapping[str, Item]) -> Changes:
    hashes = {k: content_hash(v.text) for k, v in contents.items()}
    known = ledger.entries
    changed = [k for k in hashes if k in known and known[k].hash != hashes[k]]
    return Changes(
        new=tuple(sorted(k for k in hashes if k not in known and k not in ledger.retired)),
        changed=tuple(sorted(changed)),
        corrected=tuple(sorted(k for k in changed if known[k].substance and known[k].substance != content_hash(contents[k].substance))),
        removed=tuple(sorted(k for k in known if k not in hashes)),
        reused=tuple(sorted(k for k in hashes if k in ledger.retired)),
        described=tuple(sorted(k for k in hashes if k in known and known[k].hash == hashes[k] and _outdated(known[k], contents[k]))),
    )


def _outdated(entry: Entry, item: Item) -> bool:
    """An entry written by an older deckbook lacks what this one records (or names it differently)."""
    return (entry.substance != content_hash(item.substance) and not entry.substance) or (entry.question, entry.notetype) != (
        item.question,
        item.notetype,
    )


def refresh(ledger: Ledger, contents: Mapping[str, Item], stamp: int, version: str, replaced_by: Mapping[str, str] | None = None) -> Ledger:
    """The ledger after a build of release `version`: changed content gets a time strictly newer
    than before; a changed substance records `version`; removed keys become retired."""
    entries: dict[str, Entry] = {}
    for key, item in contents.items():
        digest, substance = content_hash(item.text), content_hash(item.substance)
        old = ledger.entries.get(key)
        if old is None:
            entries[key] = Entry(digest, stamp, substance, version, (), item.question, item.notetype, version)
            continue
        releases = old.changed
        if old.substance and old.substance != substance and version not in releases and version != old.added:
            releases = (*releases, version)
        same = old.hash == digest
        mod, since = (old.mod, old.since or old.added or version) if same else (max(stamp, old.mod + 1), version)
        entries[key] = Entry(digest, mod, substance, old.added or version, releases, item.question, item.notetype, since)
    retired = dict(ledger.retired)
    for key, old in ledger.entries.items():
        if key not in contents:
            retired[key] = Retired(max(stamp, old.mod + 1), version, old.question, old.notetype)
    names = replaced_by or {}
    retired = {k: replace(r, replaced_by=names.get(k, r.replaced_by)) for k, r in retired.items()}
    return Ledger(dict(sorted(entries.items())), dict(sorted(retired.items())), ledger.releases)


def with_release_pages(ledger: Ledger, version: str, pages: Mapping[str, int]) -> Ledger:
    """The ledger recording where each chapter begins in release `version`'s A4 handbook."""
    releases = dict(ledger.releases)
    releases[version] = dict(pages)
    return replace(ledger, releases=dict(sorted(releases.items(), key=lambda kv: version_key(kv[0]))))


def version_key(version: str) -> tuple[Any, ...]:
    """Sort key for release versions: 1.10.0 after 1.9.0, 2.0.0-rc1 before 2.0.0."""
    core, _, pre = version.partition("-")
    numbers = tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.+]", core))
    return (*numbers, 0 if pre else 1, pre)


def dumps(ledger: Ledger) -> str:
    """Serialise with one entry per line (stable, reviewable diffs)."""

    def block(items: list[str]) -> str:
        return "{\n" + ",\n".join(items) + "\n  }" if items else "{}"

    def entry(e: Entry) -> dict[str, Any]:
        out: dict[str, Any] = {"hash": e.hash, "mod": e.mod, "substance": e.substance, "added": e.added}
        if e.changed:
            out["changed"] = list(e.changed)
        if e.since and e.since != e.added:
            out["since"] = e.since
        if e.notetype:
            out["notetype"] = e.notetype
        if e.question:
            out["question"] = e.question
        return out

    def gone(r: Retired) -> dict[str, Any]:
        out: dict[str, Any] = {"mod": r.mod, "version": r.version, "notetype": r.notetype, "question": r.question}
        if r.replaced_by:
            out["replaced_by"] = r.replaced_by
        return out

    notes = [
        f"    {json.dumps(k, ensure_ascii=False)}: {json.dumps(entry(e), ensure_ascii=False)}" for k, e in sorted(ledger.entries.items())
    ]
    retired = [
        f"    {json.dumps(k, ensure_ascii=False)}: {json.dumps(gone(r), ensure_ascii=False)}" for k, r in sorted(ledger.retired.items())
    ]
    releases = [f"    {json.dumps(v)}: {json.dumps(dict(p), ensure_ascii=False)}" for v, p in ledger.releases.items()]
    return (
        "{\n"
        f'  "format": {FORMAT},\n'
        '  "about": "deckbook ledger: when each note last changed and in which release; commit it, never edit by hand",\n'
        f'  "notes": {block(notes)},\n'
        f'  "retired": {block(retired)},\n'
        f'  "releases": {block(releases)}\n'
        "}\n"
    )


def read(path: Path, display: str, version: str = "") -> tuple[Ledger | None, list[Problem]]:
    """Missing file → empty ledger (a new bank). Corrupt file → None and a problem. A format-1
    ledger reads as if everything in it was added in `version`."""
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
    if data["format"] == 1:
        entries = {k: Entry(v["hash"], v["mod"], "", version, since=version) for k, v in data["notes"].items()}
        return Ledger(entries, {k: Retired(int(v), version) for k, v in data["retired"].items()}), []
    entries = {
        k: Entry(
            v["hash"],
            v["mod"],
            str(v.get("substance", "")),
            str(v.get("added", "")),
            tuple(v.get("changed", ())),
            str(v.get("question", "")),
            str(v.get("notetype", "")),
            str(v.get("since", v.get("added", ""))),
        )
        for k, v in data["notes"].items()
    }
    retired = {
        k: Retired(v["mod"], str(v.get("version", "")), str(v.get("question", "")), str(v.get("notetype", "")), v.get("replaced_by"))
        for k, v in data["retired"].items()
    }
    releases = {str(v): {str(c): int(p) for c, p in pages.items()} for v, pages in data.get("releases", {}).items()}
    return Ledger(entries, retired, releases), []


def _shape_problem(data: object) -> str | None:
    if not isinstance(data, dict) or data.get("format") not in (1, FORMAT):
        return f'expected a JSON object with "format": {FORMAT}'
    notes, retired = data.get("notes"), data.get("retired")
    if not isinstance(notes, dict) or not isinstance(retired, dict):
        return 'expected "notes" and "retired" objects'
    for key, value in notes.items():
        if not (isinstance(value, dict) and isinstance(value.get("hash"), str) and _is_time(value.get("mod"))):
            return f'entry {key!r} needs a "hash" string and a "mod" time'
    for key, value in retired.items():
        when = value if data["format"] == 1 else value.get("mod") if isinstance(value, dict) else None
        if not _is_time(when):
            return f"retired entry {key!r} needs a time"
    releases = data.get("releases", {})
    if not isinstance(releases, dict) or not all(isinstance(p, dict) for p in releases.values()):
        return 'expected "releases" to map versions to chapter pages'
    return None


def _is_time(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**32
