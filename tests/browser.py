"""Headless Chromium driven over the DevTools protocol through a pipe: no driver, no websocket,
no library. For tests that need a real browser to act (type into a page, open a <details>, wait
for a reload) and to report what went wrong (console errors, uncaught exceptions, failed loads).

    with Browser.start(tmp_path) as browser:
        page = browser.page(width=360, dark=True)
        page.goto(url)
        page.evaluate("document.title")
        assert page.errors == []
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--remote-debugging-pipe",
         "--allow-file-access-from-files"]  # fmt: skip


class BrowserError(RuntimeError):
    """The browser answered a command with an error, or did not answer in time."""


class Browser:
    """One Chromium process; commands go through fds 3 (in) and 4 (out) as NUL-terminated JSON."""

    def __init__(self, proc: subprocess.Popen[bytes], to_browser: int, from_browser: int) -> None:
        self.proc = proc
        self._out = to_browser
        self._next = 0
        self._lock = threading.Lock()
        self._answers: dict[int, queue.Queue[dict[str, Any]]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}  # session id → its events, in order
        self._reader = threading.Thread(target=self._read, args=(from_browser,), daemon=True)
        self._reader.start()

    @staticmethod
    @contextmanager
    def start(profile: Path) -> Iterator[Browser]:
        assert CHROMIUM is not None
        to_read, to_write = os.pipe()  # we write commands; Chromium reads them on fd 3
        from_read, from_write = os.pipe()  # Chromium writes answers on fd 4; we read them

        def fds() -> None:  # in the child: copies first, so that neither pipe end is already 3 or 4
            read, write = os.dup(to_read), os.dup(from_write)
            os.dup2(read, 3)
            os.dup2(write, 4)

        proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=fds,  # noqa: PLW1509 - the only way to hand Chromium fds 3 and 4
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_read)
        os.close(from_write)
        browser = Browser(proc, to_write, from_read)
        try:
            yield browser
        finally:
            with suppress(BrowserError, OSError):
                browser.call("Browser.close", timeout=5)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            os.close(to_write)

    def _read(self, fd: int) -> None:
        buffer = b""
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        waiting = self._answers.get(message["id"])
                    if waiting is not None:
                        waiting.put(message)
                else:
                    self.events.setdefault(message.get("sessionId", ""), []).append(message)

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 60) -> dict[str, Any]:
        with self._lock:
            self._next += 1
            number = self._next
            answer: queue.Queue[dict[str, Any]] = queue.Queue()
            self._answers[number] = answer
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        try:
            got = answer.get(timeout=timeout)
        except queue.Empty:
            raise BrowserError(f"{method}: no answer in {timeout} s") from None
        finally:
            with self._lock:
                self._answers.pop(number, None)
        if "error" in got:
            raise BrowserError(f"{method}: {got['error']}")
        result: dict[str, Any] = got.get("result", {})
        return result

    def page(self, width: int = 1280, height: int = 900, dark: bool = False, phone: bool = True) -> Page:
        """A new tab of `width` × `height` CSS pixels, in the light or dark colour scheme.

        With `phone`, a screen narrower than 600 px is a mobile browser's: the page's own
        `<meta name="viewport">` decides its layout width (980 px without one), as for a web page.
        Without it every width is a window's, as a reading system lays out an e-book's documents
        (which carry no viewport of their own in a reflowable book)."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, phone)
        for domain in ("Page", "Runtime", "Log"):
            page.call(f"{domain}.enable")
        page.viewport(width, height)
        page.call("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
        return page


class Page:
    """One tab: navigate, evaluate script, read what went wrong."""

    def __init__(self, browser: Browser, session: str, phone: bool = True) -> None:
        self.browser = browser
        self.session = session
        self.phone = phone

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60) -> dict[str, Any]:
        return self.browser.call(method, params, self.session, timeout)

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.browser.events.get(self.session, [])

    def viewport(self, width: int, height: int) -> None:
        """Lay the page out as a screen of `width` × `height` CSS pixels (below a headless window's minimum too)."""
        mobile = self.phone and width < 600
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def goto(self, url: str, timeout: float = 60) -> None:
        """Open `url` and wait for its load event."""
        seen = len(self.events)
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while not any(e["method"] == "Page.loadEventFired" for e in self.events[seen:]):
            if time.monotonic() > deadline:
                raise BrowserError(f"{url} did not load in {timeout} s")
            time.sleep(0.02)

    def evaluate(self, expression: str, timeout: float = 60) -> Any:
        """The value of `expression` (awaited if it is a promise), as JSON-able data."""
        got = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, timeout)
        if "exceptionDetails" in got:
            raise BrowserError(
                f"{expression[:80]}…: {got['exceptionDetails'].get('exception', {}).get('description', got['exceptionDetails'])}"
            )
        return got["result"].get("value")

    @property
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads so far."""
        out = []
        for e in self.events:
            params = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                out.append(str(params["exceptionDetails"].get("exception", {}).get("description") or params["exceptionDetails"]["text"]))
            elif e["method"] == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif e["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                out.append(f"{params['entry'].get('url', '')}: {params['entry']['text']}")
        return out

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", params)["data"]))
