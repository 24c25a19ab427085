"""EPUB 3 renderer: Jinja templates + zipfile, no converter in between.

Contract: the package passes EPUBCheck with no errors or warnings; `mimetype` is the first entry
and stored uncompressed (EPUBCheck does not catch a compressed one, so tests check it); entries
are sorted and dated from the build epoch, so the same source and ledger give the same bytes.
One edition serves both uses: it reads straight through, and each chapter ends with a self-test
whose answers are popup notes (noteref → footnote aside), never hidden text.
"""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from markupsafe import Markup

from deckbook import markup
from deckbook.model import Bank
from deckbook.renderers.base import RenderContext, digest, file_stem, media_digest
from deckbook.renderers.cover import cover_png
from deckbook.renderers.handbook import cached_anchors, layout_key
from deckbook.renderers.indexing import service_index
from deckbook.templating import source_of

MIMETYPE = b"application/epub+zip"
T = "epub/"


@dataclass(frozen=True)
class PageMap:
    """Where the printed A4 pages begin, in e-book terms: page-list entries and marker positions."""

    pages: tuple[tuple[int, str], ...] = ()  # (page number, href of its marker)
    markers: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # anchor id → pages whose marker goes before it


def chapter_file(number: int, width: int) -> str:
    return f"ch{number:0{width}d}.xhtml"


def chapter_files(bank: Bank) -> dict[str, str]:
    width = max(2, len(str(len(bank.chapters))))
    return {c.id: chapter_file(c.number, width) for c in bank.chapters}


def anchor_order(bank: Bank) -> list[tuple[str, str]]:
    """(anchor id, file) of every place a page marker may go, in reading order; the PDF uses the same ids."""
    files = chapter_files(bank)
    order = [("cover", "cover.xhtml"), ("titlepage", "front.xhtml"), ("howto", "front.xhtml")]
    for c in bank.chapters:
        order.append((f"ch-{c.id}", files[c.id]))
        order += [(f"q-{q.id}", files[c.id]) for q in c.questions]
        order.append((f"selftest-{c.id}", files[c.id]))
    if bank.terms:
        order.append(("glossary", "glossary.xhtml"))
    if service_index(bank):
        order.append(("index", "services.xhtml"))
    return order


def page_map(bank: Bank, anchors: Mapping[str, int]) -> PageMap:
    """Where each printed page begins, in e-book terms.

    A page's marker goes before the first anchor that starts on it; a page on which nothing
    starts (a long answer running on) gets its marker before the anchor that runs onto it."""
    seq = [(a, f, anchors[a]) for a, f in anchor_order(bank) if a in anchors]
    if not seq:
        return PageMap()
    last_page = anchors.get("book-end", max(p for _, _, p in seq))
    first_on: dict[int, tuple[str, str]] = {}
    for a, f, p in seq:
        first_on.setdefault(p, (a, f))
    markers: dict[str, list[int]] = {}
    pages: list[tuple[int, str]] = []
    current = seq[0][:2]
    for page in range(1, last_page + 1):
        current = first_on.get(page, current)
        markers.setdefault(current[0], []).append(page)
        pages.append((page, f"{current[1]}#page-{page}"))
    return PageMap(tuple(pages), {a: tuple(ps) for a, ps in markers.items()})


def build_epub_files(ctx: RenderContext, page_map: PageMap | None = None) -> dict[str, bytes]:
    """Pure builder: every file of the package (path inside the zip → bytes), mimetype excluded."""
    bank, env = ctx.bank, ctx.env
    files = chapter_files(bank)
    hrefs = {q.id: f"{files[q.chapter_id]}#q-{q.id}" for q in bank.questions}
    page_map = page_map or PageMap()
    media = _media(bank)
    common: dict[str, Any] = {
        "book": bank.book,
        "info": ctx.info,
        "html": ctx.html,
        "chapters": bank.chapters,
        "questions": bank.question_by_id,
        "terms": bank.terms,
        "index": service_index(bank),
        "files": files,
        "hrefs": hrefs,
        "markers": page_map.markers,
        "pages": page_map.pages,
        "identifier": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'deckbook:' + bank.book.namespace)}",
        "services": lambda q: [bank.service_by_id[s].name for s in q.services if s in bank.service_by_id],
    }

    def render(name: str, **extra: Any) -> bytes:
        return env.get_template(T + name).render(**common, **extra).encode("utf-8")

    out: dict[str, bytes] = {
        "META-INF/container.xml": render("container.xml.jinja"),
        "EPUB/epub.css": _css(env),
        "EPUB/cover.png": cover_png(bank.book),
        "EPUB/cover.xhtml": render("cover.xhtml.jinja"),
        "EPUB/front.xhtml": render(
            "front.xhtml.jinja",
            description=ctx.html.description,
            counts={"questions": len(bank.questions), "chapters": len(bank.chapters), "terms": len(bank.terms)},
        ),
        "EPUB/nav.xhtml": render("nav.xhtml.jinja"),
        "EPUB/toc.ncx": render("toc.ncx.jinja"),
        "EPUB/package.opf": render(
            "package.opf.jinja",
            modified=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ctx.info.epoch)),
            description_text=_plain(ctx.html.description),
            media=media,
            has_images=bool(media),
        ),
    }
    for chapter in bank.chapters:
        out[f"EPUB/{files[chapter.id]}"] = render("chapter.xhtml.jinja", chapter=chapter, intro=ctx.html.intros.get(chapter.id))
    if bank.terms:
        out["EPUB/glossary.xhtml"] = render("glossary.xhtml.jinja")
    if common["index"]:
        out["EPUB/services.xhtml"] = render("services.xhtml.jinja")
    for m in media:
        out[f"EPUB/media/{m['name']}"] = m["path"].read_bytes()
    return out


def _media(bank: Bank) -> list[dict[str, Any]]:
    used: dict[str, None] = {}
    texts = [q.answer_md for q in bank.questions] + [q.explanation_md or "" for q in bank.questions]
    texts += [t.definition_md for t in bank.terms] + [c.intro_md or "" for c in bank.chapters]
    for text in texts:
        for name in markup.images(text):
            used[name] = None
    by_name = {p.name: p for p in bank.media}
    return [{"name": n, "path": by_name[n], "type": markup.IMAGE_TYPES[Path(n).suffix.lower()]} for n in sorted(used) if n in by_name]


def _css(env: Any) -> bytes:
    base = source_of(env, T + "epub.css")
    return (base + markup.pygments_css([".highlight"], "default")).encode("utf-8")


def _plain(html: Markup | None) -> str | None:
    if html is None:
        return None
    return " ".join(html.striptags().split()) or None


def zip_epub(files: Mapping[str, bytes], epoch: int) -> bytes:
    """OCF container: mimetype first and stored, then every file sorted, with fixed dates."""
    t = time.gmtime(max(epoch, 315532800))
    stamp = (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec - t.tm_sec % 2)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        first = zipfile.ZipInfo("mimetype", date_time=stamp)
        first.compress_type = zipfile.ZIP_STORED
        first.external_attr = 0o644 << 16
        zf.writestr(first, MIMETYPE)
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name], compresslevel=9)
    return buf.getvalue()


class EpubRenderer:
    """Writes <namespace>.epub."""

    name: ClassVar[str] = "epub"

    def units(self, ctx: RenderContext) -> list[str]:
        return ["epub"]

    def after(self, ctx: RenderContext, unit: str) -> list[tuple[str, str]]:
        return [("pdf", "a4")]  # reuse the A4 layout's page map when the PDF is built too

    def inputs(self, ctx: RenderContext, unit: str) -> str:
        # the A4 layout key covers every text in the bank; the page list depends on that layout
        return digest(layout_key(ctx, "a4"), vars(ctx.bank.book), vars(ctx.info), media_digest(ctx.bank))

    def render(self, ctx: RenderContext, unit: str) -> list[Path]:
        anchors = cached_anchors(ctx, "a4", exact=True)
        if anchors is None:  # no fresh layout to reuse: lay the A4 book out (WeasyPrint loads only now)
            from deckbook.renderers.pdf import anchors_for_ebook

            anchors = anchors_for_ebook(ctx)
        pages = page_map(ctx.bank, anchors)
        path = ctx.out_dir / f"{file_stem(ctx.bank)}.epub"
        path.write_bytes(zip_epub(build_epub_files(ctx, pages), ctx.info.epoch))
        return [path]
