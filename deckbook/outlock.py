"""One build per output folder at a time.

A build takes an exclusive lock on ``<out>/.deckbook-cache/lock`` before it renders and holds it
until its last write (outputs, ledger, build state). The lock is the operating system's
(`flock`), so it is released the moment its process ends, however it ends: a build that was
killed never blocks the next one, which takes over and says so. A second build started while
the first runs is refused with a clear message naming the first (exit status 1); nothing is
written by it.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deckbook.store import CACHE_DIR

LOCK_NAME = "lock"


class Busy(Exception):
    """Another build holds the output folder; the message says which and what to do."""


@dataclass(frozen=True)
class Held:
    """The lock, while held; `took_over` names a build that died holding it, if any."""

    path: Path
    took_over: str | None


def _owner(text: str) -> tuple[int, str] | None:
    parts = text.split(maxsplit=1)
    if len(parts) == 2 and parts[0].isdigit():
        return int(parts[0]), parts[1].strip()
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def holding(out: Path) -> Iterator[Held]:
    """Hold the output folder's lock for the duration of the block, or raise `Busy`."""
    path = out / CACHE_DIR / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        previous = _owner(os.pread(fd, 200, 0).decode("utf-8", "replace"))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = f"pid {previous[0]}, started {previous[1]}" if previous else "another process"
            raise Busy(f"another build ({who}) is writing to {out}; wait for it to finish, or build into another --out") from None
        took_over = None
        if previous and previous[0] != os.getpid() and not _alive(previous[0]):
            took_over = f"took over {out} from a build that stopped without finishing (pid {previous[0]}, started {previous[1]})"
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode(), 0)
        try:
            yield Held(path, took_over)
        finally:
            os.ftruncate(fd, 0)  # a clean finish leaves no owner behind
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
