"""The output formats: one module each, and this registry. Adding a format = a module + an entry.

Order matters only for speed: the PDF runs before the EPUB so that the e-book's page list can
reuse the A4 layout's page map instead of laying the book out again.
"""

from __future__ import annotations

from deckbook.renderers.anki import AnkiRenderer
from deckbook.renderers.base import Renderer
from deckbook.renderers.epub import EpubRenderer
from deckbook.renderers.pdf import PdfRenderer

RENDERERS: dict[str, type[Renderer]] = {
    "anki": AnkiRenderer,
    "pdf": PdfRenderer,
    "epub": EpubRenderer,
}
