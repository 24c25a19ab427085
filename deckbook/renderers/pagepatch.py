"""Page numbers written into a part that is already laid out.

A part of the handbook is laid out once, with every page number it prints standing in as zeros
of the right number of digits ("000" for page 117) and its page counter starting at 1; the real
numbers are only known once every part before it, and every part it refers to, has been laid
out. `patch` writes them into the laid-out boxes just before the PDF is drawn, so a part costs
one layout however the numbers around it move.

This holds because the numbers cannot move anything on the page:

- a page number in the text is an element carrying ``data-deckbook-page`` (the anchor it names),
  set in tabular figures (`SLOT_CSS`), so "117" is as wide as "000": the line breaks, the page
  breaks and every other box stay where they are. Each patched number is measured again; if a
  font's figures are not of one width after all (beyond `TOLERANCE`), `patch` says so and the
  caller lays the part out again with the real numbers;
- a page number in a page margin (`counter(page)` in an ``@page`` margin box) sits in a box of
  its own: its text is recomputed for the real page and the box keeps its alignment (left,
  centre or right) in the margin.

WeasyPrint keeps a laid-out text box's string and re-shapes it when drawing (its Pango layout is
released after layout), which is what makes writing a new string into it sound; this module
depends on that (the engine is pinned, see `handbook.LAYOUT_ENGINE`), and the handbook tests
compare every printed page number with where its anchor landed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import weasyprint
from weasyprint.formatting_structure import boxes
from weasyprint.text.line_break import Layout, line_size

from deckbook.renderers.handbook import ATTRIBUTE

SLOT_CSS = f"[{ATTRIBUTE}] {{ font-variant-numeric: tabular-nums; white-space: nowrap; }}"
TOLERANCE = 0.05  # points (1/70 mm): what a patched number may differ in width from its placeholder


@dataclass(frozen=True)
class Patched:
    """How `patch` went: `ok` is False when some number would not fit its placeholder's width
    (or a margin prints the page in a way this module does not recompute)."""

    ok: bool
    numbers: int  # page numbers written in the text
    folios: int  # page numbers written in the margins


def patch(doc: weasyprint.Document, first_page: int, values: Mapping[str, int]) -> Patched:
    """Write the part's real page numbers into `doc`: its first page is `first_page` of the book,
    and the number standing for anchor A becomes ``values[A]`` (every anchor must be there)."""
    numbers = folios = 0
    for index, page in enumerate(doc.pages):
        root = page._page_box  # the laid-out boxes; see the module docstring
        for box in root.children[0].descendants():
            anchor = box.element.get(ATTRIBUTE) if isinstance(box, boxes.InlineBox) and box.element is not None else None
            if anchor is None:
                continue
            for text in _texts(box):
                if not _rewrite(text, str(values[anchor]), keep_width=True):
                    return Patched(False, numbers, folios)
                numbers += 1
        for margin in root.children[1:]:
            if isinstance(margin, boxes.MarginBox) and _prints_page(margin):
                label = _content_text(margin, first_page + index)
                if label is None:
                    return Patched(False, numbers, folios)
                _rewrite_margin(margin, label)
                folios += 1
    return Patched(True, numbers, folios)


def _texts(box: boxes.Box) -> Iterator[boxes.TextBox]:
    for child in box.descendants():
        if isinstance(child, boxes.TextBox):
            yield child


def _width(box: boxes.TextBox, text: str) -> float:
    layout = Layout(box.style)
    layout.set_text(text)
    line, _ = layout.get_first_line()
    width, _ = line_size(line, box.style)
    return float(width)


def _rewrite(box: boxes.TextBox, text: str, *, keep_width: bool) -> bool:
    if keep_width and abs(_width(box, text) - box.width) > TOLERANCE:
        return False
    box.text = text
    box.pango_layout.text = text
    return True


def _prints_page(margin: boxes.MarginBox) -> bool:
    return any(kind == "counter()" and value[0] == "page" for kind, value in _content(margin))


def _content(margin: boxes.MarginBox) -> tuple[tuple[str, tuple[str, ...] | str], ...]:
    content = margin.style["content"]
    return tuple(content) if isinstance(content, (tuple, list)) else ()


def _content_text(margin: boxes.MarginBox, page: int) -> str | None:
    """The margin box's text on `page`: strings and the page counter in decimal; anything else
    (another counter style, `counter(pages)`, running strings mixed in) is not recomputed here."""
    out = []
    for kind, value in _content(margin):
        if kind == "string" and isinstance(value, str):
            out.append(value)
        elif kind == "counter()" and tuple(value) == ("page", "decimal"):
            out.append(str(page))
        else:
            return None
    return "".join(out)


def _rewrite_margin(margin: boxes.MarginBox, label: str) -> None:
    """`label` as the margin box's only text, the box re-sized around it and kept where its
    alignment puts it (a right-aligned folio keeps its right edge)."""
    texts = list(_texts(margin))
    if len(texts) != 1:
        return
    text = texts[0]
    delta = _width(text, label) - text.width
    align = str(margin.style["text_align_all"])
    shift = {"right": -delta, "end": -delta, "center": -delta / 2}.get(align, 0.0)
    _rewrite(text, label, keep_width=False)
    for box in margin.descendants():
        if isinstance(box, boxes.Box):
            box.position_x += shift
            box.width += delta
