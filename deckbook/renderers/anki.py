"""Anki renderer: the bank as .apkg packages that import cleanly and update in place.

Writes the full deck, one deck per level (unless disabled) and, when a filter is given, only the
focused deck. All packages share GUIDs, note types and deck names, so importing two of them
never duplicates a note. Packages are byte-reproducible: note times come from the ledger and
zip entries carry the deck's own date instead of the wall clock.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import sqlite3
import zipfile
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import genanki
from markupsafe import Markup

from deckbook.files import zip_add
from deckbook.model import Bank
from deckbook.options import DeckFilter
from deckbook.renderers.anki_notes import (
    NoteSpec,
    NoteTypeDef,
    card_css,
    chapter_deck,
    deck_name,
    media_name,
    note_types,
    stable_id,
    tag_segments,
)
from deckbook.renderers.base import Produced, RenderContext, Renderer, Runtime, Unit, file_stem


@dataclass(frozen=True)
class ModelJob:
    """One note type as Anki stores it."""

    key: str
    id: int
    name: str
    fields: tuple[tuple[str, int | None], ...]  # (name, id); None: an imported note type from before field ids
    templates: tuple[tuple[str, str, str, int | None], ...]  # (name, front, back, id)
    css: str
    cloze: bool
    sort_field: int
    mod: int
    stock_kind: int | None = None  # imported note types: Anki's originalStockKind, kept


@dataclass(frozen=True)
class DeckJob:
    """One .apkg: its decks, notes (with their times) and media."""

    filename: str
    decks: tuple[tuple[str, int, str], ...]  # (name, id, description)
    notes: tuple[tuple[NoteSpec, int], ...]  # (note, modification time)
    models: tuple[ModelJob, ...]
    media: tuple[tuple[str, bytes], ...]  # (name in the package, bytes)
    epoch: int  # the newest change among its notes and note types


@dataclass(frozen=True)
class AnkiJob:
    packages: tuple[DeckJob, ...]


def select(notes: tuple[NoteSpec, ...], bank: Bank, flt: DeckFilter) -> list[NoteSpec]:
    """The notes a focused deck contains; glossary terms only in the unfiltered deck."""
    if flt.empty:
        return list(notes)
    keep = []
    for n in notes:
        if n.question_id is None:
            continue
        q = bank.question_by_id[n.question_id]
        if flt.levels and (q.level is None or q.level.id not in flt.levels):
            continue
        if flt.chapters and q.chapter_id not in flt.chapters:
            continue
        if flt.tags and not set(flt.tags) & set(q.tags):
            continue
        keep.append(n)
    return keep


def deck_files(ctx: RenderContext) -> list[tuple[str, DeckFilter]]:
    """The decks a build writes: the focused one, or the full deck plus one per level present."""
    stem = file_stem(ctx.bank)
    opts = ctx.options.anki
    if not opts.deck_filter.empty:
        return [(f"{stem}--{opts.deck_filter.slug}.apkg", opts.deck_filter)]
    files = [(f"{stem}.apkg", opts.deck_filter)]
    if opts.level_decks:
        present = {q.level.id for q in ctx.bank.questions if q.level is not None}
        files += [(f"{stem}--level-{lv.id}.apkg", DeckFilter(levels=(lv.id,))) for lv in ctx.bank.book.levels if lv.id in present]
    return files


def deck_job(ctx: RenderContext, filename: str, notes: list[NoteSpec]) -> DeckJob:
    """Everything one package holds, decided: note times from the ledger, descriptions rendered."""
    bank, env = ctx.bank, ctx.env
    css = card_css(env)
    models = tuple(_model(ctx, nt, css) for nt in note_types(bank))
    # a deck's date is its newest note's: decks whose notes did not change stay byte-identical
    epoch = max([_mod(ctx, n.key) for n in notes] + [m.mod for m in models])
    segments = tag_segments(bank)
    ns = bank.book.namespace
    example = f"tag:{ns}::level::{bank.book.levels[-1].id}" if bank.book.levels else f"tag:{ns}::chapter::{bank.chapters[0].id}"
    description = env.get_template("anki/description.html.jinja").render(
        book=bank.book,
        description=ctx.html("anki").description,
        questions=len(bank.questions),
        terms=len(bank.terms),
        ns=ns,
        tag_codes=[Markup("<code>%s::%s::…</code>") % (ns, segment) for segment in segments],
        example=Markup("<code>%s</code>") % example,
        date=ctx.messages.date(epoch),
    )
    root = bank.book.deck
    decks = [(root, stable_id(bank.book.namespace, "deck", root), description)]
    intros = {chapter_deck(bank, c): str(ctx.html("anki").intros.get(c.id, "")) for c in bank.chapters}
    for name in dict.fromkeys(n.deck for n in notes):
        if name != root:
            decks.append((name, stable_id(bank.book.namespace, "deck", name), intros.get(name, "")))
    paths = {media_name(p): p for p in bank.media}
    used = sorted({m for n in notes for m in n.media if m in paths})
    return DeckJob(
        filename=filename,
        decks=tuple(decks),
        notes=tuple((n, _mod(ctx, n.key)) for n in notes),
        models=models,
        media=tuple((m, paths[m].read_bytes()) for m in used),
        epoch=epoch,
    )


def _mod(ctx: RenderContext, key: str) -> int:
    """A note's time: when its content last changed, or when it was removed (a tombstone)."""
    entry = ctx.ledger.entries.get(key)
    return entry.mod if entry is not None else ctx.ledger.retired[key].mod


def _model(ctx: RenderContext, nt: NoteTypeDef, css: str) -> ModelJob:
    if nt.imported is not None:  # learners have this note type: emit it exactly as anki.yaml records it
        i = nt.imported
        return ModelJob(
            key=nt.key,
            id=i.id,
            name=i.name,
            fields=tuple((f.name, f.id) for f in i.fields),
            templates=tuple((t.name, t.front, t.back, t.id) for t in i.templates),
            css=i.css,
            cloze=i.cloze,
            sort_field=i.sort_field,
            mod=ctx.ledger.mod(f"notetype::{nt.key}"),
            stock_kind=i.stock_kind,
        )
    rendered = ctx.cards.templates
    return ModelJob(
        key=nt.key,
        id=stable_id(ctx.bank.book.namespace, "notetype", nt.key),
        name=f"{ctx.bank.book.deck} · {nt.title} (deckbook)",
        fields=tuple((f.name, f.id) for f in nt.fields),
        templates=tuple((t.name, rendered[t.front], rendered[t.back], t.id) for t in nt.templates),
        css=css,
        cloze=nt.cloze,
        sort_field=nt.sort_field,
        mod=ctx.ledger.mod(f"notetype::{nt.key}"),
    )


class _Note(genanki.Note):  # type: ignore[misc]
    """A note stamped with its own modification time instead of the package's."""

    def __init__(self, mod: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mod = mod

    def write_to_db(self, cursor: Any, timestamp: float, deck_id: int, id_gen: Any) -> None:
        super().write_to_db(cursor, self.mod, deck_id, id_gen)


class _Model(genanki.Model):  # type: ignore[misc]
    """A note type stamped with the time its definition last changed."""

    def __init__(self, mod: int, stock_kind: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mod = mod
        self.stock_kind = stock_kind

    def to_json(self, timestamp: float, deck_id: int) -> Any:
        data = super().to_json(self.mod, deck_id)
        if self.stock_kind is not None:
            data["originalStockKind"] = self.stock_kind
        return data

    @functools.cached_property
    def _req(self) -> Any:
        """genanki's card requirements, or "any field" for every template when genanki cannot
        work them out (imported templates may use Anki syntax its mustache renderer rejects)."""
        try:
            return genanki.Model._req.func(self)
        except Exception:
            return [[i, "any", list(range(len(self.fields)))] for i in range(len(self.templates))]


def build_package(job: DeckJob) -> bytes:
    """Pure builder: one package's bytes (the same job always gives the same bytes)."""
    models = {
        m.key: _Model(
            m.mod,
            m.stock_kind,
            model_id=m.id,
            name=m.name,
            fields=[{"name": name, **_id(fid)} for name, fid in m.fields],
            templates=[{"name": name, "qfmt": front, "afmt": back, **_id(tid)} for name, front, back, tid in m.templates],
            css=m.css,
            model_type=genanki.Model.CLOZE if m.cloze else genanki.Model.FRONT_BACK,
            sort_field_index=m.sort_field,
        )
        for m in job.models
    }
    decks = {name: genanki.Deck(deck_id, name, description) for name, deck_id, description in job.decks}
    for note, mod in job.notes:
        decks[note.deck].add_note(
            _Note(mod, model=models[note.notetype.key], fields=list(note.fields), tags=list(note.tags), guid=note.guid, due=note.due)
        )
    return _write(list(decks.values()), job.media, job.epoch)


def _id(value: int | None) -> dict[str, int]:
    """An "id" key when the field or template has one (imported note types may predate them)."""
    return {} if value is None else {"id": value}


def _write(decks: list[genanki.Deck], media: tuple[tuple[str, bytes], ...], epoch: int) -> bytes:
    """genanki writes the SQLite collection; we zip it ourselves with fixed dates and names."""
    conn = sqlite3.connect(":memory:")  # no temporary file, no fsync: the zip gets the bytes
    try:
        cursor = conn.cursor()
        genanki.Package(decks).write_to_db(cursor, epoch, itertools.count(epoch * 1000))
        conn.commit()
        collection = conn.serialize()
    finally:
        conn.close()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zip_add(zf, "collection.anki2", collection, epoch)
        zip_add(zf, "media", json.dumps({str(i): name for i, (name, _) in enumerate(media)}).encode(), epoch)
        for i, (_, data) in enumerate(media):
            zip_add(zf, str(i), data, epoch)
    return buf.getvalue()


def released(ctx: RenderContext, notes: list[NoteSpec]) -> list[NoteSpec]:
    """The notes as this release publishes them: each tagged with the releases that corrected it
    (<namespace>::changed::<version>), so a learner can gather what to re-study."""
    ns = ctx.bank.book.namespace
    out = []
    for n in notes:
        versions = ctx.ledger.entries[n.key].changed if n.key in ctx.ledger.entries else ()
        out.append(replace(n, tags=(*n.tags, *(f"{ns}::changed::{v}" for v in versions))) if versions else n)
    return out


def tombstones(ctx: RenderContext) -> list[NoteSpec]:
    """A note for every question removed since it was published: same GUID and note type, its
    question kept, its answer saying when it was removed and what replaces it; tagged
    <namespace>::retired so one search suspends or deletes them all. Learners who have it keep its
    history; it lives in a deck of its own for those who never had it."""
    bank, env, msgs = ctx.bank, ctx.env, ctx.messages
    ns = bank.book.namespace
    types = {nt.key: nt for nt in note_types(bank)}
    deck = deck_name(bank, None, msgs.gettext("Removed questions"))
    template = env.get_template("anki/tombstone.html.jinja")
    html = ctx.html("anki")
    out: list[NoteSpec] = []
    for key, gone in sorted(ctx.ledger.retired.items()):
        nt = types.get(gone.notetype, types["qa"])
        new = bank.question_by_id.get(gone.replaced_by or "")
        message = template.render(
            version=gone.version or bank.book.version,
            replacement=new,
            replacement_question=html.questions[new.id].question if new else "",
            search=Markup("<code>tag:%s::retired</code>") % ns,
        ).strip()
        question = str(Markup.escape(gone.question or key))
        base, _, variant = key.partition("::")
        guid = genanki.guid_for(ns, base, variant) if variant else genanki.guid_for(ns, base)
        fields = {"qa": (base, question, message), "cloze": (base, "{{c1::" + message + "}}", question), "term": (base, question, message)}
        values = list(fields.get(nt.key, fields["qa"])) + [""] * (len(nt.fields) - 3)
        tags = (f"{ns}::retired", f"{ns}::changed::{gone.version}") if gone.version else (f"{ns}::retired",)
        out.append(NoteSpec(key, guid, nt, tuple(values), tags, deck, 1_000_000 + len(out), None, ()))
    return out


class AnkiRenderer(Renderer[AnkiJob]):
    """Writes <namespace>.apkg, <namespace>--level-<level>.apkg, or the one focused deck."""

    name: ClassVar[str] = "anki"

    def units(self, ctx: RenderContext) -> list[Unit]:
        return [Unit(self.name, "decks", weight=1)]

    def job(self, ctx: RenderContext, unit: Unit) -> AnkiJob:
        notes = released(ctx, list(ctx.cards.notes))
        packages = []
        for name, flt in deck_files(ctx):
            chosen = select(tuple(notes), ctx.bank, flt)
            packages.append(deck_job(ctx, name, chosen + tombstones(ctx) if flt.empty else chosen))
        return AnkiJob(tuple(packages))

    def produce(self, job: AnkiJob, runtime: Runtime) -> Produced:
        return Produced({p.filename: build_package(p) for p in job.packages})
