"""The web edition: a static site of the bank, for any browser, from file:// or any static host.

Contract: `build_site(ctx)` returns every file of the site (path relative to the site folder →
bytes), rendered from ``templates/web/`` and the bank's "web" flavour (MathML formulas, <ruby>
readings), the same HTML every other output shows. Pages link to each other by relative URLs
only and load nothing from elsewhere (no CDN, fonts or trackers); everything but search works
without JavaScript (self-test answers open with <details>). Search is offline: the renderer
writes the index as JSON inside a script (``search-index.js``; a script, because browsers do not
let a page fetch a file:// URL) and ``search.js`` looks questions, answers, explanations and
glossary terms up in it. The renderer's one unit writes the site into ``<namespace>-html/``.

A caller that builds again and again (the live preview, `deckbook.web.serve`) passes a memo to
`build_site`: a page is rendered again only when the digest of what it shows (`page_keys`)
changed, so an edited answer re-renders its own chapter page and nothing else.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from markupsafe import Markup

from deckbook import markup
from deckbook.model import Bank, Chapter, Question, Status
from deckbook.rendered import BankHtml
from deckbook.renderers.anki_notes import plain
from deckbook.renderers.base import Produced, RenderContext, Renderer, Runtime, Unit, file_stem
from deckbook.renderers.handbook import book_changes
from deckbook.renderers.indexing import bank_index, entry_names, index_title, status_label
from deckbook.report import report_url
from deckbook.templating import source_of

T = "web/"
HOME, GLOSSARY, INDEX, CHANGES, SEARCH = "index.html", "glossary.html", "bank-index.html", "changes.html", "search.html"
STYLE, SEARCH_SCRIPT, SEARCH_INDEX = "style.css", "search.js", "search-index.js"
SEARCH_GLOBAL = "DECKBOOK_SEARCH"  # the global search-index.js assigns, and search.js reads


@functools.lru_cache(maxsize=16384)
def _plain(html: str) -> str:
    """`plain`, remembered: the live preview renders the same texts after every save."""
    return plain(html)


def site_folder(bank: Bank) -> str:
    """The site's folder inside the output folder: <namespace>-html."""
    return f"{file_stem(bank)}-html"


def chapter_files(bank: Bank) -> dict[str, str]:
    """Chapter id → its page, numbered in reading order (ch03.html)."""
    return {c.id: f"ch{c.number:0{bank.chapter_digits}d}.html" for c in bank.chapters}


_TABLE = re.compile(r"<table>(.*?)</table>", re.DOTALL)
_PRE = re.compile(r"<pre(?=[ >])")


def scrollable(html: str, label: str) -> Markup:
    """Wide content scrolls inside its own box on a phone, and a keyboard can scroll it: tables are
    wrapped in a focusable, labelled region; code blocks become focusable."""
    name = Markup.escape(label)
    wrapped = _TABLE.sub(
        lambda m: f'<div class="wide" tabindex="0" role="group" aria-label="{name}"><table>{m.group(1)}</table></div>', html
    )
    return Markup(_PRE.sub('<pre tabindex="0"', wrapped))


@dataclass(frozen=True)
class WebHtml:
    """The bank's "web" HTML as the site shows it: `BankHtml` with wide content made scrollable."""

    questions: Mapping[str, tuple[Markup, Markup, Markup | None]]  # id → question, answer, explanation
    terms: Mapping[str, Markup]
    intros: Mapping[str, Markup]
    description: Markup | None
    guide: Markup | None


def web_html(html: BankHtml, table_label: str) -> WebHtml:
    def wide(value: Markup | None) -> Markup | None:
        return None if value is None else scrollable(str(value), table_label)

    questions = {qid: (h.question, Markup(wide(h.answer)), wide(h.explanation)) for qid, h in html.questions.items()}
    return WebHtml(
        questions=questions,
        terms={tid: Markup(wide(t)) for tid, t in html.terms.items()},
        intros={cid: Markup(wide(i)) for cid, i in html.intros.items()},
        description=wide(html.description),
        guide=wide(html.guide),
    )


@dataclass(frozen=True)
class SitePlan:
    """Which pages the site has and what each is rendered from: `pages` maps a file name to the
    template and the names of its own values (the chapter, …); `common` is what every page sees."""

    pages: Mapping[str, tuple[str, Mapping[str, Any]]]
    common: Mapping[str, Any]
    media: Mapping[str, Path]  # media/<file> → the bank's file


def site_plan(ctx: RenderContext) -> SitePlan:
    """Every page of the site and the values its template reads (nothing rendered yet)."""
    bank, messages = ctx.bank, ctx.messages
    html = ctx.html("web")
    web = web_html(html, messages.gettext("Table"))
    files = chapter_files(bank)
    hrefs = {q.id: f"{files[q.chapter_id]}#q-{q.id}" for q in bank.questions}
    index = bank_index(bank)
    changelog = book_changes(ctx)
    chapters = bank.chapters

    def neighbours(i: int) -> tuple[Chapter | None, Chapter | None]:
        return (chapters[i - 1] if i > 0 else None, chapters[i + 1] if i + 1 < len(chapters) else None)

    common: dict[str, Any] = {
        "book": bank.book,
        "info": ctx.info,
        "html": web,
        "chapters": chapters,
        "questions": bank.question_by_id,
        "terms": bank.terms,
        "index": index,
        "files": files,
        "hrefs": hrefs,
        "changelog": changelog,
        "index_title": index_title(bank, messages),
        "withdrawn": any(item.entry.status is not Status.ACTIVE for item in index),
        "level_names": [lv.label for lv in bank.book.levels],
        "entry_names": lambda q: entry_names(bank, q, messages),
        "status_label": lambda status: status_label(status, messages),
        "see_also": lambda ids: see_also(ctx, html, hrefs, ids),
        "see_sections": lambda ids: see_sections(ctx, hrefs, ids),
        "report_url": lambda q: report_url(bank.book, q, _plain(html.questions[q.id].question)),
        "counts": {"questions": len(bank.questions), "chapters": len(chapters), "terms": len(bank.terms)},
        "pages": {"home": HOME, "glossary": GLOSSARY, "index": INDEX, "changes": CHANGES, "search": SEARCH, "style": STYLE},
    }
    pages: dict[str, tuple[str, Mapping[str, Any]]] = {HOME: ("home.html.jinja", {"page": HOME})}
    for i, chapter in enumerate(chapters):
        before, after = neighbours(i)
        pages[files[chapter.id]] = (
            "chapter.html.jinja",
            {"page": files[chapter.id], "chapter": chapter, "previous": before, "next": after},
        )
    if changelog:
        pages[CHANGES] = ("changes.html.jinja", {"page": CHANGES})
    if bank.terms:
        pages[GLOSSARY] = ("glossary.html.jinja", {"page": GLOSSARY})
    if index:
        pages[INDEX] = ("bank-index.html.jinja", {"page": INDEX})
    pages[SEARCH] = ("search.html.jinja", {"page": SEARCH})
    by_name = {p.name: p for p in bank.media}
    media = {f"media/{n}": by_name[n] for n in ctx.prepared.images() if n in by_name}
    return SitePlan(pages, common, media)


def render_page(ctx: RenderContext, plan: SitePlan, name: str) -> bytes:
    """One page of the site, as bytes."""
    template, values = plan.pages[name]
    return ctx.env.get_template(T + template).render(**plan.common, **values).encode("utf-8")


def assets(ctx: RenderContext) -> dict[str, bytes]:
    """The stylesheet (with code colours for light and dark) and the search script."""
    css = source_of(ctx.env, T + "style.css")
    light = markup.pygments_css([".highlight"], "default")
    dark = markup.pygments_css([".highlight"], "github-dark")
    dark_block = "@media (prefers-color-scheme: dark) {\n" + dark + "}\n"
    return {
        STYLE: (css + light + dark_block).encode("utf-8"),
        SEARCH_SCRIPT: source_of(ctx.env, T + "search.js").encode("utf-8"),
    }


def search_index(ctx: RenderContext) -> bytes:
    """Every question (with its answer and explanation) and glossary term as plain text, with the
    link to it: JSON, assigned to a global by a one-line script so that file:// pages can load it."""
    bank = ctx.bank
    html = ctx.html("web")
    files = chapter_files(bank)
    items: list[dict[str, str]] = []
    for q in bank.questions:
        h = html.questions[q.id]
        text = " ".join(part for part in (_plain(h.answer), _plain(h.explanation or "")) if part)
        items.append({"s": q.section, "q": _plain(h.question), "u": f"{files[q.chapter_id]}#q-{q.id}", "t": text})
    for t in bank.terms:
        items.append({"s": "", "q": t.term, "u": f"{GLOSSARY}#g-{t.id}", "t": _plain(html.terms[t.id])})
    data = json.dumps({"language": bank.book.language, "items": items}, ensure_ascii=False, separators=(",", ":"))
    return f"self.{SEARCH_GLOBAL} = {data};\n".encode()


def build_site(ctx: RenderContext, memo: MutableMapping[str, tuple[str, bytes]] | None = None) -> dict[str, bytes]:
    """Every file of the web edition, by path relative to the site folder. With `memo` (kept by
    the caller between builds: page → key and bytes) a page whose inputs did not change is not
    rendered again (`page_keys`)."""
    plan = site_plan(ctx)
    keys = page_keys(ctx, plan) if memo is not None else {}
    out = {}
    for name in plan.pages:
        known = memo.get(name) if memo is not None else None
        if known is None or known[0] != keys[name]:
            known = (keys.get(name, ""), render_page(ctx, plan, name))
            if memo is not None:
                memo[name] = known
        out[name] = known[1]
    out.update(assets(ctx))
    out[SEARCH_INDEX] = search_index(ctx)
    out.update({name: path.read_bytes() for name, path in plan.media.items()})
    return out


def page_keys(ctx: RenderContext, plan: SitePlan) -> dict[str, str]:
    """For each page, a digest of what it shows. Every page shows the bank's frame (the book, the
    chapters, every question's number, heading and cross-references, the terms, the index, the
    changelog, the templates and the catalogue in use); beyond it a chapter page shows its own
    intro, answers and explanations, the home page the description and the guide, the glossary
    the definitions. So an edited answer changes the key of its own chapter page only."""
    bank, web = ctx.bank, plan.common["html"]
    frame = hashlib.sha256()

    def add(digest: Any, *parts: object) -> None:
        digest.update(repr(parts).encode("utf-8", "surrogatepass"))

    add(frame, bank.book, ctx.info, ctx.messages.language, sorted(plan.pages), _templates(ctx))
    for c in bank.chapters:
        add(frame, c.id, c.number, c.title, c.reviewed)
        for q in c.questions:
            add(frame, q.id, q.section, q.level, q.kind, q.index, q.see, q.tags, str(web.questions[q.id][0]))
    add(frame, [(t.id, t.term, t.see) for t in bank.terms], [(e.id, e.name, e.status, e.note) for e in bank.entries])
    for r in plan.common["changelog"]:
        add(
            frame,
            r.version,
            r.first,
            [q.id for q in r.added],
            [q.id for q in r.corrected],
            [(g.key, g.question, g.replacement) for g in r.removed],
        )
    keys = {}
    for name, (_template, values) in plan.pages.items():
        page = frame.copy()
        chapter = values.get("chapter")
        if chapter is not None:
            add(page, str(web.intros.get(chapter.id, "")), [tuple(map(str, web.questions[q.id])) for q in chapter.questions])
        elif name == HOME:
            add(page, str(web.description), str(web.guide))
        elif name == GLOSSARY:
            add(page, [str(web.terms[t.id]) for t in bank.terms])
        keys[name] = page.hexdigest()
    return keys


def _templates(ctx: RenderContext) -> list[str]:
    """The text of every template of the web edition and of the language's catalogue."""
    env = ctx.env
    names = sorted(n for n in env.list_templates() if n.startswith(T) or n == f"locale/{ctx.messages.language}.po")
    return [source_of(env, n) for n in names]


def _refs(bank: Bank, ids: Iterable[str]) -> list[Question]:
    return [bank.question_by_id[i] for i in ids if i in bank.question_by_id]


def _link(ctx: RenderContext) -> Callable[..., str]:
    link: Callable[..., str] = ctx.env.get_template(T + "_macros.html.jinja").module.section_link  # type: ignore[attr-defined]
    return link


def see_sections(ctx: RenderContext, hrefs: Mapping[str, str], ids: Iterable[str]) -> Markup:
    """ "1.2 and 3.4" as links, joined the locale's way."""
    link = _link(ctx)
    return ctx.messages.markup_list(Markup(link(q, hrefs[q.id])) for q in _refs(ctx.bank, ids))


def see_also(ctx: RenderContext, html: BankHtml, hrefs: Mapping[str, str], ids: Iterable[str]) -> Markup:
    """ "1.2 What is …; 3.4 How do …": linked sections with their questions, joined the locale's way."""
    link = _link(ctx)
    items = (Markup("%s %s") % (Markup(link(q, hrefs[q.id])), _plain(html.questions[q.id].question)) for q in _refs(ctx.bank, ids))
    return ctx.messages.markup_list(items)


@dataclass(frozen=True)
class WebJob:
    """The whole site, decided: its folder and every file's bytes."""

    folder: str
    files: tuple[tuple[str, bytes], ...]


class WebRenderer(Renderer[WebJob]):
    """Writes the web edition into <namespace>-html/."""

    name: ClassVar[str] = "web"

    def job(self, ctx: RenderContext, unit: Unit) -> WebJob:
        return WebJob(site_folder(ctx.bank), tuple(sorted(build_site(ctx).items())))

    def produce(self, job: WebJob, runtime: Runtime) -> Produced:
        return Produced({f"{job.folder}/{name}": data for name, data in job.files})
