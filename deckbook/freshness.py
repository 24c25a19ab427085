"""Freshness lint: facts that age while the text stays the same. Two rules, both warnings (a
build fails on them only with `--strict`):

1. **A question names a registry entry that is no longer current.** A question *names* an entry
   when it lists the entry's id in its `index:` key — the link every output already uses (the
   book's index, the entries printed beside the question, the card's tags). Names and aliases
   found in the text are not used: they are ambiguous words (an alias is often an ordinary word
   or an abbreviation with other meanings), so matching them would flag questions that do not
   speak of the entry at all. When the entry's status in the registry is not active
   (`closed-to-new-customers`, `retired`), the question must say so in its text, and record
   that it does: `acknowledges: {<entry id>: <status>}`.

   Why an explicit acknowledgement rather than looking for words such as "retired" in the text:
   deckbook serves banks in any language and subject, and only the author can tell whether a
   text says that a product can no longer be adopted ("no longer sold", "support ended", "fermé
   aux nouveaux clients"…); a keyword list would pass a text that uses the word about something
   else and flag one that says it differently. The acknowledgement names the status the author
   wrote about, so when the registry moves an entry on (closed → retired) every question that
   acknowledged the old status is flagged again.

   Warnings: a non-active entry named without acknowledgement (at the `index:` item naming it);
   an acknowledgement of another status than the registry's, of an entry that is active again,
   or of an entry the question's `index:` does not list (at the `acknowledges:` item).

2. **A chapter's facts were last checked long ago.** A chapter whose `reviewed:` month is more
   than `MAX_AGE_MONTHS` calendar months before the build month is a warning at its `reviewed:`
   line: reviewed 2025-11 is stale from December 2026 on. The build date is
   `deckbook.buildtime.build_date()`: that of `SOURCE_DATE_EPOCH` when it is set (reproducible
   builds), else today's, in UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from deckbook.fields import chapter_owner
from deckbook.load import SourceIndex
from deckbook.model import Bank, Entry, Question, Status
from deckbook.problems import Problem, warning

MAX_AGE_MONTHS = 12
ACKNOWLEDGES = "acknowledges"  # the question key (chapter schema)

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, as chapters' `reviewed:` write it (YYYY-MM)."""

    year: int
    month: int

    @staticmethod
    def parse(text: str) -> Month | None:
        """'2025-10' → Month(2025, 10); None for anything else (the schema check reports it)."""
        found = _MONTH.fullmatch(text)
        return Month(int(found[1]), int(found[2])) if found else None

    @staticmethod
    def of(day: dt.date) -> Month:
        return Month(day.year, day.month)

    def months_until(self, later: Month) -> int:
        """Whole calendar months from this month to `later` (negative if `later` is earlier)."""
        return (later.year - self.year) * 12 + later.month - self.month

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def freshness_problems(bank: Bank, index: SourceIndex, today: dt.date) -> Iterator[Problem]:
    """Both rules of the module docstring for `bank`, judged as of `today`."""
    if not index.unreadable:  # an unreadable file may hold the registry or an `index:` it would explain
        for q in bank.questions:
            yield from _acknowledgements(bank, index, q)
    yield from _reviews(bank, index, Month.of(today))


def _acknowledgements(bank: Bank, index: SourceIndex, q: Question) -> Iterator[Problem]:
    noun = bank.book.index.noun or "index entry"
    registry = bank.book.index.file
    acknowledged = {eid for eid, _ in q.acknowledges}
    for i, eid in enumerate(q.index):
        entry = bank.entry_by_id.get(eid)
        if entry is None or entry.status is Status.ACTIVE or eid in acknowledged:  # a stale acknowledgement: below
            continue
        status = entry.status.value
        yield warning(
            index.key_loc(q.id, "index", i) or q.loc,
            f"question '{q.id}' names {noun} '{eid}' ({entry.name}), which {registry} marks {status}; "
            f"say so in the question's text, then add '{ACKNOWLEDGES}: {{{eid}: {status}}}'",
        )
    for eid, said in q.acknowledges:
        where = index.key_loc(q.id, ACKNOWLEDGES, eid) or q.loc
        entry = bank.entry_by_id.get(eid)
        if eid not in q.index:
            unlisted = f"question '{q.id}' acknowledges {noun} '{eid}', which its 'index' does not list"
            yield warning(where, f"{unlisted}; add it there or remove it from '{ACKNOWLEDGES}'")
        elif entry is not None and entry.status is not said:
            yield warning(where, _changed(q, entry, said, noun, registry))


def _changed(q: Question, entry: Entry, said: Status, noun: str, registry: str) -> str:
    head = f"question '{q.id}' acknowledges {noun} '{entry.id}' as {said.value}, but {registry} marks it {entry.status.value}"
    if entry.status is Status.ACTIVE:
        return f"{head}; check the question's text and remove '{entry.id}' from '{ACKNOWLEDGES}'"
    return f"{head}; update the question's text, then write '{entry.id}: {entry.status.value}' in '{ACKNOWLEDGES}'"


def _reviews(bank: Bank, index: SourceIndex, now: Month) -> Iterator[Problem]:
    for c in bank.chapters:
        reviewed = Month.parse(c.reviewed) if c.reviewed else None
        if reviewed is None:
            continue
        age = reviewed.months_until(now)
        if age > MAX_AGE_MONTHS:
            where = index.key_loc(chapter_owner(c.id), "reviewed") or c.loc
            yield warning(
                where,
                f"chapter '{c.id}' was last reviewed {reviewed}, {age} months before this build ({now}); "
                f"check its facts and update 'reviewed'",
            )
