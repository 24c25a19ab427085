"""The live preview's HTTP server: the private site folder, the problems page, and reloads.

Contract: `make_server(port, site, board)` listens on 127.0.0.1 only (an `OSError` when the port
is taken) and serves `site` as a static host would, with three differences:

- every HTML page gets one script (``/_deckbook/live.js``) that listens to
  ``/_deckbook/events`` (Server-Sent Events) and reloads the page when a rebuild changed it,
  when the bank broke, or when it was fixed;
- while the last rebuild found problems, every HTML page is the problems page (file:line and
  the message of each) instead of a stale page;
- nothing is cached by the browser (``Cache-Control: no-store``).

`Board` is the one value the rebuilding thread and the request threads share: the current
`Status`, behind a condition variable.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from deckbook.renderers.web import SEARCH, SEARCH_INDEX, SEARCH_SCRIPT
from deckbook.templating import TEMPLATES_DIR

HOST = "127.0.0.1"
PREVIEW_FOLDER = "preview"  # the card preview's pages, which the site's files do not show
EVENTS, SCRIPT = "/_deckbook/events", "/_deckbook/live.js"
KEEP_ALIVE = 10.0  # seconds between comments on an idle event stream (a closed tab is noticed then)
LIVE_JS = (TEMPLATES_DIR / "web" / "live" / "live.js").read_bytes()


@dataclass(frozen=True)
class Status:
    """What the server shows: the site (with the generation each page last changed in), or the
    problems page when the last rebuild failed."""

    generation: int = 0
    versions: Mapping[str, int] = field(default_factory=dict)  # URL path → generation it last changed in
    problems_page: bytes | None = None  # set while the bank has problems

    def as_json(self) -> str:
        return json.dumps({"generation": self.generation, "broken": self.problems_page is not None, "versions": self.versions})


def url_path(name: str) -> str:
    """The URL path of a site file: "ch01.html" → "/ch01.html"."""
    return "/" + name


def shown_by(name: str, pages: Iterable[str]) -> list[str]:
    """The URL paths of the pages that show site file `name`: a page itself; the search index and
    script only the search page; any other file (a stylesheet, an image) every page of its folder."""
    if name.endswith(".html"):
        return [url_path(name)]
    if name in (SEARCH_INDEX, SEARCH_SCRIPT):
        return [url_path(SEARCH)]
    folder = url_path(name).rsplit("/", 1)[0] + "/"
    return [p for p in pages if p.startswith(folder) and (folder != "/" or not p.startswith(f"/{PREVIEW_FOLDER}/"))]


class Board:
    """The current `Status`, shared between threads: rebuilds publish, event streams wait."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._status = Status()
        self._stopping = False

    @property
    def status(self) -> Status:
        with self._changed:
            return self._status

    def published(self, changed: Iterable[str]) -> Status:
        """A good rebuild: the pages in `changed` (site paths) are new, and so are the pages that
        show another changed file (`shown_by`)."""
        with self._changed:
            old = self._status
            generation = old.generation + 1
            versions = dict(old.versions)
            for name in changed:
                versions.update(dict.fromkeys(shown_by(name, versions), generation))
            self._status = Status(generation, versions, None)
            self._changed.notify_all()
            return self._status

    def broken(self, page: bytes) -> Status:
        """A failed rebuild: every page shows `page` until the next good one."""
        with self._changed:
            self._status = replace(self._status, generation=self._status.generation + 1, problems_page=page)
            self._changed.notify_all()
            return self._status

    def wait(self, after: int, timeout: float) -> Status | None:
        """The status once its generation is past `after` (None on timeout or when stopping)."""
        with self._changed:
            self._changed.wait_for(lambda: self._stopping or self._status.generation > after, timeout)
            return None if self._stopping or self._status.generation <= after else self._status

    @property
    def stopping(self) -> bool:
        with self._changed:
            return self._stopping

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()


def inject(page: bytes, status: Status, path: str) -> bytes:
    """`page` with the live script before </body>; it knows which version of the page it is."""
    broken = status.problems_page is not None
    version = status.generation if broken else status.versions.get(path, 0)
    tag = f'<script src="{SCRIPT}" data-version="{version}" data-broken="{int(broken)}"></script>\n'.encode()
    at = page.rfind(b"</body>")
    return page + tag if at < 0 else page[:at] + tag + page[at:]


class Handler(SimpleHTTPRequestHandler):
    """Static files from the site folder, plus the live script, the event stream and the problems page."""

    board: Board  # set by make_server on a subclass of its own

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == EVENTS:
            self._events()
        elif path == SCRIPT:
            self._send("text/javascript; charset=utf-8", LIVE_JS)
        elif path.endswith(("/", ".html")):
            self._page(path + "index.html" if path.endswith("/") else path)
        else:
            super().do_GET()

    def _page(self, path: str) -> None:
        status = self.board.status
        if status.problems_page is not None:
            self._send("text/html; charset=utf-8", inject(status.problems_page, status, path))
            return
        file = Path(self.translate_path(path))
        try:
            data = file.read_bytes()
        except OSError:
            self.send_error(404, "No such page")
            return
        self._send("text/html; charset=utf-8", inject(data, status, path))

    def _send(self, content_type: str, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _events(self) -> None:
        """Server-Sent Events: the current status at once, then each new one, until the server stops."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        status: Status | None = self.board.status
        seen = -1
        try:
            while status is not None or not self.board.stopping:
                if status is not None:
                    self.wfile.write(f"data: {status.as_json()}\n\n".encode())
                    seen = status.generation
                else:
                    self.wfile.write(b": idle\n\n")
                self.wfile.flush()
                status = self.board.wait(seen, KEEP_ALIVE)
        except (BrokenPipeError, ConnectionResetError):
            return

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: the terminal shows rebuilds and problems only."""


class Server(ThreadingHTTPServer):
    daemon_threads = True  # an open event stream never keeps the process alive
    block_on_close = False


def make_server(port: int, site: Path, board: Board) -> Server:
    """A server for `site` on 127.0.0.1:`port` (0: any free port); raises OSError if it is taken."""
    handler = type("LiveHandler", (Handler,), {"board": board})
    return Server((HOST, port), partial(handler, directory=str(site)))
