"""Indexes shared by the book renderers: which questions name each service."""

from __future__ import annotations

from dataclasses import dataclass

from deckbook.model import Bank, Question, Service


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
