"""One rebuild of the live preview: the web edition and the card preview, into a private folder.

Contract: `rebuild(config, state, publish)` loads and validates the bank, and either reports its
problems (writing nothing: the last good files stay, and the server shows the problems instead
of them) or renders the web edition (``<root>/site/``), writes the files whose bytes changed
(removing files no longer made) and publishes their names, then does the same for the card
preview (``<root>/site/preview/``). It never writes into the source or the release outputs, nor
the ledger: it reads the ledger as the last build left it.

What makes it fast (an edited answer of a bank of 370 questions is on the page in about a
second): files whose bytes did not change are not parsed again (`State.reads`), nor Markdown
whose text did not change (`State.markdown`, seeded from the last `build`'s cache if there is
one); templates are compiled once per session; nothing but the web edition and the preview is
rendered, the deck's notes and the ledger's refresh are skipped; the web edition is published
before the preview is made; a preview page (and a chapter page) is rendered again only when
what it shows changed; only changed files are written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from deckbook import i18n
from deckbook.files import write_if_changed
from deckbook.ledger import LEDGER_NAME, Ledger
from deckbook.ledger import read as read_ledger
from deckbook.load import ReadMemo
from deckbook.model import Bank
from deckbook.options import Options
from deckbook.pipeline import blocking, build_info, check_source
from deckbook.prepared import CACHE_NAME, FieldResult, MarkdownCache, Prepared, cache_key
from deckbook.problems import Problem
from deckbook.renderers import web
from deckbook.renderers.anki_notes import Cards, card_templates
from deckbook.renderers.base import RenderContext
from deckbook.store import CACHE_DIR, Store
from deckbook.templating import make_env
from deckbook.web import preview

PREVIEW = "preview"  # the card preview's folder inside the site
SITE, STORE = "site", "store"  # inside the private folder: what the server serves; derived data, never served


@dataclass(frozen=True)
class Config:
    """What the live preview builds, and where: `root` is a private folder (the server serves its
    `site` folder)."""

    source: Path
    root: Path
    templates: Path | None = None
    out: Path | None = None  # the release output folder: its Markdown cache is read (never written)

    @property
    def site(self) -> Path:
        return self.root / SITE


@dataclass
class State:
    """What one rebuild leaves for the next (owned by the one thread that rebuilds)."""

    markdown: dict[str, FieldResult] = field(default_factory=dict)  # cache_key → result
    reads: ReadMemo = field(default_factory=dict)  # each file's last reading (`load_bank`)
    site_memo: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # web page → its key and bytes
    preview_memo: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # preview page → its key and bytes
    files: set[str] = field(default_factory=set)  # paths (relative to root) the last good rebuild wrote
    env: jinja2.Environment | None = None  # the templates, compiled once per session
    title: str = ""  # the book's title, once known
    language: str = "en"


@dataclass(frozen=True)
class Result:
    """A rebuild's outcome: `ok` (files written) or the problems that stopped it."""

    ok: bool
    problems: tuple[Problem, ...]
    changed: tuple[str, ...] = ()  # paths relative to the site whose bytes changed (or that were removed)
    seconds: float = 0.0


def seed(config: Config, state: State) -> None:
    """Start from the last `build`'s Markdown cache, when there is one (it is only read)."""
    if config.out is not None and not state.markdown:
        state.markdown.update(MarkdownCache.load(config.out / CACHE_DIR / CACHE_NAME).entries)


def rebuild(config: Config, state: State, publish: Callable[[tuple[str, ...]], object] = lambda _changed: None) -> Result:
    """Validate the bank and, if it is usable, write the web edition, `publish` what changed in it
    (so the browser can reload at once), then write the card preview and publish that."""
    start = time.perf_counter()
    checked = check_source(config.source, 1, MarkdownCache(state.markdown), state.reads)
    if checked.bank is None or checked.prepared is None or blocking(checked.problems, False):
        return Result(False, checked.problems, seconds=time.perf_counter() - start)
    bank, prepared = checked.bank, checked.prepared
    state.markdown = {cache_key(f): r for f, r in prepared}
    ledger_path = bank.source_dir / LEDGER_NAME
    ledger, ledger_problems = read_ledger(ledger_path, os.path.normpath(str(ledger_path)), bank.book.version)
    if ledger is None:
        return Result(False, checked.problems + tuple(ledger_problems), seconds=time.perf_counter() - start)
    ctx = _context(config, state, bank, prepared, ledger)
    site = web.build_site(ctx, state.site_memo)
    changed = _write(config.site, site, {n for n in state.files if not n.startswith(PREVIEW + "/")})
    publish(tuple(sorted(changed)))
    cards = {f"{PREVIEW}/{name}": data for name, data in preview.build_preview(ctx, state.preview_memo).items()}
    changed_cards = _write(config.site, cards, {n for n in state.files if n.startswith(PREVIEW + "/")})
    publish(tuple(sorted(changed_cards)))
    state.files = set(site) | set(cards)
    state.title, state.language = bank.book.title, bank.book.language
    return Result(True, checked.problems, tuple(sorted(changed + changed_cards)), time.perf_counter() - start)


def _context(config: Config, state: State, bank: Bank, prepared: Prepared, ledger: Ledger) -> RenderContext:
    """What the renderers receive. Unlike a build, the ledger is the one on disk as it is (the
    edits since the last build are not in it yet): it dates the pages and lists what changed in
    earlier releases, and the deck's notes, which only the ledger's refresh needs, are not made.
    The session keeps one template environment: a template is compiled once, and again only
    when its file changes (Jinja checks), not on every rebuild."""
    if state.env is None:
        state.env = make_env(config.templates)
    env = state.env
    messages = i18n.messages(bank.book.language, env)
    i18n.install(env, messages)
    furigana = any(r.analysis.furigana for _, r in prepared)
    cards = Cards((), card_templates(bank, env, messages, furigana=furigana))
    store = Store(config.root / STORE)
    return RenderContext(bank, prepared, cards, env, messages, ledger, build_info(bank, ledger), Options(), store)


def _write(root: Path, files: dict[str, bytes], before: set[str]) -> list[str]:
    """Write what changed (atomically, so the server never sends half a file) and remove the rest."""
    changed = [name for name, data in files.items() if write_if_changed(root / name, data)]
    for name in sorted(before - set(files)):
        (root / name).unlink(missing_ok=True)
        changed.append(name)
    return changed


def shown(path: Path) -> str:
    """A path as the terminal shows it: relative to the working folder when it is inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative
