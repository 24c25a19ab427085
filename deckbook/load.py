"""source/ → Bank: read every file, check its structure, keep file:line for every node.

The loader never stops at the first problem: each file is read and schema-checked on its own, and
whatever is well-formed becomes part of the `Bank`, so one run reports everything. Semantic rules
that need the whole bank (references, uniqueness across files, Markdown) live in `validate.py`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckbook import ankispec, schemacheck
from deckbook.model import AnkiSpec, Bank, Book, Chapter, Entry, FontSpec, IndexSpec, Kind, Level, Location, Question, Status, Term
from deckbook.problems import Problem, error, warning
from deckbook.yamlio import MAX_FILE_BYTES, Lines, Path_, YamlDoc, read_yaml

CHAPTER_DIR = "chapters"
MEDIA_DIR = "media"


@dataclass
class SourceIndex:
    """Where each Markdown field's text starts (and where a few keys lint points at are), keyed by
    (owner id, key); for precise lint lines."""

    lines: dict[tuple[str, str], tuple[Lines, tuple[str | int, ...]]] = field(default_factory=dict)
    known_ids: set[str] = field(default_factory=set)  # every id written anywhere, even in broken items
    unreadable: bool = False  # some file could not be parsed: ids and index entries in it are unknown
    chapter_files: dict[str, Location] = field(default_factory=dict)
    anki: ankispec.Places = field(default_factory=ankispec.Places)  # where the `anki:` keys are (imported banks)

    def text_loc(self, owner: str, key: str, offset: int = 0) -> Location | None:
        entry = self.lines.get((owner, key))
        return None if entry is None else entry[0].text_loc(entry[1], offset)

    def key_loc(self, owner: str, key: str, *inner: str | int) -> Location | None:
        """The line of `key` of `owner`, or of the item `inner` inside it (a list index, a mapping key)."""
        entry = self.lines.get((owner, key))
        return None if entry is None else entry[0].loc((*entry[1], *inner))


@dataclass(frozen=True)
class Loaded:
    """What the loader found: the bank (None if book.yaml is unusable), problems, and the index."""

    bank: Bank | None
    problems: list[Problem]
    index: SourceIndex


ReadMemo = dict[tuple[str, str], tuple[bytes, YamlDoc, tuple[Problem, ...]]]
"""A file's last reading, for a caller that loads the same bank again and again (the live
preview): (kind, path) → its bytes, the parsed document and the problems reading it found.
A file whose bytes are the same is not parsed or checked again."""


class _Reader:
    """Reads files under one source root, refusing anything that resolves outside it."""

    def __init__(self, root: Path, memo: ReadMemo | None = None) -> None:
        self.root = root
        self.real_root = root.resolve()
        self.problems: list[Problem] = []
        self.unreadable = False
        self.memo = memo

    def display(self, path: Path) -> str:
        return os.path.normpath(str(path))

    def inside(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.real_root)
        except (ValueError, OSError, RuntimeError):
            return False
        return True

    def read(self, path: Path, kind: str) -> tuple[Any, Lines]:
        shown = self.display(path)
        if not self.inside(path):
            self.problems.append(error(Location(shown), "is a link to a file outside the source folder; refusing to read it"))
            return None, Lines(shown)
        if not path.is_file():
            self.problems.append(error(Location(shown), "is not a regular file"))
            return None, Lines(shown)
        doc, problems = self._parsed(path, shown, kind)
        self.problems.extend(problems)
        if doc.data is None:
            self.unreadable = True
            return None, doc.lines
        if not isinstance(doc.data, dict):
            found = "a list" if isinstance(doc.data, list) else "a single value"
            self.problems.append(error(Location(shown, 1), f"file must be a mapping of keys, not {found}"))
            self.unreadable = True
            return None, doc.lines
        return doc.data, doc.lines

    def _parsed(self, path: Path, shown: str, kind: str) -> tuple[YamlDoc, list[Problem]]:
        """The file's document and every problem in it (YAML, then structure); from the memo when
        its bytes did not change."""
        try:
            raw = path.read_bytes() if self.memo is not None and path.stat().st_size <= MAX_FILE_BYTES else None
        except OSError:  # read_yaml reports it
            raw = None
        known = self.memo.get((kind, shown)) if self.memo is not None else None
        if known is not None and known[0] == raw:
            return known[1], list(known[2])
        doc, problems = read_yaml(path, shown)
        if isinstance(doc.data, dict):
            problems += schemacheck.check(kind, doc.data, doc.lines)
        if self.memo is not None and raw is not None:
            self.memo[(kind, shown)] = (raw, doc, tuple(problems))
        return doc, problems


def load_bank(source: Path, memo: ReadMemo | None = None) -> Loaded:
    """Load everything under `source`; see the module docstring for the contract. With `memo`,
    files unchanged since the last load with the same memo are not parsed again."""
    reader = _Reader(source, memo)
    index = SourceIndex()
    if not source.is_dir():
        return Loaded(None, [error(Location(reader.display(source)), "source folder not found")], index)

    book_data, book_lines = _read_optional(reader, source / "book.yaml", "book", required=True)
    book = _book(book_data, book_lines, index) if _ok(book_data, reader, book_lines) else None
    declared = isinstance(book_data, dict) and isinstance(book_data.get("index"), dict)
    registry = book.index.file if book else IndexSpec().file
    entries = _entries(reader, source / registry, index, required=declared, declared_at=book_lines.loc(("index",)))
    terms = _terms(reader, source, index)
    anki = _anki(reader, source, index)
    order = list(book.chapter_ids) if book else []
    chapters = _chapters(reader, source, order, book_lines, index, book)
    index.unreadable = reader.unreadable
    if book is None:
        return Loaded(None, reader.problems, index)
    media = tuple(sorted(p for p in (source / MEDIA_DIR).glob("*") if p.is_file())) if (source / MEDIA_DIR).is_dir() else ()
    bank = Bank(book, tuple(chapters), tuple(terms), tuple(entries), source, media, anki)
    reader.problems.extend(ankispec.check(bank, index.anki))
    return Loaded(bank, reader.problems, index)


def _ok(data: Any, reader: _Reader, lines: Lines) -> bool:
    """True when `data` came through with no structural error in its own file."""
    return data is not None and not any(p.loc.path == lines.display for p in reader.problems)


def _read_optional(reader: _Reader, path: Path, kind: str, *, required: bool = False) -> tuple[Any, Lines]:
    if not path.exists() and not path.is_symlink():
        if required:
            reader.problems.append(error(Location(reader.display(path)), "file not found; every bank needs a book.yaml"))
        return None, Lines(reader.display(path))
    return reader.read(path, kind)


def _book(data: dict[str, Any], lines: Lines, index: SourceIndex) -> Book:
    for key in ("title", "subtitle", "author", "levels", "description", "guide"):
        index.lines[("book", key)] = (lines, (key,))
    levels = tuple(Level(lv["id"], lv["label"], lv.get("meaning"), rank) for rank, lv in enumerate(data.get("levels") or (), start=1))
    kinds = tuple(Kind(k["id"], k["label"]) for k in data.get("kinds") or ())
    spec = data.get("index") or {}
    fonts = data.get("fonts") or {}
    return Book(
        title=data["title"],
        subtitle=data.get("subtitle"),
        author=data["author"],
        author_sort=data.get("author_sort"),
        version=data["version"],
        language=data["language"],
        deck=data["deck"],
        namespace=data["namespace"],
        description_md=data.get("description"),
        chapter_ids=tuple(data["chapters"]),
        loc=Location(lines.display, 1),
        subject=data.get("subject"),
        keywords=tuple(data.get("keywords") or ()),
        guide_md=data.get("guide"),
        levels=levels,
        kinds=kinds,
        index=IndexSpec(
            file=spec.get("file", IndexSpec.file),
            title=spec.get("title"),
            noun=spec.get("noun"),
            label=spec.get("label"),
            tag=spec.get("tag", IndexSpec.tag),
        ),
        show_ids=bool(data.get("show_ids", False)),
        replaced=tuple((r["id"], r["replaced_by"]) for r in data.get("retired") or ()),
        report=data.get("report"),
        fonts=FontSpec(*(tuple(fonts.get(role) or ()) for role in ("body", "headings", "code"))),
    )


def _entries(reader: _Reader, path: Path, index: SourceIndex, *, required: bool, declared_at: Location) -> list[Entry]:
    """The index registry: optional, unless book.yaml declares an `index:` (then its file must exist)."""
    if required and not path.exists() and not path.is_symlink():
        message = f"book.yaml declares an index, but {path.name} does not exist; create it or remove 'index'"
        reader.problems.append(error(declared_at, message))
        return []
    data, lines = _read_optional(reader, path, "index")
    out = []
    statuses = {s.value: s for s in Status}
    for i, item in enumerate(_items(data, "entries")):
        if not _item_ok(item, ("id", "name"), index):
            continue
        out.append(
            Entry(
                id=item["id"],
                name=item["name"],
                full_name=_str(item.get("full_name")),
                aliases=_strs(item.get("aliases")),
                category=_str(item.get("category")),
                status=statuses.get(str(item.get("status")), Status.ACTIVE),
                note=_str(item.get("note")),
                loc=lines.loc(("entries", i)),
            )
        )
    return out


def _terms(reader: _Reader, source: Path, index: SourceIndex) -> list[Term]:
    data, lines = _read_optional(reader, source / "glossary.yaml", "glossary")
    out = []
    for i, item in enumerate(_items(data, "terms")):
        if not _item_ok(item, ("id", "term", "definition"), index):
            continue
        index.lines[(item["id"], "definition")] = (lines, ("terms", i, "definition"))
        out.append(
            Term(
                id=item["id"],
                term=item["term"],
                definition_md=item["definition"],
                see=_strs(item.get("see")),
                origin=_strs(item.get("origin")),
                loc=lines.loc(("terms", i)),
            )
        )
    return out


def _anki(reader: _Reader, source: Path, index: SourceIndex) -> AnkiSpec:
    """anki.yaml, if the bank has one (banks imported from Anki; see deckbook.ankispec)."""
    path = source / ankispec.FILE
    data, lines = _read_optional(reader, path, "anki")
    index.anki.spec_usable = _ok(data, reader, lines) or not (path.exists() or path.is_symlink())
    return ankispec.read_spec(data, lines)


def _chapter_files(reader: _Reader, folder: Path, index: SourceIndex) -> dict[str, Path]:
    """chapters/*.yaml by id; other files there are reported and ignored."""
    present: dict[str, Path] = {}
    if not folder.is_dir():
        return present
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.suffix != ".yaml":
            reader.problems.append(warning(Location(reader.display(path)), "ignored: chapter files end in .yaml"))
            continue
        present[path.stem] = path
        index.chapter_files[path.stem] = Location(reader.display(path))
    return present


def _chapters(reader: _Reader, source: Path, order: list[str], book_lines: Lines, index: SourceIndex, book: Book | None) -> list[Chapter]:
    present = _chapter_files(reader, source / CHAPTER_DIR, index)
    seen: dict[str, int] = {}
    for i, chapter_id in enumerate(order):
        loc = book_lines.loc(("chapters", i))
        if chapter_id in seen:
            reader.problems.append(error(loc, f"chapter '{chapter_id}' is listed twice (first as number {seen[chapter_id]})"))
        elif chapter_id not in present:
            reader.problems.append(error(loc, f"chapter '{chapter_id}' is listed but {CHAPTER_DIR}/{chapter_id}.yaml does not exist"))
        seen.setdefault(chapter_id, i + 1)
    if order:
        for stem, path in present.items():
            if stem not in seen:
                message = f"chapter file is not listed in book.yaml 'chapters'; add '{stem}' there or remove the file"
                reader.problems.append(error(Location(reader.display(path)), message))
    chapters = []
    for number, chapter_id in enumerate(dict.fromkeys(order), start=1):
        if chapter_id in present:
            chapter = _chapter(reader, present[chapter_id], chapter_id, number, index, book)
            if chapter is not None:
                chapters.append(chapter)
    if not order:  # book.yaml unusable: still check every chapter file so one run shows everything
        for stem, path in present.items():
            _chapter(reader, path, stem, 0, index, book)
    return chapters


def _chapter(reader: _Reader, path: Path, chapter_id: str, number: int, index: SourceIndex, book: Book | None) -> Chapter | None:
    data, lines = reader.read(path, "chapter")
    if data is None:
        return None
    if isinstance(data.get("id"), str) and data["id"] != chapter_id:
        reader.problems.append(error(lines.loc(("id",)), f"chapter id '{data['id']}' must equal the file name '{chapter_id}'"))
    index.lines[(f"chapter:{chapter_id}", "title")] = (lines, ("title",))
    index.lines[(f"chapter:{chapter_id}", "intro")] = (lines, ("intro",))
    index.lines[(f"chapter:{chapter_id}", "reviewed")] = (lines, ("reviewed",))
    index.anki.chapters[chapter_id] = (lines, ("anki",))
    questions: list[Question] = []
    for i, item in enumerate(_items(data, "questions")):
        # a question with a structural problem elsewhere still joins the bank when these three are
        # usable, so its Markdown is checked in the same run (the structural problem is reported already)
        if not _item_ok(item, ("id", "question", "answer"), index, lists=False):
            continue
        where: Path_ = ("questions", i)
        for key in ("question", "answer", "explanation", "cloze", "index", "acknowledges"):
            index.lines[(item["id"], key)] = (lines, (*where, key))
        index.anki.questions[item["id"]] = (lines, (*where, "anki"))
        questions.append(
            Question(
                id=item["id"],
                chapter_id=chapter_id,
                section=f"{number}.{len(questions) + 1}",
                question_md=item["question"],
                answer_md=item["answer"],
                explanation_md=_str(item.get("explanation")),
                level=_declared(reader, lines.loc((*where, "level")), item, "level", book.levels if book else ()),
                kind=_declared(reader, lines.loc((*where, "kind")), item, "kind", book.kinds if book else ()),
                index=_strs(item.get("index")),
                tags=_strs(item.get("tags")),
                cloze_md=_str(item.get("cloze")),
                see=_strs(item.get("see")),
                origin=_strs(item.get("origin")),
                loc=lines.loc(where),
                anki=ankispec.question_note(item.get("anki")),
                acknowledges=_acknowledged(item.get("acknowledges")),
            )
        )
    if not isinstance(data.get("title"), str):
        return None
    return Chapter(
        id=chapter_id,
        number=number,
        title=data["title"],
        reviewed=_str(data.get("reviewed")),
        intro_md=_str(data.get("intro")),
        questions=tuple(questions),
        loc=Location(lines.display, 1),
        anki_deck=ankispec.chapter_deck(data.get("anki")),
    )


def _declared(reader: _Reader, loc: Location, item: dict[str, Any], key: str, declared: tuple[Level, ...] | tuple[Kind, ...]) -> Any:
    """The declared level (or kind) a question names; a problem if book.yaml declares no such id."""
    value = item.get(key)
    if not isinstance(value, str):
        return None
    found = next((d for d in declared if d.id == value), None)
    if found is None:
        plural = "levels" if key == "level" else "kinds"
        if declared:
            known = ", ".join(d.id for d in declared)
            reader.problems.append(error(loc, f"question '{item['id']}': unknown {key} '{value}' (book.yaml declares: {known})"))
        else:
            message = f"question '{item['id']}': book.yaml declares no {plural}; declare them there or remove '{key}'"
            reader.problems.append(error(loc, message))
    return found


def _acknowledged(value: Any) -> tuple[tuple[str, Status], ...]:
    """A question's `acknowledges: {entry id: status}`; what is not well-formed (reported by the
    schema check) is left out."""
    statuses = {s.value: s for s in Status if s is not Status.ACTIVE}
    if not isinstance(value, dict):
        return ()
    return tuple((k, statuses[v]) for k, v in value.items() if isinstance(k, str) and isinstance(v, str) and v in statuses)


def _items(data: Any, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def _item_ok(item: Any, required: tuple[str, ...], index: SourceIndex, *, lists: bool = True) -> bool:
    """An item becomes part of the model only if its required keys are usable text (and, with
    `lists`, its list keys are lists of text)."""
    if not isinstance(item, dict):
        return False
    if isinstance(item.get("id"), str):
        index.known_ids.add(item["id"])
    return all(isinstance(item.get(k), str) and item[k].strip() for k in required) and (not lists or _lists_ok(item))


def _lists_ok(item: dict[str, Any]) -> bool:
    return all(
        item.get(k) is None or (isinstance(item[k], list) and all(isinstance(v, str) for v in item[k]))
        for k in ("index", "tags", "see", "origin", "aliases")
    )


def _strs(value: Any) -> tuple[str, ...]:
    """A list of text as a tuple; anything else (already reported by the schema check) as empty."""
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
