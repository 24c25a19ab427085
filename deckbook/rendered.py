"""The bank's HTML for one kind of output; the one place Markdown's HTML is marked safe.

Markdown is rendered once (`deckbook.prepared`) with a slot for each formula and each furigana
reading; a *flavour* fills them the way its outputs need (fragments from
``templates/fragments.jinja``):

- ``print`` (handbook, flashcards): formulas as SVG images with their TeX as alternative text;
  readings stacked over their base (WeasyPrint does not lay out <ruby>); tables with column
  widths planned at build time (`deckbook.tablewidths`), so layout never measures cells;
- ``ebook`` and ``web``: formulas as MathML; readings as <ruby>; the e-book's XHTML also marks
  language spans with ``xml:lang``, and writes tables too wide for a phone as labelled records
  (`deckbook.ebooktables`);
- ``anki``: formulas as TeX between Anki's ``\\(…\\)`` delimiters, readings in Anki's own
  ``base[reading]`` syntax for its furigana filter.

In ``print`` and ``ebook``, every block of a field (paragraph, list item, code block, heading,
quotation, table) carries ``data-mark="<owner>.<field>.<n>"``, numbered the same way in both, so
the e-book can put the marker of each printed page at the block where the A4 layout began that
page (`deckbook.renderers.pagelist`). A table counts as one block, whatever form each output gives it.

Renderers receive `BankHtml` and never call the Markdown parser, so every output shows the same
text. Images keep the neutral ``media/<file>`` source that each renderer maps to its layout.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import jinja2
from markupsafe import Markup

from deckbook import i18n, mathtex, mdext
from deckbook.ebooktables import ebook_tables
from deckbook.fields import BOOK_OWNER, Role, chapter_owner
from deckbook.model import Bank
from deckbook.prepared import FieldResult, Prepared
from deckbook.slots import fill
from deckbook.tablewidths import fix_tables

Flavour = Literal["print", "ebook", "web", "anki"]
FLAVOURS: tuple[Flavour, ...] = ("print", "ebook", "web", "anki")
_LANG_SPAN = re.compile(r'<span lang="([^"]+)">')
MARK = "data-mark"
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
_BLOCKS = frozenset({"p", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})


def mark_blocks(html: str, key: str) -> str:
    """`html` with ``data-mark="<key>.<n>"`` on each block, numbered in document order; a table
    (or the records an e-book makes of one: ``<div class="records">``) is one block, and nothing
    inside it is numbered, so every output numbers the same blocks alike."""
    out, at, n, inside = [], 0, 0, 0
    divs: list[bool] = []
    for tag in _TAG.finditer(html):
        closing, name, attrs, empty = tag.group(1), tag.group(2).lower(), tag.group(3), tag.group(4)
        container = name == "table" or (name == "div" and not closing and 'class="records"' in attrs)
        if name == "div" and not empty:
            if closing:
                inside -= divs.pop() if divs else 0
            else:
                divs.append(container)
        elif name == "table":
            inside += -1 if closing else 0
        if closing or empty or not (name in _BLOCKS or container) or inside:
            continue
        if name == "table" or container:
            inside += 1
        out.append(html[at : tag.end(3)] + f' {MARK}="{key}.{n}"')
        at, n = tag.end(3), n + 1
    out.append(html[at:])
    return "".join(out)


@dataclass(frozen=True)
class QuestionHtml:
    question: Markup  # inline HTML
    answer: Markup
    explanation: Markup | None
    cloze: Markup | None  # still holds the {{c1::…}} markers; only the deck uses it


@dataclass(frozen=True)
class BankHtml:
    flavour: Flavour
    questions: dict[str, QuestionHtml]
    terms: dict[str, Markup]
    intros: dict[str, Markup]
    description: Markup | None
    guide: Markup | None
    titles: dict[str, Markup]  # chapter titles, escaped
    furigana: bool  # some field uses readings (the deck then applies Anki's furigana filter)


def filler(flavour: Flavour, env: jinja2.Environment, *, furigana: bool = False) -> Callable[[FieldResult], str]:
    """How `flavour` turns one field's HTML with slots into its final HTML. With `furigana` (the
    bank writes readings), the deck's text fields pass through Anki's furigana filter, which turns
    every `x[y]` into a reading: so every other square bracket — in text, code and TeX — is
    written as an HTML character reference that the filter does not see and the card still shows."""
    fragments = env.get_template("fragments.jinja").module
    shield = flavour == "anki" and furigana

    def brackets(text: str) -> str:
        return text.replace("[", "&#91;").replace("]", "&#93;") if shield else text

    def finish(result: FieldResult) -> str:
        def formula(index: str) -> str:
            m = result.math[int(index)]
            if flavour == "anki":
                return brackets(str(Markup.escape(mathtex.for_anki(m.tex, m.display))))
            if flavour == "print":
                return str(fragments.math_image(m, mathtex.svg_data_uri(m)))  # type: ignore[attr-defined]
            return str(fragments.math_ml(m, Markup(m.mathml)))  # type: ignore[attr-defined]

        def reading(value: str) -> str:
            base, _, ruby = value.partition(mdext.READING_SEP)
            if flavour == "anki":
                return f" {base}[{ruby}]"
            macro = fragments.ruby_print if flavour == "print" else fragments.ruby  # type: ignore[attr-defined]
            return str(macro(Markup(base), Markup(ruby)))

        html = fill(brackets(result.html), {mdext.MATH: formula, mdext.FURIGANA: reading})
        if flavour == "ebook":
            html = _LANG_SPAN.sub(r'<span lang="\1" xml:lang="\1">', html)
            html = ebook_tables(html) if "<table>" in html else html
        elif flavour == "print":  # fontconfig picks Chinese shapes for zh-CN, not for zh-Hans
            html = _LANG_SPAN.sub(lambda m: f'<span lang="{i18n.print_language(m.group(1))}">', html)
            html = fix_tables(html) if "<table>" in html else html
        return html

    return finish


def render_bank(bank: Bank, prepared: Prepared, flavour: Flavour, env: jinja2.Environment) -> BankHtml:
    """The HTML of every Markdown field of `bank` in `flavour`."""
    furigana = any(r.analysis.furigana for _, r in prepared)
    finish = filler(flavour, env, furigana=furigana)

    marked = flavour in ("print", "ebook")

    def html(owner: str, role: Role) -> Markup | None:
        got = prepared.results.get((owner, role))
        return None if got is None else required(owner, role)

    def required(owner: str, role: Role) -> Markup:
        text = finish(prepared[(owner, role)])
        return Markup(mark_blocks(text, f"{owner}.{role.value}") if marked and role is not Role.QUESTION else text)

    questions = {
        q.id: QuestionHtml(
            question=required(q.id, Role.QUESTION),
            answer=required(q.id, Role.ANSWER),
            explanation=html(q.id, Role.EXPLANATION),
            cloze=html(q.id, Role.CLOZE),
        )
        for q in bank.questions
    }
    intros = {c.id: got for c in bank.chapters if (got := html(chapter_owner(c.id), Role.INTRO)) is not None}
    return BankHtml(
        flavour=flavour,
        questions=questions,
        terms={t.id: required(t.id, Role.DEFINITION) for t in bank.terms},
        intros=intros,
        description=html(BOOK_OWNER, Role.DESCRIPTION),
        guide=html(BOOK_OWNER, Role.GUIDE),
        titles={c.id: Markup.escape(c.title) for c in bank.chapters},
        furigana=furigana,
    )
