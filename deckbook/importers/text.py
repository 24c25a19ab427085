"""CSV and TSV files, including Anki's File → Export → "Notes in Plain Text" → `Harvest`.

Anki's header lines are read as Anki reads them (rslib ``import_export/text/csv/metadata.rs``):
``#separator:`` (tab, comma, semicolon, space, pipe, colon, or the character), ``#html:``,
``#tags:``, ``#columns:``, ``#notetype:``, ``#deck:``, and the 1-based ``#guid column:``,
``#notetype column:``, ``#deck column:`` and ``#tags column:``; other ``#`` lines are comments.
Without headers a file is split at tabs (``.tsv``, or when the first row has one) or commas,
and its fields are HTML when any of them looks like HTML.

A text export carries GUIDs and note type *names*, not the note types themselves, so history can
only be kept with ``--collection`` (a package or collection holding the notes): each row whose
GUID is there keeps its identity, and its modification time when its text is unchanged.

Bad input is refused with ``file:line``: text that is not UTF-8 (or UTF-16 with a byte-order
mark), rows with more or fewer fields than the first, an unknown separator, a column number
outside the row, a file without notes.
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from deckbook.importers import htmltree
from deckbook.importers.harvest import Harvest, SourceNote, refuse

SEPARATORS = {"tab": "\t", "comma": ",", "semicolon": ";", "space": " ", "pipe": "|", "colon": ":"}
STOCK_FIELDS = {
    "Basic": ("Front", "Back"),
    "Basic (and reversed card)": ("Front", "Back"),
    "Basic (optional reversed card)": ("Front", "Back", "Add Reverse"),
    "Basic (type in the answer)": ("Front", "Back"),
    "Cloze": ("Text", "Back Extra"),
    "Image Occlusion": ("Occlusion", "Image", "Header", "Back Extra", "Comments"),
}
_LOOKS_HTML = re.compile(r"<[A-Za-z/][^>]*>|&(#\d+|[A-Za-z]+);")


@dataclass
class Header:
    """What a file's ``#key:value`` lines say (Anki's names); columns are 1-based, 0 = none."""

    separator: str | None = None
    html: bool | None = None
    tags: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    notetype: str | None = None
    deck: str | None = None
    guid_column: int = 0
    notetype_column: int = 0
    deck_column: int = 0
    tags_column: int = 0


def decode(raw: bytes, shown: str) -> str:
    """UTF-8 (a byte-order mark is skipped) or UTF-16 with a byte-order mark; anything else is refused."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise refuse(shown, "is not valid UTF-16 text; save it as UTF-8") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise refuse(shown, f"is not UTF-8 text (byte 0x{byte}); save it as UTF-8 (Anki's own exports are)", line) from exc


def read_text(path: Path, shown: str, known: Harvest | None) -> Harvest:
    """The notes of a CSV/TSV file; `known` is the --collection harvest, if given."""
    text = decode(path.read_bytes(), shown).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    header, first = _header(lines, shown)
    separator = header.separator or _sniff(path, lines[first:] if first < len(lines) else [])
    rows = _rows(lines, first, separator, shown)
    if first == 0 and rows and _labels(header, rows[0][1]):
        rows = rows[1:]  # a spreadsheet's row of column names
    if not rows:
        raise refuse(shown, "holds no notes (only header lines or nothing)")
    width = len(rows[0][1])
    for number, row in rows:
        if len(row) != width:
            raise refuse(
                shown, f"row has {len(row)} fields but the first row has {width}; a separator inside a field must be quoted", number
            )
    for name, column in (
        ("guid", header.guid_column),
        ("notetype", header.notetype_column),
        ("deck", header.deck_column),
        ("tags", header.tags_column),
    ):
        if column > width:
            raise refuse(shown, f"#{name} column:{column} is past the last column ({width})")
    is_html = header.html if header.html is not None else any(_LOOKS_HTML.search(v) for _, row in rows for v in row)
    notes = tuple(_note(path, number, row, header, is_html, known) for number, row in rows)
    remarks = _remarks(header, notes, known)
    media = dict(known.media) if known else {}
    media.update({p.name: p for p in sorted(path.parent.iterdir()) if p.is_file() and p.name not in media and p != path})
    notetypes = dict(known.notetypes) if known else {}
    decks = dict(known.decks) if known else {}
    return Harvest(path, path.stem, notes, notetypes, decks, media, remarks)


def _header(lines: list[str], shown: str) -> tuple[Header, int]:
    """Anki's header lines at the top of the file; returns them and the first line after."""
    header = Header()
    i = 0
    if lines and lines[0].startswith("tags:"):
        header.tags = lines[0][5:].split()
        i = 1
    while i < len(lines) and lines[i].startswith("#"):
        key, colon, value = lines[i][1:].partition(":")
        if colon:
            _header_value(header, key.strip().lower(), value, shown, i + 1)
        i += 1
    return header, i


def _header_value(header: Header, key: str, value: str, shown: str, line: int) -> None:
    trimmed = value.strip()
    if key == "separator":
        sep = SEPARATORS.get(trimmed.lower()) or (value if len(value) == 1 and not value.isalnum() else None)
        if sep is None:
            raise refuse(shown, f"unknown separator '{trimmed}' (Anki's are: {', '.join(SEPARATORS)}, or the character itself)", line)
        header.separator = sep
    elif key == "html":
        header.html = trimmed.lower() == "true"
    elif key == "tags":
        header.tags = value.split()
    elif key == "columns":
        header.labels = next(csv.reader([value], delimiter=header.separator or "\t"), [])
    elif key in ("notetype", "deck"):
        setattr(header, key, trimmed or None)
    elif key in ("guid column", "notetype column", "deck column", "tags column"):
        if not trimmed.isdigit() or int(trimmed) < 1:
            raise refuse(shown, f"#{key}: expects a column number from 1; got '{trimmed}'", line)
        setattr(header, key.replace(" ", "_"), int(trimmed))


LABELS = {"front", "back", "question", "answer", "text", "extra", "back extra", "explanation", "add reverse"}
META = {"tags": "tags_column", "deck": "deck_column", "guid": "guid_column", "notetype": "notetype_column", "note type": "notetype_column"}


def _labels(header: Header, row: list[str]) -> bool:
    """A first row that names the columns (Front, Back, Tags…): it becomes the header, not a note."""
    names = [v.strip().lower() for v in row]
    if not names or not all(n in LABELS or n in META for n in names) or not any(n in LABELS for n in names):
        return False
    for i, name in enumerate(names, start=1):
        if name in META:
            setattr(header, META[name], i)
    header.labels = [v.strip() for v in row]
    return True


def _sniff(path: Path, lines: list[str]) -> str:
    sample = next((ln for ln in lines if ln.strip() and not ln.startswith("#")), "")
    if path.suffix.lower() == ".tsv" or "\t" in sample:
        return "\t"
    if path.suffix.lower() == ".csv" or "," in sample:
        return ","
    return next((s for s in ("|", ";", ":", ",") if s in sample), "\t")


def _rows(lines: list[str], first: int, separator: str, shown: str) -> list[tuple[int, list[str]]]:
    """(line where the row starts, its fields); '#' lines are comments, as in Anki."""
    body = "\n".join("" if i < first or ln.startswith("#") else ln for i, ln in enumerate(lines))
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=separator, quotechar='"', strict=True)
    rows = []
    end = 0
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            if row and any(v.strip() for v in row):
                rows.append((start, row))
    except csv.Error as exc:
        raise refuse(shown, f"is not well-formed {('TSV' if separator == chr(9) else 'CSV')}: {exc}", reader.line_num) from exc
    return rows


def _note(path: Path, number: int, row: list[str], header: Header, is_html: bool, known: Harvest | None) -> SourceNote:
    meta = {c - 1 for c in (header.guid_column, header.notetype_column, header.deck_column, header.tags_column) if c}

    def column(c: int) -> str:
        return row[c - 1].strip() if c else ""

    values = [v for i, v in enumerate(row) if i not in meta]
    labels = [v for i, v in enumerate(header.labels) if i not in meta] if len(header.labels) == len(row) else []
    guid = column(header.guid_column) or None
    notetype = column(header.notetype_column) or header.notetype or "Basic"
    deck = column(header.deck_column) or header.deck or path.stem
    tags = [*header.tags, *column(header.tags_column).split()]
    fields = [v if is_html else html.escape(v).replace("\n", "<br>") for v in values]
    label = f"{path.name}:{number}"
    match = known.by_guid(guid) if known is not None and guid else None
    if match is not None:
        names = match.field_names
        fields = _fit(fields, len(names))
        same = htmltree.same_text(fields, match.fields)
        return SourceNote(
            label, match.notetype, names, tuple(fields), tuple(tags), match.deck, guid, match.mtime if same else None, match.nid
        )
    names = _field_names(notetype, known, labels, fields)
    return SourceNote(label, notetype, names, tuple(_fit(fields, len(names))), tuple(tags), deck, guid, None)


def _fit(fields: list[str], n: int) -> list[str]:
    """Anki pads every row to the widest note type: drop the padding (empty fields past `n`)."""
    if len(fields) > n and not any(f.strip() for f in fields[n:]):
        return fields[:n]
    return fields + [""] * (n - len(fields)) if len(fields) < n else fields


def _field_names(notetype: str, known: Harvest | None, labels: list[str], fields: list[str]) -> tuple[str, ...]:
    if known is not None and notetype in known.notetypes:
        names = tuple(f.name for f in known.notetypes[notetype].fields)
        if len(names) >= len([f for f in fields if f.strip()]):
            return names
    if notetype in STOCK_FIELDS:
        return STOCK_FIELDS[notetype]
    used = len(fields)
    while used > 1 and not fields[used - 1].strip():
        used -= 1
    return tuple(labels[i] if i < len(labels) and labels[i].strip() else f"Field {i + 1}" for i in range(used))


def _remarks(header: Header, notes: tuple[SourceNote, ...], known: Harvest | None) -> tuple[str, ...]:
    guids = sum(1 for n in notes if n.guid)
    if not guids:
        return ("the file has no GUID column: its notes are new deckbook notes (learners who studied it in Anki get them as new cards)",)
    if known is None:
        return (
            "a text export names note types but not their ids, so learners' history cannot be kept: the notes are new deckbook "
            "notes; import again with --collection (an .apkg, .colpkg or collection.anki2 holding them) to keep it",
        )
    missing = sum(1 for n in notes if n.guid and known.by_guid(n.guid) is None)
    return (f"{missing} GUIDs are not in the collection given with --collection: those notes are new",) if missing else ()
