"""The bank's index, shared by every output: which questions name each registry entry, and how
an entry is named next to a question."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from deckbook.model import Bank, Question, Service, Status


@dataclass(frozen=True)
class IndexEntry:
    service: Service
    questions: tuple[Question, ...]


def service_index(bank: Bank) -> list[IndexEntry]:
    """Services named by at least one question, sorted by name, each with its questions in book order."""
    named: dict[str, list[Question]] = {}
    for q in bank.questions:
        for sid in q.services:
            named.setdefault(sid, []).append(q)
    entries = [IndexEntry(bank.service_by_id[sid], tuple(qs)) for sid, qs in named.items() if sid in bank.service_by_id]
    return sorted(entries, key=lambda e: (e.service.name.casefold(), e.service.id))


def entry_names(bank: Bank, q: Question, *, status: bool = False) -> Markup:
    """The registry entries `q` names, as escaped HTML joined by commas; with `status`, a closed or
    retired entry says so ("AWS IoT Analytics (retired)")."""
    names = []
    for sid in q.services:
        s = bank.service_by_id.get(sid)
        if s is None:
            continue
        label = Markup.escape(s.name)
        if status and s.status is not Status.ACTIVE:
            label += f" ({s.status.value.replace('-', ' ')})"
        names.append(label)
    return Markup(", ").join(names)
