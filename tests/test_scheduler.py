"""The scheduler runs units in processes of their own, in order, and brings failures back."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from deckbook import scheduler
from deckbook.renderers.base import Runtime, Unit
from deckbook.store import Store


class Refused(Exception):
    """A failure a unit raises (like a user error): it must reach the caller as itself."""


def _pid(job: object, runtime: Runtime) -> object:
    return (job, os.getpid())


def _fail(job: object, runtime: Runtime) -> object:
    raise Refused(f"{job}: error: no such key")


def _unpicklable_failure(job: object, runtime: Runtime) -> object:
    raise Refused(lambda: None)  # an exception whose argument cannot be sent between processes


def _run(tmp_path: Path, produce: object, names: list[str], jobs: int = 2) -> list[scheduler.Done]:
    runtime = Runtime(Store(tmp_path / "store"), 1)
    units = [Unit("r", name, weight=len(names) - i) for i, name in enumerate(names)]

    def start(unit: Unit) -> scheduler.Task:
        return scheduler.Task(produce, unit.name, runtime)  # type: ignore[arg-type]

    return scheduler.run(units, start, jobs, lambda key: None)


def test_each_unit_runs_in_a_process_of_its_own(tmp_path: Path) -> None:
    done = _run(tmp_path, _pid, ["a", "b", "c", "d"])
    results = {d.unit.name: d.produced for d in done}
    assert sorted(results) == ["a", "b", "c", "d"]
    assert all(job == name for name, (job, _) in results.items())  # type: ignore[misc]
    pids = {pid for _, pid in results.values()}  # type: ignore[misc]
    assert len(pids) == 4 and os.getpid() not in pids  # fresh processes: their memory goes when they end


def test_a_failure_comes_back_as_itself(tmp_path: Path) -> None:
    with pytest.raises(Refused, match=r"^[ab]: error: no such key$"):
        _run(tmp_path, _fail, ["a", "b"])


def test_a_failure_that_cannot_be_sent_comes_back_as_its_traceback(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="Refused"):
        _run(tmp_path, _unpicklable_failure, ["a", "b"])


def test_one_job_runs_in_this_process(tmp_path: Path) -> None:
    done = _run(tmp_path, _pid, ["a", "b"], jobs=1)
    assert {pid for _, pid in (d.produced for d in done)} == {os.getpid()}  # type: ignore[misc]


def _wait_for_marker(job: object, runtime: Runtime) -> object:
    marker = runtime.store.root / "next-unit-started"
    for _ in range(400):  # 20 s at most
        if marker.exists():
            return True
        time.sleep(0.05)
    return False


def test_the_next_units_task_is_made_while_the_workers_are_busy(tmp_path: Path) -> None:
    """Both slots are taken by units that finish only once a third unit's task has been made:
    the scheduler makes it while it waits, instead of when a slot frees."""
    store = Store(tmp_path / "store")
    store.root.mkdir(parents=True)
    runtime = Runtime(store, 1)
    units = [Unit("r", "a", weight=3), Unit("r", "b", weight=2), Unit("r", "c", weight=1)]
    started: list[str] = []

    def start(unit: Unit) -> scheduler.Task:
        started.append(unit.name)
        if unit.name == "c":
            (store.root / "next-unit-started").touch()
            return scheduler.Task(_pid, unit.name, runtime)  # type: ignore[arg-type]
        return scheduler.Task(_wait_for_marker, unit.name, runtime)  # type: ignore[arg-type]

    done = scheduler.run(units, start, 2, lambda key: None)
    results: dict[str, object] = {d.unit.name: d.produced for d in done}
    assert results["a"] is True and results["b"] is True
    assert sorted(started) == ["a", "b", "c"]  # each task made once
