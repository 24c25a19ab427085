"""WeasyPrint plumbing shared by the handbook and the flashcards: one font configuration, a safe fetcher."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import weasyprint
import weasyprint.urls
from weasyprint.text.fonts import FontConfiguration

from deckbook.markup import IMAGE_TYPES
from deckbook.templating import TEMPLATES_DIR

MEDIA_BASE = "file:///deckbook-bank/"  # documents resolve media/<file> against this; the fetcher serves the job's bytes


@cache
def fonts() -> FontConfiguration:
    """One configuration per process (memoised here): every @font-face is registered once and reused by each layout."""
    return FontConfiguration()


class JobFetcher(weasyprint.urls.URLFetcher):  # type: ignore[misc]
    """Serve a layout only what its job holds: the media/ images given, and files under templates/
    (stylesheets' fonts). No network, no other file."""

    def __init__(self, media: Mapping[str, bytes]) -> None:
        super().__init__(allowed_protocols=["file"])
        self.media = dict(media)
        self.root = TEMPLATES_DIR.resolve()

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.startswith(MEDIA_BASE + "media/"):
            name = urllib.parse.unquote(url[len(MEDIA_BASE + "media/") :])
            data = self.media.get(name)
            if data is not None:
                kind = IMAGE_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")
                return weasyprint.urls.URLFetcherResponse(url, data, {"Content-Type": kind})
        elif url.startswith("file://"):
            path = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path)).resolve()
            if path.is_file() and path.is_relative_to(self.root):
                return super().fetch(url, headers)
        raise weasyprint.urls.URLFetchingError(f"deckbook does not fetch {url}")
