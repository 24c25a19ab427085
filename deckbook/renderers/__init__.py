"""The output formats: one module each, and this registry. Adding a format = a module + an entry."""

from __future__ import annotations

from deckbook.renderers.anki import AnkiRenderer
from deckbook.renderers.base import Renderer

RENDERERS: dict[str, type[Renderer]] = {
    "anki": AnkiRenderer,
}
