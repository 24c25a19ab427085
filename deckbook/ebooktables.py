"""Tables in the e-book, laid out at build time so that none is wider than a phone's page.

An e-reader lays a table out at the width of one page, and a table cannot shrink below the sum
of its columns' longest words; e-readers ignore the media queries a web page would switch
layouts with. So the layout of every table is chosen here, once, from its content:

- a table that fits a phone (`PAGE_EM`, a 360 px screen at the reader's default size) with every
  column at least as wide as its longest word, and has at most `MAX_COLUMNS` columns, stays a
  table. It fills the page, and its columns get their share as planned widths (classes of
  epub.css, as an e-book carries no inline styles): each column first what its longest word
  needs, the rest shared the way the printed book shares its width (`deckbook.tablewidths`).
  Left to themselves, browsers give nearly all the width to the wordiest column once words may
  wrap, and squeeze the others to a few letters. At a larger font, words that no longer fit wrap
  inside the word (epub.css: `overflow-wrap: anywhere`, hyphenated where the reader hyphenates);
  nothing overflows;
- any other table is written as a sequence of records, one per row, each a definition list of
  (column heading → cell).

Why a definition list and not a table restyled by CSS (`td { display: block }` with labels from
`content: attr(data-label)`): generated content and block-level table cells are not honoured by
every reader (Kindle's KF8, Adobe's engine), which would then show a wide table or no labels;
and WebKit and Blink drop a table's semantics once its cells are blocks, so assistive technology
would get neither a table nor labels. A `<dl>` needs no CSS to read correctly anywhere: the label
is real text, in the order a listener hears it.

The width of a word is estimated from its characters (`CHAR_EM`, `BOLD`: measured in Chromium with DejaVu
Sans, a wide face, so narrower reading fonts have room to spare); a wide (East Asian) character
counts double and may be broken before or after; code may break anywhere, so only `CODE_RUN` of
its characters count.

Contract: the input is a field's XHTML as deckbook's Markdown renders it (GFM tables:
``<table><thead><tr><th>…`` then ``<tbody>``); everything outside tables is returned unchanged;
cell contents are moved, never rewritten; output is well-formed XHTML and depends only on the
input (deterministic).
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Sequence

from deckbook.tablewidths import widths

MAX_COLUMNS = 4  # wider tables always become records
PAGE_EM = 25.5  # 360 px less the body's margins (0.4 em each side) at 16 px, in ems of the table's 0.85 em
CHAR_EM = 0.6  # one character of a table's text, in the table's ems
BOLD = 1.15  # the heading row is bold, and wider
CELL_EM = 0.8  # a cell's padding (0.35 em each side) and border
CODE_RUN = 8  # code may break anywhere: count at most this many of its characters
STEP = 5  # column widths are multiples of 5 % of the page

_TABLE = re.compile(r"<table>(.*?)</table>\n?", re.DOTALL)
_ROW = re.compile(r"<tr>(.*?)</tr>", re.DOTALL)
_CELL = re.compile(r"<t[hd](?: [^>]*)?>(.*?)</t[hd]>", re.DOTALL)
_HEAD = re.compile(r"<thead>(.*?)</thead>", re.DOTALL)
_CODE = re.compile(r"<code[^>]*>(.*?)</code>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_BREAKS = re.compile(r"\s+|(?<=[-/])")  # where a line may break inside a cell's text


def longest_word(cell: str) -> float:
    """How many average characters wide the widest unbreakable piece of a cell is."""
    pieces: list[float] = []
    for code in _CODE.findall(cell):
        pieces.append(min(len(html.unescape(_TAG.sub("", code))), CODE_RUN))
    text = html.unescape(_TAG.sub(" ", _CODE.sub(" ", cell)))
    for run in _BREAKS.split(text):
        length = 0.0
        for ch in run:
            if unicodedata.east_asian_width(ch) in ("W", "F"):
                pieces += [length, 2.0]
                length = 0.0
            else:
                length += 1
        pieces.append(length)
    return max(pieces, default=0.0)


def plan(rows: Sequence[Sequence[str]]) -> list[int] | None:
    """Column widths (percent of the page, multiples of `STEP`, summing to 100) for a table given
    as rows of cell HTML, heading row first; None when it must become records."""
    columns = max((len(r) for r in rows), default=0)
    if columns == 0 or columns > MAX_COLUMNS:
        return None
    units = 100 // STEP

    def em(row: int, cell: str) -> float:
        return longest_word(cell) * CHAR_EM * (BOLD if row == 0 else 1.0)

    need = [
        math.ceil((max((em(i, r[c]) for i, r in enumerate(rows) if c < len(r)), default=0) + CELL_EM) / PAGE_EM * units)
        for c in range(columns)
    ]
    if sum(need) > units:
        return None
    planned = widths([[" ".join(html.unescape(_TAG.sub(" ", cell)).split()) for cell in r] for r in rows])
    spare = units - sum(need)
    exact = [p / 100 * spare for p in planned]
    got = [n + int(e) for n, e in zip(need, exact, strict=True)]
    order = sorted(range(columns), key=lambda i: (int(exact[i]) - exact[i], i))
    for i in order[: units - sum(got)]:
        got[i] += 1
    return [g * STEP for g in got]


def records(headings: list[str], rows: list[list[str]]) -> str:
    """Rows as records: each a `<dl>` of heading → cell. A cell under an empty heading (the
    top-left corner of a matrix) is the record's title, a paragraph before its list; empty cells
    are left out, as a reader skips an empty cell."""
    out = ['<div class="records">\n']
    for row in rows:
        title = [cell for heading, cell in zip(headings, row, strict=False) if not heading.strip() and cell.strip()]
        pairs = [(heading, cell) for heading, cell in zip(headings, row, strict=False) if heading.strip() and cell.strip()]
        out.append('<div class="record">\n')
        out += [f'<p class="record-title">{cell}</p>\n' for cell in title]
        if pairs:
            out.append("<dl>\n")
            for number, (heading, cell) in enumerate(pairs):
                first = ' class="first"' if number == 0 and not title else ""
                out.append(f"<dt{first}>{heading}</dt>\n<dd{first}>{cell}</dd>\n")
            out.append("</dl>\n")
        out.append("</div>\n")
    out.append("</div>\n")
    return "".join(out)


def ebook_tables(page: str) -> str:
    """`page` with every table laid out for e-readers: planned column widths, or records."""

    def rewrite(match: re.Match[str]) -> str:
        body = match.group(1)
        head = _HEAD.search(body)
        if head is None:
            return match.group(0)
        rows = [_CELL.findall(row) for row in _ROW.findall(body)]
        cols = plan(rows)
        if cols is None:
            heading_row = _ROW.search(head.group(1))
            headings = _CELL.findall(heading_row.group(1)) if heading_row else []
            return records(headings, [_CELL.findall(row) for row in _ROW.findall(body[head.end() :])])
        return '<table class="fit"><colgroup>' + "".join(f'<col class="w{w}"/>' for w in cols) + f"</colgroup>{body}</table>\n"

    return _TABLE.sub(rewrite, page)
