"""Run units of work in order or in worker processes, honouring `after` and `alone`, heaviest first.

The scheduler knows units only by key, weight and `after`; what a unit does is a `Task` that a
caller's `start(unit)` returns when the unit's turn comes (or None when there is nothing to do,
e.g. an output that is already up to date). `start` runs in this process, after every unit the
unit waits for has finished, so it may read what they left behind — while every worker slot is
busy, for the next ready unit, so that it is ready to go when a slot frees; the task itself runs
here or in a forked worker process and returns its result by value.

Each unit run in a worker gets a process of its own, forked when its turn comes and gone when
it is done: the memory a heavy unit needed (a laid-out book, a paper of flashcards) goes back to
the system with it, instead of staying with a long-lived pool worker for the rest of the build.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
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

    running: dict[Connection, tuple[Unit, Any]] = {}  # the pipe a worker answers on → its unit and process
    prepared: dict[str, Task | None] = {}  # tasks of ready units made while every worker slot was busy
    if jobs <= 1 or len(pending) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        while pending:
            unit = next_ready()[0]
            pending.remove(unit)
            done.append(_inline(unit, start, progress))
            finished.add(unit.key)
        return done
    try:
        while pending or running:
            for unit in _startable(next_ready(), [u for u, _ in running.values()], jobs):
                pending.remove(unit)
                task = prepared.pop(unit.key) if unit.key in prepared else start(unit)
                if task is None:
                    done.append(Done(unit, None, 0.0))
                    finished.add(unit.key)
                    continue
                progress(unit.key)
                conn, proc = _fork(task)
                running[conn] = (unit, proc)
            if not running:
                continue
            upcoming = [u for u in ready() if u.key not in prepared]
            if upcoming and not wait(list(running), timeout=0):
                # this process would only wait: make the next unit's task now (rendering its job is
                # work of its own), so that it starts the moment a worker slot frees
                prepared[upcoming[0].key] = start(upcoming[0])
                continue
            for answered in wait(list(running)):
                assert isinstance(answered, Connection)
                unit, proc = running.pop(answered)
                produced, seconds = _result(answered, proc)
                done.append(Done(unit, produced, seconds))
                finished.add(unit.key)
    except BaseException:
        for conn, (_, proc) in running.items():
            proc.terminate()
            proc.join()
            conn.close()
        raise
    return done


def _fork(task: Task) -> tuple[Connection, Any]:
    """Start `task` in a new forked process; it answers on the returned pipe."""
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe(duplex=False)
    gc.freeze()  # the child leaves the objects it inherits alone: their pages stay shared with this process
    try:
        proc = context.Process(target=_work, args=(task, theirs))
        proc.start()
    finally:
        gc.unfreeze()
    theirs.close()
    return ours, proc


def _work(task: Task, conn: Connection) -> None:
    """A worker process: run the task, send back its result or the exception it raised."""
    answer: tuple[str, object]
    try:
        answer = ("ok", task())
    except BaseException as exc:  # every failure goes back to the parent, which re-raises it
        answer = ("error", exc)
    try:
        conn.send(answer)
    except Exception as exc:  # something that cannot be pickled: its traceback can
        failure = answer[1] if isinstance(answer[1], BaseException) else exc
        conn.send(("error", RuntimeError("".join(traceback.format_exception(failure)))))
    conn.close()


def _result(conn: Connection, proc: Any) -> tuple[Produced, float]:
    """What the worker on `conn` sent (re-raising its exception), once it has exited."""
    try:
        kind, value = conn.recv()
    except EOFError:
        proc.join()
        raise RuntimeError(f"a worker process ended without an answer (exit code {proc.exitcode})") from None
    finally:
        conn.close()
    proc.join()
    if kind == "error":
        assert isinstance(value, BaseException)
        raise value
    produced, seconds = value
    return produced, seconds


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
