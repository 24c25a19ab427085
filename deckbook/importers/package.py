"""Anki packages and collections → `Harvest`, read by Anki's own engine.

Accepted: ``.apkg`` and ``.colpkg`` in every format Anki writes (the legacy ``collection.anki2``,
``collection.anki21``, and ``collection.anki21b``, zstd-compressed, with a ``meta`` member), and a
collection file itself (``collection.anki2``; close Anki first).

A package is restored as a whole collection into a temporary folder by Anki's own restore code
(the engine behind File → Import of a ``.colpkg``), then opened with `anki.collection.Collection`.
So note ids, GUIDs, modification times, note types with their field and template ids, decks and
media are exactly what the author's collection holds — nothing is re-imported or renamed.

Before Anki sees the file, the cases its errors word poorly are checked here: not a zip, a zip
without a collection, a package or collection version newer than the engine knows, a collection
that is not a database. Each is a `Refused` naming the file.
"""

from __future__ import annotations

import shutil
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

from deckbook.importers.harvest import Harvest, Refused, SourceField, SourceNote, SourceNoteType, SourceTemplate, refuse

COLLECTIONS = {1: "collection.anki2", 2: "collection.anki21", 3: "collection.anki21b"}  # package meta version → member
NEWEST_SCHEMA = 18  # the newest collection schema an engine of this generation opens
EXTENSIONS = (".apkg", ".colpkg", ".anki2", ".anki21")


def read_package(path: Path, shown: str, workdir: Path) -> Harvest:
    """Everything in the package (or collection file) at `path`; `shown` names it in messages.
    `workdir` is an empty folder that must outlive the harvest (its media live there)."""
    workdir.mkdir(parents=True, exist_ok=True)
    col_path = workdir / "collection.anki2"
    if path.suffix.lower() in (".anki2", ".anki21"):
        _check_database(path, shown)
        shutil.copyfile(path, col_path)
        media = path.with_name(path.name.rsplit(".", 1)[0] + ".media")
        if media.is_dir():
            shutil.copytree(media, workdir / "collection.media")
    else:
        _check_package(path, shown, workdir)
        _restore(path, shown, col_path)
    return harvest(col_path, path, shown)


def _check_package(path: Path, shown: str, workdir: Path) -> None:
    if not zipfile.is_zipfile(path):
        raise refuse(shown, "is not an Anki package: it is not a zip archive (export the deck again from Anki: File → Export)")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            meta = zf.read("meta") if "meta" in names else None
            version = _meta_version(meta, shown) if meta is not None else (2 if "collection.anki21" in names else 1)
            member = COLLECTIONS[version]
            if member not in names:
                if meta is None:
                    wanted = ", ".join(COLLECTIONS.values())
                    raise refuse(shown, f"is a zip archive without an Anki collection in it (no {wanted}); is it an Anki package?")
                raise refuse(shown, f"is damaged: its meta says it holds {member}, which is missing")
            if version < 3:  # an uncompressed SQLite file: its schema version can be read before Anki opens it
                probe = workdir / "probe.sqlite"
                probe.write_bytes(zf.read(member))
                _check_database(probe, shown, member)
                probe.unlink()
    except (zipfile.BadZipFile, OSError) as exc:
        raise refuse(shown, f"cannot be read as a zip archive ({exc})") from exc


def _meta_version(meta: bytes, shown: str) -> int:
    from anki.import_export_pb2 import PackageMetadata

    try:
        version = int(PackageMetadata.FromString(meta).version)
    except Exception as exc:  # protobuf's DecodeError: the bytes are not a PackageMetadata message
        raise refuse(shown, "is damaged: its meta member cannot be read") from exc
    if version not in COLLECTIONS:
        raise refuse(
            shown,
            f"has an unknown collection version ({version}): it was written by a newer Anki than deckbook's engine understands; "
            "export it with 'Support older Anki versions' ticked, or update deckbook",
        )
    return version


def _check_database(path: Path, shown: str, member: str | None = None) -> None:
    what = f"its {member}" if member else "it"
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute("select ver from col").fetchone()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise refuse(shown, f"is damaged: {what} is not an Anki collection ({exc})") from exc
    version = row[0] if row else None
    if not isinstance(version, int) or version > NEWEST_SCHEMA:
        raise refuse(
            shown, f"has an unknown collection version ({version}): {what} was written by a newer Anki than deckbook's engine understands"
        )


def _restore(path: Path, shown: str, col_path: Path) -> None:
    from anki._backend import RustBackend
    from anki.errors import AnkiException

    try:
        RustBackend().import_collection_package(
            col_path=str(col_path),
            backup_path=str(path.resolve()),
            media_folder=str(col_path.with_suffix(".media")),
            media_db=str(col_path.with_suffix(".media.db2")),
        )
    except AnkiException as exc:
        raise refuse(shown, f"Anki cannot read it: {exc}") from exc


def harvest(col_path: Path, source: Path, shown: str) -> Harvest:
    """Notes, note types, decks and media of the collection at `col_path` (opened, read, closed)."""
    from anki.collection import Collection
    from anki.errors import AnkiException

    try:
        col = Collection(str(col_path))
    except AnkiException as exc:
        raise refuse(shown, f"Anki cannot open its collection: {exc}") from exc
    try:
        return _read(col, source, Path(col.media.dir()))
    except AnkiException as exc:
        raise refuse(shown, f"Anki cannot read its collection: {exc}") from exc
    finally:
        col.close()


def _read(col: Any, source: Path, media_dir: Path) -> Harvest:
    models = {m["id"]: m for m in col.models.all()}
    notetypes = {m["name"]: _notetype(m) for m in models.values()}
    deck_names = {d.id: d.name for d in col.decks.all_names_and_ids()}
    decks = {}
    for did, name in deck_names.items():
        deck = col.decks.get(did)
        decks[name] = str(deck.get("desc") or "") if deck else ""
    notes = []
    for nid in sorted(col.find_notes("")):
        note = col.get_note(nid)
        model = models[note.mid]
        cards = sorted(note.cards(), key=lambda c: c.ord)
        dids = list(dict.fromkeys(c.odid or c.did for c in cards)) or [1]
        losses = (
            ()
            if len(dids) == 1
            else (f"its cards are in {len(dids)} decks; its chapter is the first card's deck (Anki never moves cards)",)
        )
        notes.append(
            SourceNote(
                label=f"note {nid}",
                notetype=model["name"],
                field_names=tuple(f["name"] for f in model["flds"]),
                fields=tuple(note.fields),
                tags=tuple(note.tags),
                deck=deck_names.get(dids[0], "Default"),
                guid=note.guid,
                mtime=int(note.mod),
                nid=int(nid),
                losses=losses,
            )
        )
    media = {p.name: p for p in sorted(media_dir.iterdir()) if p.is_file()} if media_dir.is_dir() else {}
    title = source.name.rsplit(".", 1)[0]
    return Harvest(source, title, tuple(notes), notetypes, decks, media)


def _notetype(m: dict[str, Any]) -> SourceNoteType:
    def ident(d: dict[str, Any]) -> int | None:
        value = d.get("id")
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

    kind = m.get("originalStockKind")
    return SourceNoteType(
        id=int(m["id"]),
        name=str(m["name"]),
        cloze=m.get("type") == 1,
        fields=tuple(SourceField(str(f["name"]), ident(f)) for f in m["flds"]),
        templates=tuple(SourceTemplate(str(t["name"]), ident(t), str(t.get("qfmt") or ""), str(t.get("afmt") or "")) for t in m["tmpls"]),
        css=str(m.get("css") or ""),
        sort_field=int(m.get("sortf") or 0),
        stock_kind=int(kind) if isinstance(kind, int) and kind > 0 else None,
        mtime=int(m.get("mod") or 0),
    )


__all__ = ["EXTENSIONS", "Refused", "harvest", "read_package"]
