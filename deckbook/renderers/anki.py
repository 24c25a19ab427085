"""Anki renderer: the bank as .apkg packages that import cleanly and update in place.

Writes the full deck, one deck per level (unless disabled) and, when a filter is given, only the
focused deck. All packages share GUIDs, note types and deck names, so importing two of them
never duplicates a note. Packages are byte-reproducible: note times come from the ledger and
zip entries carry the build epoch instead of the wall clock.
"""

from __future__ import annotations

import io
import itertools
import json
import sqlite3
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import genanki

from deckbook import markup
from deckbook.model import Bank, Level
from deckbook.renderers.anki_notes import (
    NOTE_TYPES,
    TEMPLATES,
    NoteSpec,
    NoteTypeDef,
    build_notes,
    deck_name,
    media_name,
    notetype_text,
    stable_id,
)
from deckbook.renderers.base import DeckFilter, RenderContext, digest, file_stem, media_digest
from deckbook.templating import source_of

NIGHT = [".nightMode .highlight", ".night_mode .highlight"]


def card_css(ctx_env: Any) -> str:
    """The note types' stylesheet: card.css plus Pygments colours for light and night mode."""
    base = source_of(ctx_env, str(TEMPLATES / "card.css"))
    return base + markup.pygments_css([".highlight"], "default") + markup.pygments_css(NIGHT, "github-dark")


def ledger_contents(bank: Bank, ctx_html: Any, env: Any) -> dict[str, str]:
    """Ledger key → the exact content it stands for (notes and note types)."""
    css = card_css(env)
    contents = {n.key: n.ledger_text() for n in build_notes(bank, ctx_html, env)}
    contents.update({f"notetype::{nt.key}": notetype_text(nt, env, css) for nt in NOTE_TYPES})
    return contents


class _Note(genanki.Note):  # type: ignore[misc]
    """A note stamped with its own modification time instead of the package's."""

    def __init__(self, mod: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mod = mod

    def write_to_db(self, cursor: Any, timestamp: float, deck_id: int, id_gen: Any) -> None:
        super().write_to_db(cursor, self.mod, deck_id, id_gen)


class _Model(genanki.Model):  # type: ignore[misc]
    """A note type stamped with the time its definition last changed."""

    def __init__(self, mod: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mod = mod

    def to_json(self, timestamp: float, deck_id: int) -> Any:
        return super().to_json(self.mod, deck_id)


@dataclass(frozen=True)
class Package:
    """A built package in memory: the bytes and what is inside (for tests and the CLI)."""

    data: bytes
    notes: int
    decks: tuple[str, ...]


def select(notes: list[NoteSpec], bank: Bank, flt: DeckFilter) -> list[NoteSpec]:
    """The notes a focused deck contains; glossary terms only in the unfiltered deck."""
    if flt.empty:
        return notes
    keep = []
    for n in notes:
        if n.question_id is None:
            continue
        q = bank.question_by_id[n.question_id]
        if flt.levels and q.level.value not in flt.levels:
            continue
        if flt.chapters and q.chapter_id not in flt.chapters:
            continue
        if flt.tags and not set(flt.tags) & set(q.tags):
            continue
        keep.append(n)
    return keep


def build_package(ctx: RenderContext, notes: list[NoteSpec]) -> Package:
    """Pure builder: notes → .apkg bytes (deterministic for the same ledger and epoch)."""
    bank, env = ctx.bank, ctx.env
    css = card_css(env)
    models = {nt.key: _model(bank, nt, env, css, ctx.ledger.mod(f"notetype::{nt.key}")) for nt in NOTE_TYPES}
    # a deck's date is its newest note's: decks whose notes did not change stay byte-identical
    epoch = max([ctx.ledger.mod(n.key) for n in notes] + [ctx.ledger.mod(f"notetype::{nt.key}") for nt in NOTE_TYPES])
    decks = _decks(ctx, notes, time.strftime("%Y-%m-%d", time.gmtime(epoch)))
    for n in notes:
        decks[n.deck].add_note(
            _Note(
                ctx.ledger.mod(n.key),
                model=models[n.notetype.key],
                fields=list(n.fields),
                tags=list(n.tags),
                guid=n.guid,
                due=n.due,
            )
        )
    media_paths = {media_name(p): p for p in bank.media}
    used = sorted({m for n in notes for m in n.media if m in media_paths})
    return Package(_write(list(decks.values()), [(m, media_paths[m]) for m in used], epoch), len(notes), tuple(decks))


def _model(bank: Bank, nt: NoteTypeDef, env: Any, css: str, mod: int) -> _Model:
    templates = [
        {
            "name": t.name,
            "qfmt": source_of(env, str(TEMPLATES / t.front)),
            "afmt": source_of(env, str(TEMPLATES / t.back)),
            "id": t.id,
        }
        for t in nt.templates
    ]
    return _Model(
        mod,
        model_id=stable_id(bank.book.namespace, "notetype", nt.key),
        name=f"{bank.book.deck} · {nt.title} (deckbook)",
        fields=[{"name": f.name, "id": f.id} for f in nt.fields],
        templates=templates,
        css=css,
        model_type=genanki.Model.CLOZE if nt.cloze else genanki.Model.FRONT_BACK,
        sort_field_index=nt.sort_field,
    )


def _decks(ctx: RenderContext, notes: Iterable[NoteSpec], date: str) -> dict[str, genanki.Deck]:
    bank = ctx.bank
    description = ctx.env.get_template(str(TEMPLATES / "description.html.jinja")).render(
        book=bank.book,
        description=ctx.html.description,
        questions=len(bank.questions),
        terms=len(bank.terms),
        ns=bank.book.namespace,
        date=date,
    )
    root = bank.book.deck
    decks = {root: genanki.Deck(stable_id(bank.book.namespace, "deck", root), root, description)}
    intros = {deck_name(bank, c.number, c.title): ctx.html.intros.get(c.id, "") for c in bank.chapters}
    for name in dict.fromkeys(n.deck for n in notes):
        decks[name] = genanki.Deck(stable_id(bank.book.namespace, "deck", name), name, str(intros.get(name, "")))
    return decks


def _write(decks: list[genanki.Deck], media: list[tuple[str, Path]], epoch: int) -> bytes:
    """genanki writes the SQLite collection; we zip it ourselves with fixed dates and names."""
    conn = sqlite3.connect(":memory:")  # no temporary file, no fsync: the zip gets the bytes
    try:
        cursor = conn.cursor()
        genanki.Package(decks).write_to_db(cursor, epoch, _ids(epoch))
        conn.commit()
        collection = conn.serialize()
    finally:
        conn.close()
    stamp = _zip_time(epoch)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        _add(zf, "collection.anki2", collection, stamp)
        _add(zf, "media", json.dumps({str(i): name for i, (name, _) in enumerate(media)}).encode(), stamp)
        for i, (_, path) in enumerate(media):
            _add(zf, str(i), path.read_bytes(), stamp)
    return buf.getvalue()


def _ids(epoch: int) -> Any:
    return itertools.count(epoch * 1000)


def _zip_time(epoch: int) -> tuple[int, int, int, int, int, int]:
    t = time.gmtime(max(epoch, 315532800))  # zip cannot store dates before 1980
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec - t.tm_sec % 2)


def _add(zf: zipfile.ZipFile, name: str, data: bytes, stamp: tuple[int, int, int, int, int, int]) -> None:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


class AnkiRenderer:
    """Writes <namespace>.apkg, <namespace>-<level>.apkg, or the one focused deck."""

    name: ClassVar[str] = "anki"

    def units(self, ctx: RenderContext) -> list[str]:
        return ["decks"]

    def after(self, ctx: RenderContext, unit: str) -> list[tuple[str, str]]:
        return []

    def inputs(self, ctx: RenderContext, unit: str) -> str:
        contents = ledger_contents(ctx.bank, ctx.html, ctx.env)
        mods = {k: ctx.ledger.mod(k) for k in contents}
        return digest(
            contents, mods, str(ctx.html.description), vars(ctx.bank.book), vars(ctx.info), deck_files(ctx), media_digest(ctx.bank)
        )

    def render(self, ctx: RenderContext, unit: str) -> list[Path]:
        notes = build_notes(ctx.bank, ctx.html, ctx.env)
        written = []
        for filename, job_filter in deck_files(ctx):
            package = build_package(ctx, select(notes, ctx.bank, job_filter))
            path = ctx.out_dir / filename
            path.write_bytes(package.data)
            written.append(path)
        return written


def deck_files(ctx: RenderContext) -> list[tuple[str, DeckFilter]]:
    """The decks a build writes: the focused one, or the full deck plus one per level present."""
    stem = file_stem(ctx.bank)
    flt = ctx.options.deck_filter
    if not flt.empty:
        return [(f"{stem}--{flt.slug}.apkg", flt)]
    jobs = [(f"{stem}.apkg", flt)]
    if ctx.options.level_decks:
        present = {q.level for q in ctx.bank.questions}
        jobs += [(f"{stem}--level-{lv.value}.apkg", DeckFilter(levels=(lv.value,))) for lv in Level if lv in present]
    return jobs
