"""What `build.py import` prints when it succeeds: counts, what became what, what it could not
convert (note by note), and what an author should look at. Plain lines; the CLI prints them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from deckbook.importers.plan import Facts
from deckbook.problems import Problem

SHOWN = 40  # at most this many lines per list; the rest are counted


@dataclass(frozen=True)
class Summary:
    source: str  # the imported file, as given
    into: str  # the new bank's folder, as given
    facts: Facts
    warnings: tuple[Problem, ...]  # what `check` says about the new bank

    def lines(self) -> list[str]:
        return list(self._lines())

    def _lines(self) -> Iterator[str]:
        f = self.facts
        yield f"imported {self.source} into {self.into}"
        kept = "all of them" if f.kept == f.notes else f"{f.kept} of them"
        yield (
            f"  notes: {f.notes} ({kept} keep their Anki identity: GUID and note type)"
            if f.kept
            else f"  notes: {f.notes} (new deckbook notes)"
        )
        if f.notetypes:
            yield f"  note types: {len(f.notetypes)} recorded in anki.yaml ({', '.join(f.notetypes)})"
        yield f"  decks: {len(f.chapters)} → chapters"
        for deck, path, count in f.chapters[:SHOWN]:
            yield f"    {deck} → {path} ({count} question{'s' * (count != 1)})"
        if len(f.chapters) > SHOWN:
            yield f"    … and {len(f.chapters) - SHOWN} more"
        renamed = f", {len(f.renamed_tags)} written as deckbook tags (anki.yaml maps them back)" if f.renamed_tags else ""
        yield f"  tags: {f.tags}{renamed}"
        for anki_tag, tag in f.renamed_tags[:SHOWN]:
            yield f"    {anki_tag} → {tag}"
        yield f"  media: {f.media} file{'s' * (f.media != 1)} copied into media/"
        if f.kept:
            first = (
                "the first build changes none of their notes"
                if not f.changed
                else f"the first build updates the {f.changed} notes whose text differs from their copies"
            )
            yield f"  history: learners who have this deck keep their cards and reviews; {first}"
        for remark in f.remarks:
            yield f"  note: {remark}"
        if f.losses:
            yield f"not converted ({len(f.losses)}; the words are kept, the rest is as described):"
            for label, what in f.losses[:SHOWN]:
                yield f"  {label}: {what}"
            if len(f.losses) > SHOWN:
                yield f"  … and {len(f.losses) - SHOWN} more"
        todo = [f"{where}: {what}" for where, what in self.facts.todo] + [str(p) for p in self.warnings]
        if todo:
            yield "to look at:"
            for line in todo[:SHOWN]:
                yield f"  {line}"
            if len(todo) > SHOWN:
                yield f"  … and {len(todo) - SHOWN} more"
        yield f"next: uv run build.py --source {self.into}"
