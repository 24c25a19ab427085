"""`Harvest` → the bank: what each file will hold, which media to copy, the ledger's seeds, and
the facts of the summary. Pure: reads the harvest's media files only to name them.

Decisions (README "Bring an existing deck" explains them to authors):

- **Decks become chapters**, one per deck that holds notes, in the order of their names; the
  chapter records the deck's name (``anki: {deck: …}``) so the build sends new cards to the
  deck learners already have. The root deck shared by all of them names the book and its deck.
- **A note keeps its identity** when its GUID and its note type's definition are known (always
  for packages; for text formats with ``--collection``): the question gets ``anki: {guid,
  notetype}`` and anki.yaml records the note type. Otherwise it becomes a new deckbook question.
- **Fields get roles.** Each field of a note type is filled from one of the question's Markdown
  texts: Basic-like types map their first fields to question, answer and explanation; cloze
  types their cloze field to ``cloze`` and the next one to the explanation; Image Occlusion its
  header, image and back extra. A field without a role (Basic (optional reversed)'s "Add
  Reverse", a custom type's fourth field) keeps its own Markdown in ``anki.fields``, as does a
  field whose text fits no role (a front on several lines, an empty back): the card gets the
  field exactly, and the book a one-line question or a placeholder answer, both reported.
- **Tags** become slugs (``Geo::Europe`` → ``geo-europe``); anki.yaml maps each back to the Anki
  tag, so every note keeps the tags learners have.
- **Times**: a note's modification time in learners' collections seeds the ledger, so the first
  build sends nothing they do not already have (Anki updates a note only when the incoming one
  is newer), and the author's first edit of a note reaches them as an update.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckbook import markup
from deckbook.importers import htmlmd, htmltree
from deckbook.importers.harvest import Harvest, SourceNote, SourceNoteType, refuse
from deckbook.validate import slug

MAX_CHAPTERS = 200
MAX_QUESTIONS = 2000  # per chapter (the schema's limit); a bigger deck is split into parts
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)\}\}", re.DOTALL)
_CLOZE_PARTS = re.compile(r"\{\{c\d+::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
_TEMPLATE_CLOZE = re.compile(r"\{\{(?:[^}]*?:)?cloze:([^}]+)\}\}")


@dataclass(frozen=True)
class Facts:
    """What the import did, for the summary (`deckbook.importers.summary`)."""

    notes: int
    kept: int  # notes that keep their Anki identity (GUID and note type)
    changed: int  # of those, notes whose text differs from learners' copies: the first build updates them
    notetypes: tuple[str, ...]  # names of the note types recorded in anki.yaml
    chapters: tuple[tuple[str, str, int], ...]  # (Anki deck, chapter file, questions)
    tags: int
    renamed_tags: tuple[tuple[str, str], ...]  # (Anki tag, deckbook tag) where they differ
    media: int
    losses: tuple[tuple[str, str], ...]  # (note, what could not be converted)
    todo: tuple[tuple[str, str], ...]  # (note or file, what an author should look at)
    remarks: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """The bank to write: YAML documents by path (with their schema), media, ledger seeds."""

    documents: dict[str, tuple[str, Any]]  # relative path → (schema kind, data)
    media: dict[str, Path]  # name in media/ → file to copy
    seeds: dict[str, int]  # ledger key → the modification time learners' copies have
    facts: Facts


@dataclass
class _State:
    harvest: Harvest
    media_names: dict[str, str] = field(default_factory=dict)  # source name → bank name
    media: dict[str, Path] = field(default_factory=dict)  # bank name → file
    losses: list[tuple[str, str]] = field(default_factory=list)
    todo: list[tuple[str, str]] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    tags: dict[str, str] = field(default_factory=dict)  # Anki tag → deckbook tag
    notetypes: dict[str, dict[str, Any]] = field(default_factory=dict)  # note type name → anki.yaml entry
    keys: set[str] = field(default_factory=set)
    seeds: dict[str, int] = field(default_factory=dict)
    unexplained: list[str] = field(default_factory=list)  # imported questions without an explanation

    def resolve(self, name: str) -> str | None:
        """The bank's media name for a file a field refers to, registering it to be copied."""
        for candidate in dict.fromkeys((name, urllib.parse.unquote(name), name.split("?", maxsplit=1)[0])):
            if candidate in self.media_names:
                return self.media_names[candidate]
            path = self.harvest.media.get(candidate)
            if path is not None and path.is_file():
                bank_name = _unique(_safe_file_name(candidate), self.media)
                self.media_names[candidate] = bank_name
                self.media[bank_name] = path
                return bank_name
        return None

    def convert(self, html: str, label: str) -> str:
        got = htmlmd.convert(html, self.resolve)
        self.losses.extend((label, what) for what in got.losses)
        return got.markdown

    def new_id(self, text: str, fallback: str) -> str:
        words = slug(unicodedata.normalize("NFKC", text)).split("-")[:6] if text.strip() else []
        base = "-".join(words)[:50].strip("-") or fallback
        return _unique_id(base, self.ids)

    def tag(self, anki_tag: str) -> str:
        if anki_tag not in self.tags:
            self.tags[anki_tag] = _unique_id(slug(anki_tag.replace("::", "-"))[:60].strip("-") or "tag", set(self.tags.values()))
        return self.tags[anki_tag]


def plan_bank(harvest: Harvest, language: str) -> Plan:
    """The bank for `harvest` (see the module docstring for every decision). Raises `Refused`
    only when the deck cannot be a bank at all (more decks than a bank has chapters)."""
    state = _State(harvest)
    decks = _chapter_decks(harvest.notes)
    root = _root(decks)
    chapters = _chapters(state, decks, root)
    if len(chapters) > MAX_CHAPTERS:
        raise refuse(str(harvest.source), f"has {len(chapters)} decks with notes; a bank holds at most {MAX_CHAPTERS} chapters")
    documents: dict[str, tuple[str, Any]] = {"book.yaml": ("book", _book(state, root, chapters, language))}
    documents.update({f"chapters/{c['id']}.yaml": ("chapter", c) for c in chapters})
    anki: dict[str, Any] = {}
    if state.notetypes:
        anki["notetypes"] = list(state.notetypes.values())
    if state.tags:
        anki["tags"] = {v: k for k, v in sorted(state.tags.items(), key=lambda kv: kv[1])}
    if anki:
        documents["anki.yaml"] = ("anki", anki)
    return Plan(documents, dict(state.media), dict(state.seeds), _facts(state, chapters))


def _chapters(state: _State, decks: list[tuple[str, list[SourceNote]]], root: str) -> list[dict[str, Any]]:
    """One chapter per deck (a deck over the schema's size in parts), its questions in note order."""
    chapters = []
    ids: set[str] = set()
    for deck, notes in decks:
        for part, chunk in enumerate(_chunks(notes, MAX_QUESTIONS)):
            title = _chapter_title(deck, root) + (f" ({part + 1})" if part else "")
            doc: dict[str, Any] = {"id": _unique_id(slug(title)[:60].strip("-") or "chapter", ids), "title": title, "anki": {"deck": deck}}
            intro = state.convert(state.harvest.decks.get(deck, ""), f"deck {deck}") if part == 0 else ""
            if intro:
                doc["intro"] = intro
            doc["questions"] = [_question(state, note) for note in chunk]
            chapters.append(doc)
    return chapters


def _book(state: _State, root: str, chapters: list[dict[str, Any]], language: str) -> dict[str, Any]:
    """book.yaml: named after the root deck (or the file); the author is left for a person to write."""
    title = root or state.harvest.title or "Imported deck"
    deck = re.sub(r'[:"\n]+', " ", title).strip()[:100].strip() or "Imported deck"
    book: dict[str, Any] = {
        "title": _one_line(title, 500) or "Imported deck",
        "author": "Unknown",
        "version": "1.0.0",
        "language": language,
        "deck": deck,
        "namespace": _namespace(deck),
    }
    description = state.convert(state.harvest.decks.get(root, ""), f"deck {root}") if root else ""
    if description:
        book["description"] = description
    book["chapters"] = [c["id"] for c in chapters]
    state.todo.insert(0, ("book.yaml", "author is 'Unknown': write the author's name (and check title, language and version)"))
    if state.unexplained:
        shown = ", ".join(state.unexplained[:3]) + (", …" if len(state.unexplained) > 3 else "")
        what = f"{len(state.unexplained)} questions have no explanation ({shown}); the book shows only their answers until you write one"
        state.todo.append(("chapters/", what))
    return book


def _facts(state: _State, chapters: list[dict[str, Any]]) -> Facts:
    questions = [q for c in chapters for q in c["questions"]]
    return Facts(
        notes=len(state.harvest.notes),
        kept=sum(1 for q in questions if "anki" in q),
        changed=sum(1 for q in questions if "anki" in q and q["id"] not in state.seeds),
        notetypes=tuple(nt["name"] for nt in state.notetypes.values()),
        chapters=tuple((c["anki"]["deck"], f"chapters/{c['id']}.yaml", len(c["questions"])) for c in chapters),
        tags=len(state.tags),
        renamed_tags=tuple((k, v) for k, v in state.tags.items() if k != v),
        media=len(state.media),
        losses=tuple(dict.fromkeys(state.losses)),
        todo=tuple(state.todo),
        remarks=state.harvest.remarks,
    )


# --- one note -----------------------------------------------------------------------------------


def _question(state: _State, note: SourceNote) -> dict[str, Any]:
    state.losses.extend((note.label, what) for what in note.losses)
    nt = state.harvest.definition(note)
    keep = nt is not None and note.guid is not None
    roles = field_roles(nt) if nt is not None else _guess_roles(note)
    fitted, own = _fill_roles(state, note, roles, keep)
    cloze_html = next((h for h, r in zip(note.fields, roles, strict=True) if r == "cloze"), None)
    q: dict[str, Any] = {"id": ""}
    q["question"] = fitted.get("question") or _blanks(fitted.get("cloze")) or _derived_question(note, cloze_html, nt)
    q["answer"] = fitted.get("answer") or _derived_answer(fitted.get("cloze") or _cloze_markdown(own, note, roles), own)
    explanation = fitted.get("explanation", "")
    if not keep:  # a new deckbook question: what no role holds joins the explanation, labelled
        extra = [f"**{htmlmd.escape(name)}:**\n\n{md}" for name, md in own.items() if md.strip()]
        explanation = "\n\n".join(p for p in (explanation, *extra) if p.strip())
    if explanation.strip():
        q["explanation"] = explanation
    if "cloze" in fitted:
        q["cloze"] = fitted["cloze"]
    tags = list(dict.fromkeys(state.tag(t) for t in note.tags if t.strip()))
    if tags:
        q["tags"] = tags
    q["origin"] = [note.label]
    q["id"] = state.new_id(htmltree.plain_text(q["question"]), "note")
    if keep and nt is not None and note.guid is not None:
        entry: dict[str, Any] = {"guid": note.guid, "notetype": _record_notetype(state, nt, roles)}
        if own:
            entry["fields"] = own
        q["anki"] = entry
        if note.mtime is not None:
            state.seeds[q["id"]] = note.mtime
        if "explanation" not in q:
            state.unexplained.append(q["id"])
    return q


def _fill_roles(state: _State, note: SourceNote, roles: tuple[str | None, ...], keep: bool) -> tuple[dict[str, str], dict[str, str]]:
    """Each field's Markdown, as the role it fits (`fitted`, by role) or as its own (`own`, by
    field name: a field without a role, or whose text fits none; kept empty where the card's
    field is empty but the book needs text)."""
    fitted: dict[str, str] = {}
    own: dict[str, str] = {}
    for name, role, html in zip(note.field_names, roles, note.fields, strict=True):
        md = state.convert(html, note.label)
        if role is not None and _fits(role, md):
            fitted[role] = md
        elif role is None and not keep and name == "Add Reverse":
            if md.strip():
                state.losses.append((note.label, "'Add Reverse' dropped: deckbook's own note has one card"))
        elif md.strip() or (keep and role in ("question", "answer")):
            own[name] = md
            if role is not None and md.strip():
                state.losses.append((note.label, _misfit(role, name)))
    return fitted, own


def field_roles(nt: SourceNoteType) -> tuple[str | None, ...]:
    """Which Markdown fills each field of `nt` (see the module docstring)."""
    names = [f.name for f in nt.fields]
    n = len(names)
    out: list[str | None] = [None] * n
    if nt.stock_kind == 6 or (
        nt.name.startswith("Image Occlusion") and names == ["Occlusion", "Image", "Header", "Back Extra", "Comments"]
    ):
        return (None, "answer", "question", "explanation", None) if n == 5 else tuple(out)
    if nt.cloze:
        named = _TEMPLATE_CLOZE.search(nt.templates[0].front) if nt.templates else None
        at = names.index(named.group(1).strip()) if named and named.group(1).strip() in names else 0
        out[at] = "cloze"
        rest = [i for i in range(n) if i != at]
        if rest:
            out[rest[0]] = "explanation"
        return tuple(out)
    for i, role in enumerate(("question", "answer", "explanation")[:n]):
        if names[i] != "Add Reverse":
            out[i] = role
    return tuple(out)


def _guess_roles(note: SourceNote) -> tuple[str | None, ...]:
    """Roles for a note whose note type is unknown (text formats without --collection)."""
    cloze = note.notetype.lower().startswith("cloze") or any(_CLOZE.search(f) for f in note.fields[:1])
    n = len(note.fields)
    if cloze:
        return tuple(("cloze", "explanation")[i] if i < 2 else None for i in range(n))
    return tuple(
        r if note.field_names[i] != "Add Reverse" else None for i, r in enumerate((("question", "answer", "explanation") + (None,) * n)[:n])
    )


def _fits(role: str, md: str) -> bool:
    """Whether `md` can be the question's `role` (the schema's and the validator's rules)."""
    if role == "question":  # one line the converter wrote is one paragraph (it escapes what would start a block)
        if not md.strip() or "\n" in md or len(md) > 1000:
            return False
        blocks = [t.type for t in markup.parse(md) if t.nesting == 1 and t.level == 0]
        return blocks == ["paragraph_open"]
    if role == "answer":
        return bool(md.strip()) and len(md) <= 6000
    if role == "explanation":
        return len(md) <= 20000
    return bool(md.strip()) and len(md) <= 4000 and cloze_ok(md)


def cloze_ok(text: str) -> bool:
    """A cloze deckbook accepts without a warning: deletions c1, c2… without gaps, no stray braces."""
    deletions = _CLOZE.findall(text)
    if not deletions:
        return False
    rest = _CLOZE.sub("", text)
    if "{{" in rest or "}}" in rest or any("{{" in body or "}}" in body for _, body in deletions):
        return False
    numbers = sorted({int(n) for n, _ in deletions})
    return numbers == list(range(1, numbers[-1] + 1))


def _misfit(role: str, name: str) -> str:
    why = {
        "question": "is not one line of text",
        "answer": "is too long for an answer",
        "explanation": "is too long for an explanation",
        "cloze": "is not a cloze deckbook can check (nested, or numbers with gaps)",
    }[role]
    return f"field '{name}' {why}: the card keeps it as written (anki.fields); the book shows a {role} made from it"


def _blanks(cloze_md: str | None) -> str | None:
    """A one-line cloze as the book's question: each deletion shown as Anki shows it, [hint] or […]."""
    if not cloze_md or "\n" in cloze_md:
        return None
    question = _CLOZE_PARTS.sub(lambda m: f"[{m.group(2)}]" if m.group(2) else "[…]", cloze_md)
    return question if _fits("question", question) else None


def _derived_question(note: SourceNote, cloze_html: str | None, nt: SourceNoteType | None) -> str:
    """One line for the book when no field fits as the question: a cloze with blanks, else the
    note's first text, else its note type and id."""
    if cloze_html is not None and htmltree.plain_text(cloze_html).strip():
        text = htmltree.plain_text(cloze_html).replace("\n", " ")
        pieces, last = [], 0
        for m in _CLOZE_PARTS.finditer(text):
            pieces.append(htmlmd.escape(text[last : m.start()]))
            pieces.append(f"[{htmlmd.escape(m.group(2))}]" if m.group(2) else "[…]")
            last = m.end()
        pieces.append(htmlmd.escape(text[last:]))
        return htmlmd.escape_line_start(_clip("".join(pieces), 400))
    for html in note.fields:
        text = htmltree.plain_text(html).replace("\n", " ").strip()
        if text and not _CLOZE.search(text):
            return htmlmd.escape_line_start(htmlmd.escape(_clip(text, 200), all_brackets=True))
    return f"{htmlmd.escape(nt.name if nt else note.notetype)} ({note.label})"


def _derived_answer(cloze_md: str | None, own: dict[str, str]) -> str:
    """The book's answer when no field fits as one: a cloze with its deletions filled in, else a
    field's Markdown the card keeps, else a dash."""
    if cloze_md:
        return _CLOZE_PARTS.sub(lambda m: m.group(1), cloze_md)
    return next((md for md in own.values() if md.strip()), "—")


def _cloze_markdown(own: dict[str, str], note: SourceNote, roles: tuple[str | None, ...]) -> str | None:
    for name, role in zip(note.field_names, roles, strict=True):
        if role == "cloze" and own.get(name, "").strip():
            return own[name]
    return None


def _record_notetype(state: _State, nt: SourceNoteType, roles: tuple[str | None, ...]) -> str:
    """anki.yaml's entry for `nt` (once per note type); its key."""
    entry = state.notetypes.get(nt.name)
    if entry is not None:
        return str(entry["key"])
    key = _unique_id(slug(nt.name)[:60].strip("-") or "notetype", state.keys)
    entry = {"key": key, "id": nt.id, "name": nt.name}
    if nt.cloze:
        entry["cloze"] = True
    if nt.sort_field:
        entry["sort_field"] = nt.sort_field
    if nt.stock_kind is not None:
        entry["stock_kind"] = nt.stock_kind
    fields = []
    for f, role in zip(nt.fields, roles, strict=True):
        item: dict[str, Any] = {"name": f.name}
        if f.id is not None:
            item["id"] = f.id
        if role is not None:
            item["role"] = role
        fields.append(item)
    entry["fields"] = fields
    entry["templates"] = [
        {"name": t.name, **({"id": t.id} if t.id is not None else {}), "front": t.front, "back": t.back} for t in nt.templates
    ]
    entry["css"] = nt.css
    state.notetypes[nt.name] = entry
    state.seeds[f"notetype::anki::{key}"] = nt.mtime
    return key


# --- decks, names, ids ----------------------------------------------------------------------------


def _chapter_decks(notes: Iterable[SourceNote]) -> list[tuple[str, list[SourceNote]]]:
    by_deck: dict[str, list[SourceNote]] = {}
    for note in notes:
        by_deck.setdefault(note.deck, []).append(note)
    return sorted(by_deck.items(), key=lambda kv: [p.casefold() for p in kv[0].split("::")])


def _root(decks: list[tuple[str, list[SourceNote]]]) -> str:
    """The first part every deck's name shares ('' when they share none)."""
    firsts = {name.split("::")[0] for name, _ in decks}
    return firsts.pop() if len(firsts) == 1 else ""


def _chapter_title(deck: str, root: str) -> str:
    parts = deck.split("::")
    if root and len(parts) > 1:
        parts = parts[1:]
    return _one_line(" / ".join(p.strip() for p in parts), 200) or "Chapter"


def _chunks(notes: list[SourceNote], size: int) -> list[list[SourceNote]]:
    return [notes[i : i + size] for i in range(0, len(notes), size)] or [[]]


def _one_line(text: str, limit: int) -> str:
    return _clip(re.sub(r"\s+", " ", text).strip(), limit)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def _namespace(deck: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", deck).encode("ascii", "ignore").decode().lower()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text))[:60].strip("-") or "imported-deck"


def _unique_id(base: str, taken: set[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base[:70]}-{n}"
        n += 1
    taken.add(candidate)
    return candidate


def _safe_file_name(name: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()).strip("-_") or "file"
    suffix = re.sub(r"[^a-z0-9]+", "", suffix.lower())
    return f"{stem[:80]}.{suffix}" if suffix else stem[:80]


def _unique(name: str, taken: dict[str, Path]) -> str:
    candidate, n = name, 2
    stem, dot, suffix = name.rpartition(".")
    while candidate in taken:
        candidate = f"{stem}-{n}.{suffix}" if dot else f"{name}-{n}"
        n += 1
    return candidate
