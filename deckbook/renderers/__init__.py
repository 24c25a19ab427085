"""The output formats: one module each, and this registry. Adding a format = a module + an entry.

Renderers are imported on first use, so commands that do not lay out pages (check, anki, an
e-book whose page map is known) never pay for importing WeasyPrint.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the registry itself stays light: `build.py` with nothing to do imports no renderer
    from deckbook.renderers.base import Renderer

REGISTRY: dict[str, str] = {
    "anki": "deckbook.renderers.anki:AnkiRenderer",
    "pdf": "deckbook.renderers.pdf:PdfRenderer",
    "flashcards": "deckbook.renderers.flashcards:FlashcardsRenderer",
    "epub": "deckbook.renderers.epub:EpubRenderer",
    "web": "deckbook.renderers.web:WebRenderer",
}
_EXTRA: dict[str, type[Renderer[Any]]] = {}  # renderers registered at run time (tests, plugins)


def names() -> list[str]:
    return list(REGISTRY) + [n for n in _EXTRA if n not in REGISTRY]


def register(name: str, renderer: type[Renderer[Any]]) -> None:
    _EXTRA[name] = renderer


def unregister(name: str) -> None:
    _EXTRA.pop(name, None)


def get(name: str) -> Renderer[Any]:
    if name in _EXTRA:
        return _EXTRA[name]()
    module, _, cls = REGISTRY[name].partition(":")
    renderer: type[Renderer[Any]] = getattr(importlib.import_module(module), cls)
    return renderer()
