"""`build.py diff`: what importing this release will do to a learner who has the last one.

Compares the bank as it stands with the ledger: the release being prepared is `book.yaml`'s
version, the last release the newest older version the ledger records. Reported: new notes,
updated notes (corrected ones carry the release's change tag; the rest change only in
presentation), retired notes (with their tombstones' replacements), note types whose definition
changed, GUID safety (reused ids, which the build refuses, and ids that look renamed — a removed
and an added question with the same text, which learners would see as a tombstone plus a new
card), and, when the A4 handbook of both releases was laid out, the chapters whose first page moves.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from typing import Any

from deckbook.ledger import Ledger, version_key
from deckbook.model import Bank


@dataclass(frozen=True)
class NoteChange:
    key: str
    question: str
    corrected: bool = False  # its substance changed: tagged <namespace>::changed::<version>
    replaced_by: str | None = None


@dataclass(frozen=True)
class PageMove:
    chapter: str
    title: str
    before: int
    after: int


@dataclass(frozen=True)
class Report:
    version: str
    previous: str | None  # the last release, if the ledger knows one
    new: tuple[NoteChange, ...] = ()
    updated: tuple[NoteChange, ...] = ()
    retired: tuple[NoteChange, ...] = ()
    note_types: tuple[str, ...] = ()
    reused: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()  # (removed id, added id) with the same question
    pages: tuple[PageMove, ...] = ()
    pages_known: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def release_diff(bank: Bank, before: Ledger, after: Ledger, reused: tuple[str, ...], pages: dict[str, int] | None) -> Report:
    """What changes between the last release (`before`'s newest older version) and this build's ledger `after`."""
    version = bank.book.version
    known = {e.added for e in before.entries.values()} | {v for e in before.entries.values() for v in e.changed}
    known |= {r.version for r in before.retired.values()} | set(before.releases)
    older = sorted((v for v in known if v and version_key(v) < version_key(version)), key=version_key)
    previous = older[-1] if older else None
    entries = after.entries
    new = [NoteChange(k, e.question) for k, e in entries.items() if e.added == version and not k.startswith("notetype::")]
    updated = [
        NoteChange(k, e.question, corrected=version in e.changed)
        for k, e in entries.items()
        if e.since == version and e.added != version and not k.startswith("notetype::")
    ]
    retired = [NoteChange(k, r.question, replaced_by=r.replaced_by) for k, r in after.retired.items() if r.version == version]
    note_types = [
        k.removeprefix("notetype::") for k, e in entries.items() if k.startswith("notetype::") and e.since == version and e.added != version
    ]
    renamed = _renames(retired, new)
    moves, pages_known = _page_moves(bank, before, previous, pages)
    return Report(
        version,
        previous,
        tuple(sorted(new, key=lambda c: c.key)),
        tuple(sorted(updated, key=lambda c: c.key)),
        tuple(sorted(retired, key=lambda c: c.key)),
        tuple(sorted(note_types)),
        reused,
        renamed,
        moves,
        pages_known,
    )


def _renames(retired: list[NoteChange], new: list[NoteChange]) -> tuple[tuple[str, str], ...]:
    """A removed and an added question that read almost the same: most likely a renamed id."""
    out = []
    for gone in retired:
        for added in new:
            if gone.question and difflib.SequenceMatcher(None, gone.question, added.question).ratio() >= 0.9:
                out.append((gone.key, added.key))
    return tuple(out)


def _page_moves(bank: Bank, before: Ledger, previous: str | None, pages: dict[str, int] | None) -> tuple[tuple[PageMove, ...], bool]:
    if previous is None or pages is None or previous not in before.releases:
        return (), False
    old = before.releases[previous]
    moves = [
        PageMove(c.id, c.title, old[c.id], pages[f"ch-{c.id}"])
        for c in bank.chapters
        if c.id in old and f"ch-{c.id}" in pages and old[c.id] != pages[f"ch-{c.id}"]
    ]
    return tuple(moves), True


def lines(report: Report) -> list[str]:
    """The report as a person reads it."""
    since = f"the last release, {report.previous}" if report.previous else "no earlier release"
    out = [f"release {report.version}: what importing it does to a learner who has {since}"]

    def section(title: str, changes: tuple[NoteChange, ...], describe: Any) -> None:
        out.append(f"{title}: {len(changes)}")
        out.extend(f"  {describe(c)}" for c in changes)

    section("new notes", report.new, lambda c: f"{c.key}  {c.question}")
    corrected = sum(1 for c in report.updated if c.corrected)
    section(
        f"updated notes ({corrected} corrected and tagged ::changed::{report.version}, the rest presentation only)",
        report.updated,
        lambda c: f"{c.key}  {c.question}{'  [corrected]' if c.corrected else ''}",
    )
    section(
        "retired notes (tombstones, tagged ::retired)",
        report.retired,
        lambda c: f"{c.key}  {c.question}" + (f"  → {c.replaced_by}" if c.replaced_by else ""),
    )
    out.append(f"note types changed: {', '.join(report.note_types) or 'none'} (ids unchanged: updates, no conflicts)")
    if report.reused:
        out.append(f"GUID safety: ids reused after removal (the build refuses them): {', '.join(report.reused)}")
    elif report.renamed:
        renames = ", ".join(f"{old} → {new}" for old, new in report.renamed)
        out.append(f"GUID safety: these look renamed (learners get a tombstone and a new card; keep the old id instead): {renames}")
    else:
        out.append("GUID safety: ok (no id reused, none renamed)")
    if not report.pages_known:
        out.append("pages: unknown (build the PDF of both releases to compare where chapters begin)")
    elif report.pages:
        out.append("pages: chapters that begin on another page of the A4 handbook:")
        out.extend(f"  {m.title}: {m.before} → {m.after}" for m in report.pages)
    else:
        out.append("pages: every chapter begins where it did")
    return out
