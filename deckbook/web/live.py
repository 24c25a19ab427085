"""One rebuild of the live preview: the web edition and the card preview, into a private folder.

Contract: `rebuild(config, state)` loads and validates the bank, and either reports its
problems (writing nothing: the last good files stay, and the server shows the problems instead
of them) or renders the web edition (``<root>/site/``) and the card preview (``<root>/site/preview/``)
and writes the files whose bytes changed, removing files no longer made. It never writes into
the source or the release outputs: the ledger is read, refreshed in memory and never saved.

What makes it fast: the previous rebuild's Markdown results are reused for every field whose
text did not change (`State.markdown`, seeded from the last `build`'s cache if there is one),
nothing but the web edition and the preview is rendered, a preview page is rendered again only
when its notes changed (`State.preview_memo`), and only changed files are written.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from deckbook import i18n
from deckbook.files import write_if_changed
from deckbook.load import ReadMemo
from deckbook.model import Bank
from deckbook.options import Options
from deckbook.pipeline import blocking, build_info, check_source, plan_ledger
from deckbook.prepared import CACHE_NAME, FieldResult, MarkdownCache, Prepared, cache_key
from deckbook.problems import Problem, Severity
from deckbook.rendered import render_bank
from deckbook.renderers import web
from deckbook.renderers.anki_notes import Cards, ledger_contents, make_cards
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
    preview_memo: dict[str, tuple[str, bytes]] = field(default_factory=dict)
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


def rebuild(config: Config, state: State) -> Result:
    """Validate the bank and, if it is usable, write the web edition and the card preview."""
    start = time.perf_counter()
    checked = check_source(config.source, 1, MarkdownCache(state.markdown), state.reads)
    if checked.bank is None or checked.prepared is None or blocking(checked.problems, False):
        return Result(False, checked.problems, seconds=time.perf_counter() - start)
    bank, prepared = checked.bank, checked.prepared
    state.markdown = {cache_key(f): r for f, r in prepared}
    book = _book(config, state, bank, prepared)
    plan = plan_ledger(bank, ledger_contents(bank, book.cards, book.env))
    if isinstance(plan, tuple) or plan.changes.reused:
        found = plan if isinstance(plan, tuple) else plan.problems
        errors = tuple(p for p in found if p.severity is Severity.ERROR)
        return Result(False, checked.problems + errors, seconds=time.perf_counter() - start)
    store = Store(config.root / STORE)
    ctx = RenderContext(bank, prepared, book.cards, book.env, book.messages, plan.fresh, build_info(bank, plan.fresh), Options(), store)
    files = web.build_site(ctx)
    files.update({f"{PREVIEW}/{name}": data for name, data in preview.build_preview(ctx, state.preview_memo).items()})
    changed = _write(config.site, files, state.files)
    state.files = set(files)
    state.title, state.language = bank.book.title, bank.book.language
    return Result(True, checked.problems + plan.problems, tuple(sorted(changed)), time.perf_counter() - start)


@dataclass(frozen=True)
class _Book:
    """`pipeline.Book`, with the session's one template environment: a template is compiled
    once and again only when its file changes (Jinja checks), not on every rebuild."""

    env: jinja2.Environment
    messages: i18n.Messages
    cards: Cards


def _book(config: Config, state: State, bank: Bank, prepared: Prepared) -> _Book:
    if state.env is None:
        state.env = make_env(config.templates)
    env = state.env
    messages = i18n.messages(bank.book.language, env)
    i18n.install(env, messages)
    return _Book(env, messages, make_cards(bank, render_bank(bank, prepared, "anki", env), env, messages))


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
        return os.path.relpath(path)
    except ValueError:
        return str(path)
