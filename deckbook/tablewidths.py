"""Column widths for printed tables, chosen at build time from the cells' text.

WeasyPrint's automatic table layout measures every cell's minimum and maximum content width,
repeatedly: a quarter of a handbook's layout time went there. Print tables therefore use
`table-layout: fixed` with a <colgroup> this module writes: each column gets a share of the
width that grows with the length of its longest words and of its typical cell (the square root
of the mean length, so one long column does not starve the others), never less than its longest
unbreakable word needs. Long words and code still wrap inside their cell (print.css).
"""

from __future__ import annotations

import html
import math
import re

_TABLE = re.compile(r"<table>(.*?)</table>", re.DOTALL)
_ROW = re.compile(r"<tr>(.*?)</tr>", re.DOTALL)
_CELL = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
MIN_SHARE = 0.08  # no column narrower than 8 % of the table


def widths(rows: list[list[str]]) -> list[float]:
    """Percentages (summing to 100) for the columns of a table given as rows of cell texts."""
    columns = max((len(r) for r in rows), default=0)
    if columns == 0:
        return []
    weights = []
    for c in range(columns):
        cells = [r[c] for r in rows if c < len(r)]
        mean = sum(len(t) for t in cells) / max(1, len(cells))
        longest_word = max((len(w) for t in cells for w in t.split()), default=1)
        weights.append(max(math.sqrt(mean) * 3, longest_word * 0.9, 1.0))
    total = sum(weights)
    shares = [max(MIN_SHARE, w / total) for w in weights]
    scale = sum(shares)
    return [round(100 * s / scale, 2) for s in shares]


def fix_tables(page: str) -> str:
    """`page` with a <colgroup> of planned widths in every <table> (rendered by Markdown)."""

    def plan(match: re.Match[str]) -> str:
        body = match.group(1)
        rows = [[" ".join(html.unescape(_TAG.sub(" ", cell)).split()) for cell in _CELL.findall(row)] for row in _ROW.findall(body)]
        cols = "".join(f'<col style="width: {w}%"/>' for w in widths(rows))
        return f'<table class="planned"><colgroup>{cols}</colgroup>{body}</table>'

    return _TABLE.sub(plan, page)
