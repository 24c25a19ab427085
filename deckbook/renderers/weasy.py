"""WeasyPrint plumbing shared by the handbook and the flashcards: one font configuration, a safe fetcher."""

from __future__ import annotations

import urllib.parse
from functools import cache
from pathlib import Path
from typing import Any

import weasyprint
import weasyprint.urls
from weasyprint.text.fonts import FontConfiguration

from deckbook.templating import TEMPLATES_DIR


@cache
def fonts() -> FontConfiguration:
    """One configuration per process: every @font-face is registered once and reused by each layout."""
    return FontConfiguration()


class LocalFetcher(weasyprint.urls.URLFetcher):  # type: ignore[misc]
    """Fetch only files under templates/ and the bank's media/ folder: no network, no other files."""

    def __init__(self, source_dir: Path) -> None:
        super().__init__(allowed_protocols=["file"])
        self.roots = (TEMPLATES_DIR.resolve(), (source_dir / "media").resolve())

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.startswith("file://"):
            path = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path)).resolve()
            if path.is_file() and any(path.is_relative_to(root) for root in self.roots):
                return super().fetch(url, headers)
        raise weasyprint.urls.URLFetchingError(f"deckbook does not fetch {url}")
