"""`build.py serve`: a real server in its own process, edits to a copy of a bank, and what a client
(plain HTTP, then headless Chromium) sees: the edit, the problems of a broken edit with their
file:line, the fix; a clear error when the port is taken; a clean stop on Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, Browser, BrowserError
from tests.conftest import ROOT, copy_bank

ARTIFACTS = ROOT / "tests" / "artifacts" / "web"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    proc: subprocess.Popen[str]
    port: int
    lines: list[str]  # what it printed so far (stdout and stderr)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str = "/") -> str:
        with urllib.request.urlopen(self.url(path), timeout=10) as response:
            return str(response.read().decode("utf-8"))

    def stop(self) -> tuple[int, str]:
        """Ctrl-C, as a terminal sends it; the exit status and the rest of what it printed."""
        self.proc.send_signal(signal.SIGINT)
        rest, _ = self.proc.communicate(timeout=30)
        return self.proc.returncode, rest


@contextmanager
def serving(source: Path, out: Path, *options: str) -> Iterator[Served]:
    port = free_port()
    command = [sys.executable, str(ROOT / "build.py"), "serve", "--source", str(source), "--out", str(out), "--port", str(port), *options]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "400"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=source.parent)
    served = Served(proc, port, [])
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            served.lines.append(line.rstrip("\n"))
            if line.startswith("serving "):
                break
        else:
            pytest.fail("serve stopped before serving:\n" + "\n".join(served.lines))
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def until(check: Callable[[], bool], timeout: float, step: float = 0.02) -> float:
    """Seconds until `check()` holds (fails the test after `timeout`)."""
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout:
            pytest.fail(f"not seen within {timeout} s")
        time.sleep(step)
    return time.perf_counter() - start


def duplicate_key(chapter: Path, key: str) -> tuple[str, int, int]:
    """The chapter's text with its first `key:` line written twice; the two line numbers."""
    lines = chapter.read_text().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith(f"    {key}: "))
    return "".join([*lines[: first + 1], lines[first], *lines[first + 1 :]]), first + 1, first + 2


def test_serve_rebuilds_on_save_shows_problems_and_stops_cleanly(tmp_path: Path) -> None:
    source = copy_bank("minimal", tmp_path)
    out = tmp_path / "output"
    chapter = source / "chapters" / "basics.yaml"
    original = chapter.read_text()
    with serving(source, out) as served:
        assert served.lines[-1] == f"serving Minimal Bank at {served.url()}  (card preview: {served.url('/preview/')})"
        home = served.get("/")
        assert '<h1 id="book-title">Minimal Bank</h1>' in home and '<script src="/_deckbook/live.js"' in home
        assert "<iframe " in served.get("/preview/ch01.html")
        with urllib.request.urlopen(served.url("/_deckbook/events"), timeout=10) as events:
            first = json.loads(events.readline().decode().removeprefix("data: "))
        assert first["broken"] is False and first["generation"] >= 1

        chapter.write_text(original.replace("durability of objects over a year.", "durability of objects over a year, said twice."))
        until(lambda: "said twice" in served.get("/ch01.html"), 10)
        until(lambda: "said twice" in served.get("/preview/ch01.html"), 10)  # the preview follows the site

        broken, first_line, line = duplicate_key(chapter, "level")
        chapter.write_text(broken)
        until(lambda: f"{chapter}:{line}" in served.get("/ch02.html"), 10)
        page = served.get("/ch02.html")
        assert f"duplicate key &#39;level&#39; (first at line {first_line})" in page and "bas-durability" not in page
        assert "duplicate key" in served.get("/preview/")  # the card preview too

        chapter.write_text(original)
        until(lambda: "bas-durability" in served.get("/ch01.html"), 10)
        assert "said twice" not in served.get("/ch01.html")
        code, rest = served.stop()
    printed = "\n".join(served.lines) + rest
    assert code == 0, printed
    assert f"{chapter}:{line}: error: duplicate key 'level' (first at line {first_line})" in printed  # the terminal shows it too
    assert printed.rstrip().endswith("stopped")
    assert not (out / "minimal-test-html").exists() and not list(out.glob("*.apkg"))  # the release outputs are never written
    assert not (source / "deckbook.lock").exists()  # nor the ledger


def test_a_broken_template_shows_where_and_its_removal_restores_the_page(tmp_path: Path) -> None:
    source = copy_bank("minimal", tmp_path)
    mine = tmp_path / "mine"
    (mine / "web").mkdir(parents=True)
    with serving(source, tmp_path / "output", "--templates", str(mine)) as served:
        override = mine / "web" / "home.html.jinja"
        override.write_text(
            '{% extends "web/_page.html.jinja" %}\n{% block title %}Mine{% endblock %}\n{% block body %}{{ oops( }}{% endblock %}\n'
        )
        until(lambda: '<span class="where">mine/web/home.html.jinja:3</span>' in served.get("/"), 10)
        assert "template: unexpected &#39;}&#39;" in served.get("/ch01.html")
        override.write_text(
            '{% extends "web/_page.html.jinja" %}\n{% block title %}Mine{% endblock %}\n{% block body %}<h1>My home</h1>{% endblock %}\n'
        )
        until(lambda: "<h1>My home</h1>" in served.get("/"), 10)
        override.unlink()
        until(lambda: '<h1 id="book-title">Minimal Bank</h1>' in served.get("/"), 10)
        assert served.stop()[0] == 0


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    source = copy_bank("minimal", tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, str(ROOT / "build.py"), "serve", "--source", str(source), "--port", str(port)]
        run = subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path, env={**os.environ, "COLUMNS": "400"}
        )
    assert run.returncode == 1
    assert (
        run.stderr.strip()
        == f"build.py: error: port {port} on 127.0.0.1 is already in use; stop what uses it or choose another with --port N"
    )


def test_port_is_for_serve_only(tmp_path: Path) -> None:
    from deckbook.cli import main

    assert main(["check", "--port", "9000", "--source", str(tmp_path)]) == 2


SHOWN = "(() => { const t = document.body ? document.body.innerText : ''; return t; })()"


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_an_edited_answer_is_in_the_browser_within_two_seconds(tmp_path: Path) -> None:
    """The shipped bank, a browser showing the chapter: save an edited answer, and the page shows it
    (rebuild, event, reload) in under 2 s; a broken save shows its file:line; the fix brings the page back."""
    source = copy_bank("shipped", tmp_path)
    chapter = source / "chapters" / "compute.yaml"
    original = chapter.read_text()
    answer = re.search(r"    answer: \|\n      (\S[^\n]*)", original)
    assert answer is not None
    timings = []
    with serving(source, tmp_path / "output") as served, Browser.start(tmp_path / "chromium") as browser:
        page = browser.page(width=1280, height=900)
        page.goto(served.url("/ch03.html"))

        def shows(text: str) -> Callable[[], bool]:
            def check() -> bool:
                try:
                    return text in str(page.evaluate(SHOWN, timeout=5))
                except BrowserError:  # between two documents while it reloads
                    return False

            return check

        assert shows("Compute")()
        for n in range(3):
            word = f"Zebrafinch{n}"
            chapter.write_text(original.replace(answer.group(1), f"{answer.group(1)} {word}", 1))
            timings.append(until(shows(word), 10))
            time.sleep(0.3)
        page.screenshot(ARTIFACTS / "serve-edited.png")

        broken, first_line, line = duplicate_key(chapter, "kind")
        chapter.write_text(broken)
        until(shows(f"{chapter}:{line}: error: duplicate key 'kind' (first at line {first_line})"), 10)
        page.screenshot(ARTIFACTS / "serve-problems.png")
        chapter.write_text(original)
        until(shows("Compute"), 10)
        assert "duplicate key" not in page.evaluate(SHOWN)
        exceptions = [e for e in page.events if e["method"] == "Runtime.exceptionThrown"]
        code, _ = served.stop()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "serve-timing.json").write_text(json.dumps({"edit_to_browser_seconds": timings}))
    assert code == 0 and exceptions == []
    assert max(timings) < 2.0, timings


IGNORING_SIGINT = (  # then exec: an ignored signal stays ignored
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def test_ctrl_c_stops_serve_started_with_sigint_ignored(tmp_path: Path) -> None:
    """A process started by a parent that ignores SIGINT (a background job, a test runner) inherits
    that, across exec; serve, which says "Ctrl-C stops", installs its own handler."""
    source, out = copy_bank("minimal", tmp_path), tmp_path / "out"
    serve = [str(ROOT / "build.py"), "serve", "--source", str(source), "--out", str(out), "--port", str(free_port())]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "400"}
    command = [sys.executable, "-c", IGNORING_SIGINT, *serve]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("watching "):
                break
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "stopped" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
