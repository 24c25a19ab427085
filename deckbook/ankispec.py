"""anki.yaml and the `anki:` keys: what a bank keeps of the Anki deck it was imported from.

A bank made by ``build.py import`` continues notes that learners already study. For Anki to
update such a note in place (and keep its schedule), the deck must carry it with its original
GUID and its original note type: the same note type id, the same fields (by id, or by name when
the note type predates field ids) and the same number of card templates. So the bank records:

- in ``anki.yaml``: each imported note type (id, name, fields with their ids and *roles*,
  templates, styling) and the Anki tag each deckbook tag stands for;
- on a chapter: ``anki: {deck: …}``, the deck's name as learners have it;
- on a question: ``anki: {guid: …, notetype: …, fields: {…}}``: the note it continues. A field
  with a role (question, answer, explanation, cloze) is filled from the question's Markdown; a
  field without one, or whose text fits no role, from ``fields`` (Markdown too).

This module turns the parsed YAML into the model's records and checks, with file:line, what the
JSON Schema cannot: references between the files, duplicate GUIDs, and the Markdown of
``anki.fields`` (the same analysis as every other Markdown field).
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from deckbook import analysis
from deckbook.model import ROLES, AnkiField, AnkiNote, AnkiNoteType, AnkiSpec, AnkiTemplate, Bank, Location
from deckbook.problems import Problem, error, warning
from deckbook.yamlio import Lines, Path_

FILE = "anki.yaml"
MEDIA_DIR = "media"


def read_spec(data: Any, lines: Lines) -> AnkiSpec:
    """anki.yaml's well-formed parts as an `AnkiSpec` (the schema check reports the rest)."""
    if not isinstance(data, dict):
        return AnkiSpec()
    notetypes = []
    for i, item in enumerate(data.get("notetypes") or []):
        nt = _notetype(item, lines.loc(("notetypes", i)))
        if nt is not None:
            notetypes.append(nt)
    tags = data.get("tags")
    pairs = tuple((str(k), v) for k, v in tags.items() if isinstance(v, str)) if isinstance(tags, dict) else ()
    return AnkiSpec(tuple(notetypes), pairs)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _notetype(item: Any, loc: Location) -> AnkiNoteType | None:
    if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("key", "name")) or _int(item.get("id")) is None:
        return None
    fields = tuple(
        AnkiField(f["name"], _int(f.get("id")), f.get("role") if f.get("role") in ROLES else None)
        for f in item.get("fields") or []
        if isinstance(f, dict) and isinstance(f.get("name"), str)
    )
    templates = tuple(
        AnkiTemplate(t["name"], _int(t.get("id")), str(t.get("front") or ""), str(t.get("back") or ""))
        for t in item.get("templates") or []
        if isinstance(t, dict) and isinstance(t.get("name"), str)
    )
    if not fields or not templates:
        return None
    return AnkiNoteType(
        key=item["key"],
        id=item["id"],
        name=item["name"],
        cloze=item.get("cloze") is True,
        sort_field=_int(item.get("sort_field")) or 0,
        fields=fields,
        templates=templates,
        css=str(item.get("css") or ""),
        stock_kind=_int(item.get("stock_kind")),
        loc=loc,
    )


def question_note(value: Any) -> AnkiNote | None:
    """A question's `anki:` mapping as an `AnkiNote` (None when absent or malformed)."""
    if not isinstance(value, dict) or not isinstance(value.get("guid"), str) or not isinstance(value.get("notetype"), str):
        return None
    fields = value.get("fields")
    pairs = tuple((str(k), v) for k, v in fields.items() if isinstance(v, str)) if isinstance(fields, dict) else ()
    return AnkiNote(value["guid"], value["notetype"], pairs)


def chapter_deck(value: Any) -> str | None:
    deck = value.get("deck") if isinstance(value, dict) else None
    return deck if isinstance(deck, str) and deck.strip() else None


# --- checks across files -------------------------------------------------------------------------


class Places:
    """Where the `anki:` keys of questions and chapters are, for messages (filled by the loader)."""

    def __init__(self) -> None:
        self.questions: dict[str, tuple[Lines, Path_]] = {}  # question id → (its file, path to its `anki` key)
        self.chapters: dict[str, tuple[Lines, Path_]] = {}
        self.spec_usable = True  # False: anki.yaml could not be read, so references to it are not checked

    def question(self, qid: str, *keys: str | int) -> Location | None:
        got = self.questions.get(qid)
        return None if got is None else got[0].loc((*got[1], *keys))

    def question_text(self, qid: str, offset: int, *keys: str | int) -> Location | None:
        got = self.questions.get(qid)
        return None if got is None else got[0].text_loc((*got[1], *keys), offset)


def check(bank: Bank, places: Places) -> list[Problem]:
    """Every problem of the bank's `anki` records that the JSON Schema cannot see."""
    problems = list(_notetype_problems(bank.anki, places))
    problems += _question_problems(bank, places)
    problems += _chapter_problems(bank, places)
    return problems


def _notetype_problems(spec: AnkiSpec, places: Places) -> Iterator[Problem]:
    keys: dict[str, Location] = {}
    ids: dict[int, Location] = {}
    for nt in spec.notetypes:
        if nt.key in keys:
            yield error(nt.loc, f"note type key '{nt.key}' is used twice (first at {keys[nt.key]})")
        if nt.id in ids:
            yield error(nt.loc, f"note type '{nt.key}': id {nt.id} is used twice (first at {ids[nt.id]})")
        keys.setdefault(nt.key, nt.loc)
        ids.setdefault(nt.id, nt.loc)
        names = collections.Counter(f.name for f in nt.fields)
        for name, n in sorted(names.items()):
            if n > 1:
                yield error(nt.loc, f"note type '{nt.key}': field '{name}' is listed {n} times")
        roles = collections.Counter(f.role for f in nt.fields if f.role)
        for role, n in sorted(roles.items()):
            if n > 1:
                yield error(nt.loc, f"note type '{nt.key}': {n} fields have the role '{role}'; give it to one field")
        if nt.field_for("cloze") is not None and not nt.cloze:
            yield error(nt.loc, f"note type '{nt.key}': only a cloze note type (cloze: true) has a field with the role 'cloze'")
        if nt.sort_field >= len(nt.fields):
            yield error(nt.loc, f"note type '{nt.key}': sort_field {nt.sort_field} is not a field (it has {len(nt.fields)})")


def _question_problems(bank: Bank, places: Places) -> Iterator[Problem]:
    guids: dict[str, str] = {}
    known = bank.anki.notetype_by_key
    media = bank.source_dir / MEDIA_DIR
    for q in bank.questions:
        if q.anki is None:
            continue
        loc = places.question(q.id) or q.loc
        if q.anki.guid in guids:
            yield error(loc, f"question '{q.id}': anki guid '{q.anki.guid}' is also the guid of question '{guids[q.anki.guid]}'")
        guids.setdefault(q.anki.guid, q.id)
        nt = known.get(q.anki.notetype)
        if nt is None:
            if places.spec_usable:
                have = ", ".join(sorted(known)) or "none"
                where = places.question(q.id, "notetype") or loc
                yield error(where, f"question '{q.id}': note type '{q.anki.notetype}' is not in {FILE} (it has: {have})")
            continue
        names = {f.name for f in nt.fields}
        for name, text in q.anki.fields:
            where = places.question(q.id, "fields", name) or loc
            if name not in names:
                have = ", ".join(f.name for f in nt.fields)
                yield error(where, f"question '{q.id}': note type '{nt.key}' has no field '{name}' (fields: {have})")
                continue
            yield from _markdown(q.id, name, text, places, where, media)


def _markdown(qid: str, name: str, text: str, places: Places, where: Location, media: Path) -> Iterator[Problem]:
    """The Markdown of one `anki.fields` entry, checked like every Markdown field of the bank."""
    if not text.strip():
        return
    found = analysis.analyse(text)
    for finding in found.findings:
        at = places.question_text(qid, finding.line, "fields", name) or where
        make = error if finding.is_error else warning
        yield make(at, f"question '{qid}': anki field '{name}': {finding.message}")
    for image in found.images:
        path = media / image
        if path.is_symlink() or not path.is_file():
            yield error(where, f"question '{qid}': anki field '{name}': image media/{image} not found in the bank's media/ folder")


def _chapter_problems(bank: Bank, places: Places) -> Iterator[Problem]:
    for c in bank.chapters:
        if c.anki_deck is not None and any(not part.strip() for part in c.anki_deck.split("::")):
            got = places.chapters.get(c.id)
            loc = got[0].loc((*got[1], "deck")) if got else c.loc
            yield error(loc, f"chapter '{c.id}': anki deck '{c.anki_deck}' has an empty part between '::'")
