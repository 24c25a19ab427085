"""The e-book's page list: each printed A4 page's marker where the layout began that page.

The A4 layout names, for every page, the first elements that begin on it (not continued from
the page before), by ``id`` or by the ``data-mark`` that numbers the blocks of every field in
print and e-book alike (`deckbook.rendered.mark_blocks`): a paragraph in a long answer, a list
item, a self-test line, a glossary entry, an index item. `place` puts page N's marker at the
first of page N's elements that the e-book has; failing that (an element only the printed book
has), at the section that begins on N or runs onto it (`fallbacks`). A page on which nothing
begins — a blank page before a part, one long code block filling it — shares the place of the
page before.

A marker goes first inside its element, so it stays with a list item or a paragraph, except in
elements that cannot hold text (a table, a list): there it goes just before. Markers are added
in reading order, so the page list ascends through the book.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from deckbook.rendered import MARK

_START = re.compile(r"<([a-zA-Z][a-zA-Z0-9:]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
_KEY = re.compile(rf'\s(?:id|{MARK})="([^"]+)"')
_NO_TEXT = frozenset({"table", "thead", "tbody", "tfoot", "tr", "colgroup", "ul", "ol", "dl", "html", "head"})


@dataclass(frozen=True)
class _Place:
    document: str
    at: int  # where in the document's text the marker goes


@dataclass(frozen=True)
class PageList:
    """The documents with their markers, and (page, href of its marker) for every page."""

    documents: dict[str, str]
    pages: tuple[tuple[int, str], ...]


def place(
    documents: Mapping[str, str],
    tops: Sequence[Sequence[str]],
    fallbacks: Sequence[Sequence[str]],
    marker: Callable[[int], str],
) -> PageList:
    """Markers for pages 1 … len(tops) in `documents` (name → XHTML, in reading order); `marker(N)`
    is the markup of page N's marker (it must carry ``id="page-N"``)."""
    places = _places(documents)
    chosen: list[tuple[int, _Place]] = []
    previous = _start(documents)  # the first pages (a cover) may have nothing the e-book has: its beginning
    for number, keys in enumerate(tops, start=1):
        # the section only for a page whose own elements the e-book lacks: a page on which nothing
        # begins (blank, or one code block running on) shares the place of the page before
        extra = fallbacks[number - 1] if keys and number <= len(fallbacks) else ()
        found = next((places[k] for k in (*keys, *extra) if k in places), previous)
        if found is None:
            continue
        if previous is not None and _before(found, previous, documents):
            found = previous  # never back: a page's element the e-book has earlier than the page before's
        chosen.append((number, found))
        previous = found
    inserts: dict[str, list[tuple[int, str]]] = {}
    for number, where in chosen:
        inserts.setdefault(where.document, []).append((where.at, marker(number)))
    out = dict(documents)
    for name, items in inserts.items():
        text = out[name]
        pieces, last = [], 0
        for at, markup in items:  # already in page order, and positions never go back within a document
            pieces += [text[last:at], markup]
            last = at
        out[name] = "".join(pieces) + text[last:]
    return PageList(out, tuple((number, f"{where.document}#page-{number}") for number, where in chosen))


def _places(documents: Mapping[str, str]) -> dict[str, _Place]:
    """Every key's place: its first element, across the documents in order."""
    found: dict[str, _Place] = {}
    for name, text in documents.items():
        for tag in _START.finditer(text):
            key = _KEY.search(tag.group(2))
            if key is None or key.group(1) in found:
                continue
            inside = tag.group(1).lower() not in _NO_TEXT and not tag.group(3)
            found[key.group(1)] = _Place(name, tag.end() if inside else tag.start())
    return found


def _start(documents: Mapping[str, str]) -> _Place | None:
    """Just inside the first document's body."""
    for name, text in documents.items():
        body = re.search(r"<body[^>]*>", text)
        return _Place(name, body.end()) if body else None
    return None


def _before(a: _Place, b: _Place, documents: Mapping[str, str]) -> bool:
    order = list(documents)
    return (order.index(a.document), a.at) < (order.index(b.document), b.at)


def fallbacks(order: Sequence[str], anchors: Mapping[str, int], last_page: int) -> list[tuple[str, ...]]:
    """For each page, the section-level anchor to fall back on: the first of `order` (anchors in
    reading order) that begins on the page, else the one running onto it."""
    first_on: dict[int, str] = {}
    for anchor in order:
        if anchor in anchors:
            first_on.setdefault(anchors[anchor], anchor)
    out: list[tuple[str, ...]] = []
    current: tuple[str, ...] = ()
    for page in range(1, last_page + 1):
        current = (first_on[page],) if page in first_on else current
        out.append(current)
    return out
