"""A headless Chromium driven over the DevTools protocol, for tests that look at pages as a reader does.

One browser serves a whole test module: pages are loaded, resized (device metrics, so widths
below the 500 px minimum of a headless window work), measured with JavaScript and photographed
in the same process. The protocol runs over a pipe (``--remote-debugging-pipe``: requests on
file descriptor 3, replies and events on 4, each a JSON text ended by a NUL byte), so no port is
opened and nothing beyond the standard library is needed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--allow-file-access-from-files"]  # fmt: skip


class BrowserError(RuntimeError):
    """Chromium answered a request with an error, or went away."""


class Browser:
    """Chromium with one page (tab). Use as a context manager; every call waits for its reply."""

    def __init__(self, profile: Path, timeout: float = 120.0) -> None:
        if CHROMIUM is None:
            raise BrowserError("Chromium is not installed")
        to_child, self._send = os.pipe()
        self._recv, from_child = os.pipe()
        self._timeout = timeout

        def fds() -> None:  # the child reads requests on fd 3 and writes replies on fd 4
            high_in, high_out = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_child, from_child))
            os.dup2(high_in, 3)  # dup2's copies are inheritable; every other descriptor of ours is not
            os.dup2(high_out, 4)

        self._proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=fds,  # noqa: PLW1509 (descriptors 3 and 4 are the protocol's; the tests start no threads)
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(BrowserError):
            self.call("Browser.close")
        try:
            self._proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._send, self._recv):
            with contextlib.suppress(OSError):
                os.close(fd)

    def call(self, method: str, params: dict[str, Any] | None = None, *, session: bool = False) -> dict[str, Any]:
        """Send one request and return its result (events that arrive meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        os.write(self._send, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            if "method" in reply:
                self._events.append(reply)

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._recv], [], [], self._timeout)
            if not ready:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._recv, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed the pipe")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        return dict(json.loads(raw))

    def _wait_event(self, name: str) -> None:
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == name:
                    del self._events[i]
                    return
            self._events.append(self._read())

    def viewport(self, width: int, height: int) -> None:
        """Lay the page out as a screen of `width` × `height` CSS pixels."""
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.call("Emulation.setDeviceMetricsOverride", metrics, session=True)

    def open(self, url: str) -> None:
        """Load `url` and wait until it has loaded (stylesheets and images included)."""
        self._events = [e for e in self._events if e.get("method") != "Page.loadEventFired"]
        self.call("Page.navigate", {"url": url}, session=True)
        self._wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page (promises are awaited)."""
        got = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session=True)
        if "exceptionDetails" in got:
            raise BrowserError(f"JavaScript failed: {got['exceptionDetails']}")
        return got["result"].get("value")

    def screenshot(self, path: Path, *, full_page: bool = False) -> None:
        """A PNG of the viewport (or of the whole page, as tall as its content)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params, session=True)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
