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

from tests.conftest import ROOT, Cli, copy_bank

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
def test_check_reports_every_problem(case: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
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
def test_parallel_markdown_reports_the_same(case: Path, tmp_path: Path) -> None:
    """Markdown prepared in worker processes gives exactly the serial validation report."""
    from deckbook.fields import markdown_fields
    from deckbook.load import load_bank
    from deckbook.prepared import prepare
    from deckbook.validate import validate_bank

    source = copy_bank("minimal", tmp_path)
    apply_case(case, source)
    loaded = load_bank(source)
    if loaded.bank is None:
        pytest.skip("book.yaml unusable: nothing to parse")
    fields = list(markdown_fields(loaded.bank))
    serial = validate_bank(loaded.bank, loaded.index, prepare(fields, 1))
    parallel = validate_bank(loaded.bank, loaded.index, prepare(fields, 2, min_parallel=1))
    assert sorted(map(str, serial)) == sorted(map(str, parallel))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_failed_build_writes_nothing(case: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    source = copy_bank("minimal", tmp_path)
    apply_case(case, source)
    before = {p: p.read_bytes() for p in source.rglob("*") if p.is_file()}
    monkeypatch.chdir(tmp_path)
    run = cli("--strict", "--source", "source", "--out", "output")
    assert run.code == 1
    assert run.lines[-1].endswith("nothing was written")
    assert not (tmp_path / "output").exists() or not any((tmp_path / "output").iterdir())
    assert {p: p.read_bytes() for p in source.rglob("*") if p.is_file()} == before
