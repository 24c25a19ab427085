"""Shared fixtures: real banks copied to temporary folders, and the CLI run in-process."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from deckbook import buildtime, renderers, scheduler
from deckbook.cli import main
from deckbook.fields import markdown_fields
from deckbook.load import load_bank
from deckbook.options import Options
from deckbook.pipeline import check_source, context
from deckbook.prepared import prepare
from deckbook.problems import Problem
from deckbook.renderers.base import Produced, RenderContext, Runtime
from deckbook.store import Store

ROOT = Path(__file__).resolve().parents[1]
BANKS = ROOT / "tests" / "banks"
SHIPPED = ROOT / "source"

os.environ["DECKBOOK_REVISION"] = "test"  # outputs name the source revision; keep it fixed in tests
os.environ.pop("SOURCE_DATE_EPOCH", None)
# Freshness lint judges chapters' `reviewed:` months against the build date, which is today's when
# SOURCE_DATE_EPOCH is unset: the test banks would age into warnings. Tests build as of this day
# (2026-12-01 UTC) unless they set SOURCE_DATE_EPOCH themselves.
TODAY = 1_796_083_200
buildtime.clock = lambda: TODAY


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


class Cli(Protocol):
    """The `cli` fixture: build.py's main(argv), in-process, with its exit code and output."""

    def __call__(self, *args: str | Path) -> Run: ...


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """Call build.py's main(argv) in-process; returns exit code and captured output."""
    monkeypatch.setenv("COLUMNS", "400")  # rich must not wrap long problem lines

    def run(*args: str | Path) -> Run:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    yield run


def copy_bank(name: str, dest: Path) -> Path:
    """A private copy of tests/banks/<name> (or the shipped source/) that a test may modify."""
    src = SHIPPED if name == "shipped" else BANKS / name
    target = dest / "source"
    shutil.copytree(src, target, symlinks=True, ignore=shutil.ignore_patterns("deckbook.lock") if name != "shipped" else None)
    return target


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    return copy_bank("minimal", tmp_path)


def build_copy(name: str, root: Path) -> Path:
    """Every output of a copy of bank `name` (its ledger stays untouched), built into root/output."""
    source = copy_bank(name, root)
    out = root / "output"
    assert main(["--source", str(source), "--out", str(out), "-q"]) == 0
    return out


@pytest.fixture(scope="session")
def minimal_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The minimal bank built once (every output); tests read but never modify it."""
    return build_copy("minimal", tmp_path_factory.mktemp("minimal-build"))


@pytest.fixture(scope="session")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every output of the shipped bank, built once from a copy (the real ledger stays untouched)."""
    return build_copy("shipped", tmp_path_factory.mktemp("shipped"))


def produce(ctx: RenderContext, target: str) -> Produced:
    """Every unit of renderer `target`, in memory: each unit's `job` then `produce`, in start order
    (a unit's `after` units come first for the built-in renderers); files and problems merged."""
    renderer = renderers.get(target)
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    for unit in scheduler.order(renderer.units(ctx)):
        got = renderer.produce(renderer.job(ctx, unit), Runtime(ctx.store))
        files.update(got.files)
        problems += got.problems
    return Produced(files, tuple(problems))


def memory_context(source: Path, store: Path, options: Options | None = None, *, validate: bool = True) -> RenderContext:
    """A render context for the bank at `source` (validated unless told otherwise), with a fresh ledger."""
    if validate:
        checked = check_source(source)
        assert checked.bank is not None and checked.prepared is not None
        assert not [p for p in checked.problems if p.severity.value == "error"], checked.problems
        bank, prepared = checked.bank, checked.prepared
    else:
        loaded = load_bank(source)
        assert loaded.bank is not None
        bank, prepared = loaded.bank, prepare(markdown_fields(loaded.bank))
    return context(bank, prepared, Store(store), options, stamp=1_800_000_000)
