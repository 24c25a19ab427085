"""The handbook cut into parts that lay out independently: front matter, each chapter, back matter.

Every part begins on a right-hand page (chapters do; the front matter is page 1; each section of
the back matter is made to), so a part's layout does not depend on where it falls in the book:
the page numbers it prints, in its text and its margins, are written in after layout
(`deckbook.renderers.pagepatch`). Parts can therefore be laid out in parallel processes, cached
one by one, and merged into one PDF (`deckbook.renderers.pdfmerge`).

Only the first part carries the document's metadata (``<meta name=…>``: author, description,
dates): the merged PDF keeps the first part's, and a new date would otherwise change every part
and lay the whole book out again.

The template marks where each part begins with ``<!--deckbook:part NAME-->``. A link to an id
outside its part is rewritten to ``deckbook-link:ID``, which the merge turns back into a link to
the named destination in the whole book.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARK = re.compile(r"<!--deckbook:part ([^\s>]+)-->")
LINK_SCHEME = "deckbook-link:"
_ID = re.compile(r'\sid="([^"]+)"')
_HREF = re.compile(r'href="#([^"]+)"')
_META = re.compile(r"<meta name=[^>]*>\n?")  # the document's metadata: the merged PDF keeps the first part's


@dataclass(frozen=True)
class Part:
    """One part's HTML (a whole document) before its page numbers are filled in."""

    name: str
    html: str


def split(document: str) -> list[Part]:
    """The parts of a handbook document, in book order (the whole document if it has no marks)."""
    marks = list(MARK.finditer(document))
    if not marks:
        return [Part("book", document)]
    body_end = document.rindex("</body>")
    head = document[: marks[0].start()]
    tail = document[body_end:]
    parts = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else body_end
        parts.append(Part(mark.group(1), (head if i == 0 else _META.sub("", head)) + document[mark.end() : end] + tail))
    return [Part(p.name, local_links(p.html)) for p in parts]


def local_links(html: str) -> str:
    """Links to ids this part does not hold point outside it (resolved when the parts are merged).
    Again after the page numbers are filled in: the index's page ranges link to questions."""
    ids = set(_ID.findall(html))
    return _HREF.sub(lambda m: m.group(0) if m.group(1) in ids else f'href="{LINK_SCHEME}{m.group(1)}"', html)


def first_pages(counts: list[int]) -> list[int]:
    """Where each part begins in the book, given how many pages each has: page 1, then the next
    odd (right-hand) page after the previous part — a blank page is inserted where needed."""
    starts, page = [], 1
    for count in counts:
        starts.append(page)
        page += count
        page += 1 - page % 2  # an even number is a left-hand page: the next part begins one later
    return starts
