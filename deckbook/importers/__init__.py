"""`build.py import FILE --into DIR`: an existing deck → a deckbook bank whose deck learners'
collections recognise, note by note.

The steps, one module each:

1. read (`package` for .apkg/.colpkg/collection files, `text` for CSV/TSV and Anki's "Notes in
   Plain Text", `markdown` for Obsidian_to_Anki flashcards) → a `harvest.Harvest`: notes with
   HTML fields, note types, decks, media;
2. plan (`plan`, with `htmlmd` converting every field to Markdown) → the bank's documents, the
   media to copy, the ledger's seeds and the summary's facts;
3. write (`write`): a staging folder beside DIR, checked by deckbook itself, its ledger seeded,
   renamed into place — or nothing at all;
4. report (`summary`).

Bad input raises `harvest.Refused` with ``file[:line]: error: …`` problems; DIR is then untouched.
The bank format these importers write is documented in `deckbook.ankispec` and the README
("Bring an existing deck").
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from deckbook.importers import markdown, package, text
from deckbook.importers.harvest import Harvest, Refused, refuse
from deckbook.importers.plan import plan_bank
from deckbook.importers.summary import Summary
from deckbook.importers.write import refuse_folder, write_bank

TEXT = (".csv", ".tsv", ".txt")
MARKDOWN = (".md", ".markdown")


def import_file(source: Path, into: Path, *, force: bool = False, collection: Path | None = None, language: str = "en") -> Summary:
    """Import `source` into a new bank at `into` (see the module docstring). `collection` (an Anki
    package or collection file) gives text and Markdown imports the note types and GUIDs that
    learners' history needs."""
    shown = str(source)
    suffix = source.suffix.lower()
    if suffix not in (*package.EXTENSIONS, *TEXT, *MARKDOWN):
        kinds = ", ".join((*package.EXTENSIONS, *TEXT, *MARKDOWN))
        raise refuse(shown, f"is not a kind of file deckbook imports (expected one of {kinds})")
    if not source.is_file():
        raise refuse(shown, "file not found")
    if collection is not None and suffix in package.EXTENSIONS:
        raise refuse(str(collection), "--collection is for text and Markdown imports; a package holds its own note types")
    if collection is not None and not collection.is_file():
        raise refuse(str(collection), "file not found")
    refuse_folder(into, force)
    with tempfile.TemporaryDirectory(prefix="deckbook-import-") as tmp:
        work = Path(tmp)
        if suffix in package.EXTENSIONS:
            harvest = package.read_package(source, shown, work / "package")
        else:
            known = _collection(collection, work / "collection") if collection is not None else None
            reader = text.read_text if suffix in TEXT else markdown.read_markdown
            harvest = reader(source, shown, known)
        plan = plan_bank(harvest, language)
        written = write_bank(plan, into, force)
    return Summary(shown, str(into), plan.facts, written.warnings)


def _collection(path: Path, work: Path) -> Harvest:
    work.mkdir()
    return package.read_package(path, str(path), work)


__all__ = ["Refused", "Summary", "import_file"]
