"""Embedded font subsets that are the same bytes on every machine.

WeasyPrint subsets each embedded font to the glyphs a document uses, with the system's
HarfBuzz-Subset library when it is installed and with fontTools otherwise. The two give different
bytes, and fontTools stamps the current time into every subset, so the same source would give
different PDFs on different machines and from one build to the next. deckbook therefore
subsets every font itself, with the HarfBuzz that the `uharfbuzz` wheel bundles (its version is
pinned by uv.lock): same glyphs kept, same tables dropped, original glyph ids retained (the
PDF's text refers to them), no timestamps — on any system, with or without the library.

`install()` replaces the subset step of WeasyPrint's font objects (WeasyPrint is pinned to an
exact version, and `tests/test_pdf.py` checks the replacement is in force and that a build
without the system library gives identical bytes).
"""

from __future__ import annotations

from typing import Any

import uharfbuzz as hb
import weasyprint.pdf.fonts

DROP_TABLES = ("BASE", "DSIG", "EBDT", "EBLC", "EBSC", "GPOS", "GSUB", "JSTF", "LTSH", "PCLT", "SVG ")


def subset_font(data: bytes, index: int, glyphs: list[int], *, hinting: bool, notdef_outline: bool) -> bytes:
    """`data` (one face of a font file) reduced to `glyphs`, keeping every glyph's id."""
    face = hb.Face(hb.Blob(data), index)
    plan = hb.SubsetInput()
    plan.glyph_set.update(glyphs)
    # tables HarfBuzz does not know (e.g. SIL's Graphite extras) are dropped: a PDF needs none of them
    flags = hb.SubsetFlags.RETAIN_GIDS | hb.SubsetFlags.DESUBROUTINIZE
    if not hinting:
        flags |= hb.SubsetFlags.NO_HINTING
    if notdef_outline:
        flags |= hb.SubsetFlags.NOTDEF_OUTLINE
    plan.flags = flags
    drop = plan.sets(hb.SubsetInputSets.DROP_TABLE_TAG)
    drop.update(_tag(t) for t in DROP_TABLES)
    subset = hb.subset(face, plan)
    if subset is None:
        return data  # HarfBuzz could not subset it: embed the whole face rather than fail
    return bytes(subset.blob.data)


def _tag(name: str) -> int:
    raw = name.encode("ascii")
    return int.from_bytes(raw, "big")


def _subset(self: Any, to_unicode: dict[int, Any], hinting: bool) -> None:
    """Replacement for WeasyPrint's `Font.subset` (same contract: shrink `self.file_content`)."""
    if not to_unicode:
        return
    self.file_content = subset_font(self.file_content, self.index, sorted(to_unicode), hinting=hinting, notdef_outline=bool(self.missing))


def install() -> None:
    """Make every WeasyPrint document in this process subset fonts with `subset_font`."""
    weasyprint.pdf.fonts.Font.subset = _subset


def installed() -> bool:
    return weasyprint.pdf.fonts.Font.subset is _subset
