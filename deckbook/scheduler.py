"""Run units of work in order or in worker processes, honouring `after` and `alone`, heaviest first.

The scheduler knows units only by key, weight and `after`; what a unit does is a `Task` that a
caller's `start(unit)` returns when the unit's turn comes (or None when there is nothing to do,
e.g. an output that is already up to date). `start` runs in this process, after every unit the
unit waits for has finished, so it may read what they left behind; the task itself runs here or
in a forked worker process and returns its result by value.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from deckbook.renderers.base import Produced, Runtime, Unit


@dataclass(frozen=True)
class Task:
    """`produce(job, runtime)`: picklable, so it can run in a worker process."""

    produce: Callable[[Any, Runtime], Produced]
    job: object
    runtime: Runtime

    def __call__(self) -> tuple[Produced, float]:
        start = time.perf_counter()
        produced = self.produce(self.job, self.runtime)
        return produced, time.perf_counter() - start


@dataclass(frozen=True)
class Done:
    unit: Unit
    produced: Produced | None  # None: `start` had nothing to do
    seconds: float


def order(units: Sequence[Unit]) -> list[Unit]:
    """Start order: heaviest first, then by key (stable and independent of how units were listed)."""
    return sorted(units, key=lambda u: (-u.weight, u.key))


def run(units: Sequence[Unit], start: Callable[[Unit], Task | None], jobs: int, progress: Callable[[str], None]) -> list[Done]:
    """Run every unit; on the first failure stop the others and re-raise it."""
    pending = order(units)
    keys = {u.key for u in pending}
    finished: set[str] = set()
    done: list[Done] = []

    def ready() -> list[Unit]:
        return [u for u in pending if all(k in finished or k not in keys for k in u.after)]

    def next_ready() -> list[Unit]:
        got = ready()
        if not got and not running:
            raise RuntimeError(f"units wait for each other: {', '.join(u.key for u in pending)}")  # a renderer bug
        return got

    running: dict[Future[tuple[Produced, float]], Unit] = {}
    if jobs <= 1 or len(pending) <= 1:
        while pending:
            unit = next_ready()[0]
            pending.remove(unit)
            done.append(_inline(unit, start, progress))
            finished.add(unit.key)
        return done
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        try:
            while pending or running:
                for unit in _startable(next_ready(), running.values(), jobs):
                    pending.remove(unit)
                    task = start(unit)
                    if task is None:
                        done.append(Done(unit, None, 0.0))
                        finished.add(unit.key)
                        continue
                    progress(unit.key)
                    running[pool.submit(task)] = unit
                if not running:
                    continue
                complete, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in complete:
                    unit = running.pop(future)
                    produced, seconds = future.result()
                    done.append(Done(unit, produced, seconds))
                    finished.add(unit.key)
        except BaseException:
            for future in running:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return done


def _startable(ready: list[Unit], running: Iterable[Unit], jobs: int) -> list[Unit]:
    """The ready units to start now, in order, up to the free worker slots. A unit that must run
    `alone` starts when nothing runs, and then by itself; units after it in the order wait for it
    (it is heavy: starting it late would make the build longer); nothing starts beside it."""
    busy = list(running)
    if any(u.alone for u in busy):
        return []
    out: list[Unit] = []
    for unit in ready:
        if len(busy) + len(out) >= jobs:
            break
        if unit.alone:  # it waits for the running units to finish; none starts in front of it
            return [unit] if not busy and not out else out
        out.append(unit)
    return out


def _inline(unit: Unit, start: Callable[[Unit], Task | None], progress: Callable[[str], None]) -> Done:
    task = start(unit)
    if task is None:
        return Done(unit, None, 0.0)
    progress(unit.key)
    produced, seconds = task()
    return Done(unit, produced, seconds)
