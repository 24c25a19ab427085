"""What changed from one release to the next, read from the ledger: the book's "What changed".

A release is a `book.yaml` version. The ledger records, for every note, the release that added it
and the releases that corrected its substance (presentation-only changes do not count), and for
every removed note the release that removed it, its question and what replaces it. The changelog
lists, newest release first, the questions added, corrected and removed; the first release is
summed up in one line (everything in it is new).
"""

from __future__ import annotations

from dataclasses import dataclass

from deckbook.ledger import Ledger, version_key
from deckbook.model import Bank, Question

SHOWN_RELEASES = 5  # older releases are left to the project's own history


@dataclass(frozen=True)
class Removed:
    key: str
    question: str  # as it read when it was removed (plain text)
    replacement: Question | None


@dataclass(frozen=True)
class Release:
    version: str
    added: tuple[Question, ...]
    corrected: tuple[Question, ...]
    removed: tuple[Removed, ...]
    first: bool  # the earliest release the ledger knows: everything in it was new

    @property
    def empty(self) -> bool:
        return not (self.added or self.corrected or self.removed)


def releases(bank: Bank, ledger: Ledger, limit: int = SHOWN_RELEASES) -> list[Release]:
    """The last `limit` releases that changed questions, newest first."""
    versions = {e.added for e in ledger.entries.values()} | {v for e in ledger.entries.values() for v in e.changed}
    versions |= {r.version for r in ledger.retired.values()}
    ordered = sorted((v for v in versions if v), key=version_key)
    out = []
    for version in reversed(ordered):
        first = version == ordered[0]
        out.append(_release(bank, ledger, version, first))
        if len(out) == limit:
            break
    return [r for r in out if not r.empty or r.first]


def _release(bank: Bank, ledger: Ledger, version: str, first: bool) -> Release:
    questions = [q for q in bank.questions if q.id in ledger.entries]
    added = tuple(q for q in questions if ledger.entries[q.id].added == version)
    corrected = tuple(q for q in questions if version in _corrections(ledger, q.id))
    removed = tuple(
        Removed(key, gone.question or key, bank.question_by_id.get(gone.replaced_by or ""))
        for key, gone in sorted(ledger.retired.items())
        if gone.version == version and "::" not in key and key not in bank.term_by_id and gone.notetype in ("", "qa")
    )
    return Release(version, () if first else added, corrected, removed, first)


def _corrections(ledger: Ledger, qid: str) -> tuple[str, ...]:
    """Releases that corrected a question: its own note's, and its cloze's."""
    cloze = ledger.entries.get(f"{qid}::cloze")
    return ledger.entries[qid].changed + (cloze.changed if cloze else ())
