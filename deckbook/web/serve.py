"""`build.py serve`: the web edition and the card preview, rebuilt on every save, reloaded in the browser.

Contract: `serve(options, say, warn)` listens on 127.0.0.1 (exit status 1 with a clear message when
the port is taken), builds into a private temporary folder (never the release outputs, never
the ledger), serves it (`deckbook.web.server`), and watches the bank and the templates
(watchfiles). After each save it rebuilds (`deckbook.web.live`): the browser reloads the pages
that changed, or shows the problems (file:line and message) while there are any; the terminal
shows them too. Ctrl-C (or SIGTERM) stops it cleanly: exit status 0, the private folder removed.
"""

from __future__ import annotations

import errno
import logging
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import jinja2
import watchfiles

from deckbook import i18n
from deckbook.model import Location
from deckbook.problems import Problem, Severity, count, error
from deckbook.templating import TEMPLATES_DIR, make_env
from deckbook.web import live
from deckbook.web.server import HOST, Board, make_server

DEBOUNCE_MS = 30  # editors write a file in several steps; wait this long for the last one
STEP_MS = 10
IDLE_MS = 200  # the watcher reports "nothing" this often; its first report says it has started


@dataclass(frozen=True)
class ServeOptions:
    source: Path
    port: int = 8000
    templates: Path | None = None
    out: Path | None = None  # release outputs: only their Markdown cache is read, to start faster


Say = Callable[[str], None]


def serve(options: ServeOptions, say: Say, warn: Say) -> int:
    """Run until interrupted; 0 when stopped by Ctrl-C, 1 when the port is taken."""
    logging.getLogger("watchfiles").setLevel(logging.ERROR)  # it would announce Ctrl-C itself
    root = Path(tempfile.mkdtemp(prefix="deckbook-serve-"))
    config = live.Config(options.source, root, options.templates, options.out)
    board = Board()
    try:
        try:
            server = make_server(options.port, config.site, board)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            warn(f"build.py: error: port {options.port} on {HOST} is already in use; stop what uses it or choose another with --port N")
            return 1
        previous = signal.signal(signal.SIGTERM, _interrupt)
        # Ctrl-C stops, even when the process was started with SIGINT ignored (as a background job,
        # or by a parent that ignores it): serve is interactive, and it says "Ctrl-C stops"
        previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        try:
            state = live.State()
            live.seed(config, state)
            config.site.mkdir(parents=True, exist_ok=True)
            _rebuild(config, state, board, say, warn)
            thread.start()
            watching = False
            templates = [p.resolve() for p in _watched(options)[1:]]
            changes_seen = watchfiles.watch(
                *_watched(options), debounce=DEBOUNCE_MS, step=STEP_MS, rust_timeout=IDLE_MS, yield_on_timeout=True, raise_interrupt=False
            )
            for changes in changes_seen:
                if not watching:  # the watcher runs from here on: catch up with saves made while it started, then say so
                    watching = True
                    state.env = None
                    _rebuild(config, state, board, say, warn, quiet=True)
                    _announce(options, state, server.server_address[1], say)
                if not changes:
                    continue
                if any(Path(path).resolve().is_relative_to(root) for _, path in changes for root in templates):
                    state.env = None  # a template was added, removed or edited: compile them afresh
                _rebuild(config, state, board, say, warn)
        except KeyboardInterrupt:
            pass
        finally:
            board.stop()
            if thread.is_alive():
                server.shutdown()
            server.server_close()
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)
        say("stopped")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _announce(options: ServeOptions, state: live.State, port: int, say: Say) -> None:
    say(f"serving {state.title or options.source} at http://{HOST}:{port}/  (card preview: http://{HOST}:{port}/preview/)")
    say(f"watching {live.shown(options.source)} and the templates; Ctrl-C stops")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _watched(options: ServeOptions) -> list[Path]:
    paths = [options.source, TEMPLATES_DIR]
    if options.templates is not None:
        paths.append(options.templates)
    return [p for p in paths if p.exists()]


def _rebuild(config: live.Config, state: live.State, board: Board, say: Say, warn: Say, *, quiet: bool = False) -> None:
    """One rebuild, published to the browser and the terminal (`quiet`: only if it changed something)."""
    try:
        result = live.rebuild(config, state, board.published)
    except jinja2.TemplateError as exc:  # a template being edited: say where, keep serving
        where = (
            Location(live.shown(Path(exc.filename)), exc.lineno) if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename else None
        )
        result = live.Result(False, (error(where or Location("templates"), f"template: {exc}"),))
    except Exception as exc:  # a bug in deckbook: the terminal and the page say so; the next save tries again
        result = live.Result(False, (error(Location("deckbook"), f"internal error: {type(exc).__name__}: {exc}"),))
    if result.ok and quiet and not result.changed:
        return
    for p in result.problems:
        warn(str(p))
    if result.ok:
        pages = sum(1 for name in result.changed if name.endswith(".html"))
        say(f"rebuilt in {result.seconds:.2f} s: {len(result.changed)} files changed ({pages} pages)")
        return
    errors, warnings = count(result.problems)
    board.broken(problems_page(result.problems, state, config.templates))
    warn(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}: the browser shows them until they are fixed")


def problems_page(problems: Sequence[Problem], state: live.State, templates: Path | None) -> bytes:
    """The page every URL shows while the bank has problems, in the book's language when known."""
    env = make_env(templates)
    i18n.install(env, i18n.messages(state.language, env))
    ordered = sorted(problems, key=lambda p: p.severity is not Severity.ERROR)
    page = env.get_template("web/live/problems.html.jinja").render(problems=ordered, title=state.title, language=state.language)
    return page.encode("utf-8")
