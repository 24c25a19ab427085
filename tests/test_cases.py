"""One tiny broken bank per rule (tests/cases/<case>/ overlays tests/banks/minimal/).

Each case's `expected.txt` holds exactly what `build.py check --strict` prints: every problem as
path:line: severity: message, then the summary. The same bank must make `build` fail with exit
status 1 and write nothing: no output file, no ledger. Refresh the files after an intended
wording change with DECKBOOK_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_bank

CASES = sorted(p for p in (ROOT / "tests" / "cases").iterdir() if p.is_dir())
UPDATE = os.environ.get("DECKBOOK_UPDATE_GOLDEN") == "1"


def apply_case(case: Path, source: Path) -> None:
    for f in sorted(case.rglob("*")):
        if not f.is_file() or f.name in ("README", "expected.txt"):
            continue
        target = source / f.relative_to(case)
        if f.read_bytes() == b"DELETE\n":
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_reports_every_problem(case: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    source = copy_bank("minimal", tmp_path)
    apply_case(case, source)
    monkeypatch.chdir(tmp_path)
    run = cli("check", "--strict", "--source", "source")
    got = "\n".join(run.lines) + "\n"
    expected_file = case / "expected.txt"
    if UPDATE:
        expected_file.write_text(got)
    assert run.code == 1
    assert got == expected_file.read_text()
    assert "Traceback" not in run.err


MARKDOWN_CASES = [c for c in CASES if (c / "chapters").exists() or (c / "glossary.yaml").exists()]


@pytest.mark.parametrize("case", MARKDOWN_CASES, ids=[c.name for c in MARKDOWN_CASES])
def test_parallel_markdown_reports_the_same(case: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Markdown parsed in worker processes (premark.prime) yields exactly the serial report."""
    from deckbook import premark

    pools = []

    class CountedPool(premark.ProcessPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            pools.append(1)
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(premark, "MIN_PARALLEL", 1)
    monkeypatch.setattr(premark, "ProcessPoolExecutor", CountedPool)
    source = copy_bank("minimal", tmp_path)
    apply_case(case, source)
    monkeypatch.chdir(tmp_path)
    run = cli("check", "--strict", "--source", "source", "--jobs", "2")
    assert pools == [1]  # the workers did the parsing
    assert "\n".join(run.lines) + "\n" == (case / "expected.txt").read_text()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_failed_build_writes_nothing(case: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    source = copy_bank("minimal", tmp_path)
    apply_case(case, source)
    before = {p: p.read_bytes() for p in source.rglob("*") if p.is_file()}
    monkeypatch.chdir(tmp_path)
    run = cli("--strict", "--source", "source", "--out", "output")
    assert run.code == 1
    assert run.lines[-1].endswith("nothing was written")
    assert not (tmp_path / "output").exists() or not any((tmp_path / "output").iterdir())
    assert {p: p.read_bytes() for p in source.rglob("*") if p.is_file()} == before
