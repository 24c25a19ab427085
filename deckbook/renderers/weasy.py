"""WeasyPrint plumbing shared by the handbook and the flashcards: one font configuration, a safe fetcher."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import weasyprint
import weasyprint.urls
from weasyprint.text.fonts import FontConfiguration

from deckbook.markup import IMAGE_TYPES
from deckbook.renderers import fontsubset
from deckbook.renderers.handbook import BANK_BASE
from deckbook.templating import TEMPLATES_DIR

fontsubset.install()  # the same font subsets on every machine (see fontsubset's docstring)


@dataclass(frozen=True)
class Styles:
    """Stylesheets parsed with their own font configuration. Each output gets a fresh one: a
    configuration shared between documents keeps every @font-face ever registered, and which
    face then serves, say, bold monospace would depend on what the process laid out before."""

    fonts: FontConfiguration
    sheets: tuple[weasyprint.CSS, ...]


def styles(*sheets: tuple[str, str | None]) -> Styles:
    """Parse (css, base url) pairs; relative url()s (fonts) resolve against their base."""
    fonts = FontConfiguration()
    return Styles(fonts, tuple(weasyprint.CSS(string=css, base_url=base, font_config=fonts) for css, base in sheets))


class JobFetcher(weasyprint.urls.URLFetcher):  # type: ignore[misc]
    """Serve a layout only what its job holds — the bank's files it uses (media/…, fonts/…) and
    data: URLs (formulas) — and files under templates/ (the bundled fonts). No network, no other file."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        super().__init__(allowed_protocols=["file", "data"])
        self.files = dict(files)
        self.root = TEMPLATES_DIR.resolve()

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith(BANK_BASE):
            name = urllib.parse.unquote(url[len(BANK_BASE) :])
            data = self.files.get(name)
            if data is not None:
                kind = IMAGE_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")
                return weasyprint.urls.URLFetcherResponse(url, data, {"Content-Type": kind})
        elif url.startswith("file://"):
            path = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path)).resolve()
            if path.is_file() and path.is_relative_to(self.root):
                return super().fetch(url, headers)
        raise weasyprint.urls.URLFetchingError(f"deckbook does not fetch {url}")
