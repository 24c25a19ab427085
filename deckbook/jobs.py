"""Run units of work in order, or in parallel worker processes, honouring `after` dependencies.

Workers are forked from the build process, so they inherit the loaded, validated bank and its
rendered HTML instead of re-reading the source; each returns the files it wrote into the shared
staging folder and how long it took. Longest units start first (handbooks), so two cores finish
a default build in roughly the time of one handbook plus its flashcards.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from deckbook import renderers
from deckbook.renderers.base import RenderContext


@dataclass(frozen=True, order=True)
class Unit:
    target: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.target}:{self.name}"


@dataclass(frozen=True)
class Done:
    unit: Unit
    files: tuple[Path, ...]
    seconds: float


_WEIGHT = {"pdf": 0, "epub": 2, "anki": 3}  # start order: layouts first, cheap units last


def plan(ctx: RenderContext, targets: list[str]) -> list[Unit]:
    units = [Unit(t, u) for t in targets for u in renderers.get(t).units(ctx)]
    return sorted(units, key=lambda u: (_WEIGHT.get(u.target, 1), u.name.startswith("cards-"), u.name))


def _deps(ctx: RenderContext, unit: Unit, units: list[Unit]) -> set[Unit]:
    wanted = {Unit(t, n) for t, n in renderers.get(unit.target).after(ctx, unit.name)}
    return wanted & set(units)


_SHARED: dict[str, RenderContext] = {}  # the worker's context, inherited through fork


def _run(unit: Unit) -> Done:
    ctx = _SHARED["ctx"]
    start = time.perf_counter()
    files = renderers.get(unit.target).render(ctx, unit.name)
    return Done(unit, tuple(files), time.perf_counter() - start)


def run(ctx: RenderContext, units: list[Unit], jobs: int, progress: Callable[[str], None]) -> list[Done]:
    """Render every unit; re-raise the first failure (after stopping the others)."""
    _SHARED["ctx"] = ctx
    try:
        if jobs <= 1 or len(units) <= 1:
            return _serial(ctx, units, progress)
        return _parallel(ctx, units, jobs, progress)
    finally:
        _SHARED.clear()


def _serial(ctx: RenderContext, units: list[Unit], progress: Callable[[str], None]) -> list[Done]:
    done: list[Done] = []
    finished: set[Unit] = set()
    pending = list(units)
    while pending:
        ready = next(u for u in pending if _deps(ctx, u, units) <= finished)
        pending.remove(ready)
        progress(ready.key)
        done.append(_run(ready))
        finished.add(ready)
    return done


def _parallel(ctx: RenderContext, units: list[Unit], jobs: int, progress: Callable[[str], None]) -> list[Done]:
    done: list[Done] = []
    finished: set[Unit] = set()
    pending = list(units)
    running: dict[Future[Done], Unit] = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        try:
            while pending or running:
                for unit in [u for u in pending if _deps(ctx, u, units) <= finished][: jobs - len(running)]:
                    pending.remove(unit)
                    progress(unit.key)
                    running[pool.submit(_run, unit)] = unit
                complete, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in complete:
                    finished.add(running.pop(future))
                    done.append(future.result())
        except BaseException:
            for future in running:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return done
