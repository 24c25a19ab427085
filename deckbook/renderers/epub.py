"""EPUB 3 renderer: Jinja templates + zipfile, no converter in between.

Contract: the package passes EPUBCheck with no errors or warnings; `mimetype` is the first entry
and stored uncompressed (EPUBCheck does not catch a compressed one, so tests check it); entries
are sorted and dated from the build epoch, so the same source and ledger give the same bytes.
One edition serves both uses: it reads straight through, and each chapter ends with a self-test
whose answers are popup notes (noteref → footnote aside, with an ARIA role and a class that
survive conversions dropping `epub:type`), never hidden text. The reading order is cover, front
matter, a short contents page (chapters), chapters, back matter; the nav document (every
question, landmarks, page list) serves the reader's menus and is not in the spine. The EPUB 2
`<guide>` names cover, contents and where reading starts, for older readers and converters.
Layout decisions that depend on the screen are made at build time (`deckbook.ebooktables`);
nothing in the stylesheet depends on the reader's theme (code is marked without colour).
"""

from __future__ import annotations

import io
import struct
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from markupsafe import Markup

from deckbook import markup
from deckbook.files import iso_timestamp, zip_add
from deckbook.model import Bank, Status
from deckbook.rendered import BankHtml
from deckbook.renderers import pagelist
from deckbook.renderers.anki_notes import plain
from deckbook.renderers.base import Produced, RenderContext, Renderer, Runtime, Unit, file_stem
from deckbook.renderers.cover import cover_png
from deckbook.renderers.handbook import HandbookJob, book_changes, handbook_job, stored_pages, stored_tops
from deckbook.renderers.indexing import bank_index, entry_names, index_title, status_label
from deckbook.renderers.pdf import layout_pages, lays_out_alone
from deckbook.report import report_url
from deckbook.templating import source_of

MIMETYPE = b"application/epub+zip"
T = "epub/"


def chapter_files(bank: Bank) -> dict[str, str]:
    """Chapter id → its XHTML file, numbered in reading order (ch03.xhtml)."""
    return {c.id: f"ch{c.number:0{bank.chapter_digits}d}.xhtml" for c in bank.chapters}


def anchor_order(bank: Bank) -> list[tuple[str, str]]:
    """(anchor id, file) of every place a page marker may go, in reading order; the PDF uses the same ids."""
    files = chapter_files(bank)
    order = [("cover", "cover.xhtml"), ("titlepage", "front.xhtml"), ("contents", "contents.xhtml"), ("howto", "contents.xhtml")]
    for c in bank.chapters:
        order.append((f"ch-{c.id}", files[c.id]))
        order += [(f"q-{q.id}", files[c.id]) for q in c.questions]
        order.append((f"selftest-{c.id}", files[c.id]))
    order.append(("changes", "changes.xhtml"))
    if bank.terms:
        order.append(("glossary", "glossary.xhtml"))
    if bank_index(bank):
        order.append(("index", "index.xhtml"))
    return order


@dataclass(frozen=True)
class PrintedPages:
    """Where the A4 handbook's anchors landed, and which elements begin each of its pages."""

    anchors: Mapping[str, int]
    tops: tuple[tuple[str, ...], ...] = ()


def build_epub_files(ctx: RenderContext, printed: PrintedPages | None = None) -> dict[str, bytes]:
    """Pure builder: every file of the package (path inside the zip → bytes), mimetype excluded.
    With `printed`, every page of the A4 handbook gets its marker and the page list (`pagelist`)."""
    bank, env = ctx.bank, ctx.env
    html = ctx.html("ebook")
    index = bank_index(bank)
    files = chapter_files(bank)
    hrefs = {q.id: f"{files[q.chapter_id]}#q-{q.id}" for q in bank.questions}
    media = _media(ctx)
    common: dict[str, Any] = {
        "book": bank.book,
        "info": ctx.info,
        "html": html,
        "chapters": bank.chapters,
        "questions": bank.question_by_id,
        "terms": bank.terms,
        "index": index,
        "files": files,
        "hrefs": hrefs,
        "pages": (),
        "identifier": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'deckbook:' + bank.book.namespace)}",
        "entry_names": lambda q: entry_names(bank, q),
        "status_label": lambda status: status_label(status, ctx.messages),
        "index_title": index_title(bank, ctx.messages),
        "withdrawn": any(item.entry.status is not Status.ACTIVE for item in index),
        "guide": html.guide,
        "level_names": [lv.label for lv in bank.book.levels],
        "see_also": lambda ids: see_also(ctx, html, hrefs, ids),
        "see_sections": lambda ids: see_sections(ctx, hrefs, ids),
        "changelog": book_changes(ctx),
        "report_url": lambda q: report_url(bank.book, q, plain(html.questions[q.id].question)),
    }

    def render(name: str, **extra: Any) -> str:
        return env.get_template(T + name).render(**common, **extra)

    version_label = ctx.messages.gettext("Version %(version)s").replace("%(version)s", "{version}")
    cover = cover_png(bank.book, bank.source_dir, version_label)
    text: dict[str, str] = {  # the reading order's documents, before their page markers
        "cover.xhtml": render("cover.xhtml.jinja", cover=png_size(cover)),
        "front.xhtml": render(
            "front.xhtml.jinja",
            description=html.description,
            counts={"questions": len(bank.questions), "chapters": len(bank.chapters), "terms": len(bank.terms)},
        ),
        "contents.xhtml": render("contents.xhtml.jinja"),
    }
    for chapter in bank.chapters:
        text[files[chapter.id]] = render("chapter.xhtml.jinja", chapter=chapter, intro=html.intros.get(chapter.id))
    if common["changelog"]:
        text["changes.xhtml"] = render("changes.xhtml.jinja")
    if bank.terms:
        text["glossary.xhtml"] = render("glossary.xhtml.jinja")
    if index:
        text["index.xhtml"] = render("index.xhtml.jinja")
    if printed is not None:
        marker = env.get_template(T + "_macros.xhtml.jinja").module.pagebreak  # type: ignore[attr-defined]
        last = max([len(printed.tops), *printed.anchors.values()], default=0)
        tops = list(printed.tops) + [()] * (last - len(printed.tops))
        order = [anchor for anchor, _ in anchor_order(bank)]
        placed = pagelist.place(text, tops, pagelist.fallbacks(order, printed.anchors, last), lambda n: str(marker(n)))
        text, common["pages"] = placed.documents, placed.pages
    out: dict[str, bytes] = {
        "META-INF/container.xml": render("container.xml.jinja").encode("utf-8"),
        "EPUB/epub.css": _css(env),
        "EPUB/cover.png": cover,
        "EPUB/nav.xhtml": render("nav.xhtml.jinja").encode("utf-8"),
        "EPUB/toc.ncx": render("toc.ncx.jinja").encode("utf-8"),
    }
    out |= {f"EPUB/{name}": data.encode("utf-8") for name, data in text.items()}
    math_files = {name.removeprefix("EPUB/") for name, data in out.items() if name.endswith(".xhtml") and b"<math " in data}
    out["EPUB/package.opf"] = render(
        "package.opf.jinja",
        modified=iso_timestamp(ctx.info.epoch),
        description_text=_plain(html.description),
        media=media,
        has_images=bool(media),
        has_math=bool(math_files),
        math_files=math_files,
    ).encode("utf-8")
    for m in media:
        out[f"EPUB/media/{m['name']}"] = m["path"].read_bytes()
    return out


def see_sections(ctx: RenderContext, hrefs: Mapping[str, str], ids: Iterable[str]) -> Markup:
    """ "1.2 and 3.4" as links, joined the locale's way."""
    link = ctx.env.get_template(T + "_macros.xhtml.jinja").module.section_link  # type: ignore[attr-defined]
    refs = [ctx.bank.question_by_id[i] for i in ids if i in ctx.bank.question_by_id]
    return ctx.messages.markup_list(Markup(link(q, hrefs[q.id])) for q in refs)


def see_also(ctx: RenderContext, html: BankHtml, hrefs: Mapping[str, str], ids: Iterable[str]) -> Markup:
    """ "1.2 What is …; 3.4 How do …": linked sections with their questions, joined the locale's way."""
    link = ctx.env.get_template(T + "_macros.xhtml.jinja").module.section_link  # type: ignore[attr-defined]
    refs = [ctx.bank.question_by_id[i] for i in ids if i in ctx.bank.question_by_id]
    items = (Markup("%s %s") % (Markup(link(q, hrefs[q.id])), html.questions[q.id].question.striptags()) for q in refs)
    return ctx.messages.markup_list(items)


def _media(ctx: RenderContext) -> list[dict[str, Any]]:
    """Every image any field of the bank shows (the book description's too), sorted by name."""
    by_name = {p.name: p for p in ctx.bank.media}
    used = sorted(n for n in ctx.prepared.images() if n in by_name)
    return [{"name": n, "path": by_name[n], "type": markup.IMAGE_TYPES[Path(n).suffix.lower()]} for n in used]


@dataclass(frozen=True)
class ImageSize:
    width: int
    height: int


def png_size(data: bytes) -> ImageSize:
    """Pixel size of a PNG, from its IHDR chunk (the cover's SVG wrapper needs its viewBox)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return ImageSize(width, height)


CODE_STYLE = "bw"
"""Pygments style of the e-book's code: weight and style, no colour. Readers show a book on
white, sepia or black and a colour cannot be 4.5:1 against both ends (a colour dark enough for
white, relative luminance <= 0.18, is too dark for #121212, which needs >= 0.20), and readers'
dark modes do not reliably tell the book which theme is on. So keywords are bold, strings and
comments italic, and every glyph takes the reader's own text colour."""


def _css(env: Any) -> bytes:
    base = source_of(env, T + "epub.css")
    return (base + markup.pygments_css([".highlight"], CODE_STYLE)).encode("utf-8")


def _plain(html: Markup | None) -> str | None:
    if html is None:
        return None
    return " ".join(html.striptags().split()) or None


def zip_epub(files: Mapping[str, bytes], epoch: int) -> bytes:
    """OCF container: mimetype first and stored, then every file sorted, with fixed dates."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zip_add(zf, "mimetype", MIMETYPE, epoch, stored=True)
        for name in sorted(files):
            zip_add(zf, name, files[name], epoch, level=9)
    return buf.getvalue()


@dataclass(frozen=True)
class EpubJob:
    """The whole package, decided: every file's bytes and the date its zip entries carry."""

    filename: str
    files: tuple[tuple[str, bytes], ...]
    epoch: int


class EpubRenderer(Renderer["EpubJob | HandbookJob"]):
    """Writes <namespace>.epub. Its page list follows the A4 handbook, so a first unit makes sure
    the A4 page map is known (reusing the PDF's layout when that is built too)."""

    name: ClassVar[str] = "epub"

    def units(self, ctx: RenderContext) -> list[Unit]:
        # lays the A4 book out when no PDF did, alone or not as the PDF's units do
        pages = Unit(self.name, "pages-a4", weight=10, after=("pdf:a4",), alone=lays_out_alone(ctx))
        return [pages, Unit(self.name, "epub", weight=2, after=(pages.key,))]

    def job(self, ctx: RenderContext, unit: Unit) -> EpubJob | HandbookJob:
        a4 = handbook_job(ctx, "a4")
        if unit.name == "pages-a4":
            return a4
        anchors, tops = stored_pages(ctx.store, a4, exact=True), stored_tops(ctx.store, a4)
        if anchors is None or tops is None:
            raise RuntimeError("the A4 page map is missing; the pages-a4 unit must run first")
        files = build_epub_files(ctx, PrintedPages(anchors, tops))
        return EpubJob(f"{file_stem(ctx.bank)}.epub", tuple(sorted(files.items())), ctx.info.epoch)

    def produce(self, job: EpubJob | HandbookJob, runtime: Runtime) -> Produced:
        if isinstance(job, HandbookJob):
            layout_pages(job, runtime)
            return Produced({})
        return Produced({job.filename: zip_epub(dict(job.files), job.epoch)})
