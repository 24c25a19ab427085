"""Shared fixtures: real banks copied to temporary folders, and the CLI run in-process."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deckbook.cli import main

ROOT = Path(__file__).resolve().parents[1]
BANKS = ROOT / "tests" / "banks"
SHIPPED = ROOT / "source"

os.environ["DECKBOOK_REVISION"] = "test"  # outputs name the source revision; keep it fixed in tests
os.environ.pop("SOURCE_DATE_EPOCH", None)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
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
