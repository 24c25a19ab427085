"""Lint, both kinds: deckbook's freshness lint of a bank (`deckbook.freshness`: non-current registry
entries a question names, chapters whose facts were last reviewed over a year before the build),
and the repository itself — package, tests, benchmark — staying ruff- and mypy --strict-clean (CI
enforces it with the rest of the suite)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from deckbook import buildtime
from deckbook.buildtime import build_date
from deckbook.fields import markdown_fields
from deckbook.freshness import Month
from deckbook.load import load_bank
from deckbook.prepared import prepare
from deckbook.validate import validate_bank
from tests.conftest import ROOT, TODAY, Cli, copy_bank

DEC_2026 = dt.date(2026, 12, 1)  # the minimal bank's chapters: basics reviewed 2026-11, advanced-topics 2026-10
ACK = "    acknowledges: {snowball-edge: closed-to-new-customers}\n"  # bas-transfer's, in the minimal bank


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def lint(source: Path, today: dt.date = DEC_2026) -> list[str]:
    """Every problem `validate_bank` finds in the bank at `source`, judged as of `today`, as printed."""
    loaded = load_bank(source)
    assert loaded.bank is not None and not loaded.problems, loaded.problems
    found = validate_bank(loaded.bank, loaded.index, prepare(markdown_fields(loaded.bank)), today=today)
    return sorted(str(p) for p in found)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the only line of `path` that contains `text`."""
    [number] = [n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line]
    return number


# --- A question names a registry entry that is no longer current --------------------------------


def test_acknowledged_closed_entry_is_quiet(minimal: Path) -> None:
    assert lint(minimal) == []


def test_closed_entry_named_without_acknowledgement_is_a_warning_at_its_index_item(minimal: Path) -> None:
    basics = minimal / "chapters" / "basics.yaml"
    edit(basics, ACK, "")
    where = f"{basics}:{line_of(basics, 'index: [snowball-edge]')}"
    assert lint(minimal) == [
        f"{where}: warning: question 'bas-transfer' names service 'snowball-edge' (AWS Snowball Edge), which index.yaml marks "
        "closed-to-new-customers; say so in the question's text, then add 'acknowledges: {snowball-edge: closed-to-new-customers}'"
    ]


def test_the_warning_points_at_the_entry_in_a_block_list(minimal: Path) -> None:
    basics = minimal / "chapters" / "basics.yaml"
    edit(basics, "    index: [snowball-edge]\n" + ACK, "    index:\n      - s3\n      - snowball-edge\n")
    [problem] = lint(minimal)
    assert problem.startswith(f"{basics}:{line_of(basics, '- snowball-edge')}: warning: question 'bas-transfer' names service")


def test_retired_entry_needs_its_own_acknowledgement(minimal: Path) -> None:
    """An entry that moves on from closed to retired flags the question that acknowledged 'closed'."""
    basics = minimal / "chapters" / "basics.yaml"
    edit(minimal / "index.yaml", "status: closed-to-new-customers", "status: retired")
    assert lint(minimal) == [
        f"{basics}:{line_of(basics, 'acknowledges:')}: warning: question 'bas-transfer' acknowledges service 'snowball-edge' as "
        "closed-to-new-customers, but index.yaml marks it retired; update the question's text, then write "
        "'snowball-edge: retired' in 'acknowledges'"
    ]
    edit(basics, ACK, "")
    [problem] = lint(minimal)
    assert "names service 'snowball-edge' (AWS Snowball Edge), which index.yaml marks retired;" in problem
    edit(basics, "    index: [snowball-edge]\n", "    index: [snowball-edge]\n    acknowledges: {snowball-edge: retired}\n")
    assert lint(minimal) == []


def test_acknowledging_an_active_entry_is_a_warning(minimal: Path) -> None:
    basics = minimal / "chapters" / "basics.yaml"
    edit(minimal / "index.yaml", "status: closed-to-new-customers", "status: active")
    assert lint(minimal) == [
        f"{basics}:{line_of(basics, 'acknowledges:')}: warning: question 'bas-transfer' acknowledges service 'snowball-edge' as "
        "closed-to-new-customers, but index.yaml marks it active; check the question's text and remove 'snowball-edge' from "
        "'acknowledges'"
    ]


def test_acknowledging_an_entry_the_index_does_not_list_is_a_warning(minimal: Path) -> None:
    basics = minimal / "chapters" / "basics.yaml"
    edit(
        basics, "    index: [s3]\n    tags:", "    index: [s3]\n    acknowledges:\n      snowball-edge: closed-to-new-customers\n    tags:"
    )
    assert lint(minimal) == [
        f"{basics}:{line_of(basics, '  snowball-edge: closed')}: warning: question 'bas-durability' acknowledges service "
        "'snowball-edge', which its 'index' does not list; add it there or remove it from 'acknowledges'"
    ]


def test_text_alone_does_not_name_an_entry(minimal: Path) -> None:
    """bas-transfer's text says "Snowball Edge"; without `index:` the question names no entry
    (names are ambiguous words), so there is nothing to acknowledge."""
    basics = minimal / "chapters" / "basics.yaml"
    edit(basics, "    index: [snowball-edge]\n" + ACK, "")
    assert lint(minimal) == []


def test_the_rule_speaks_no_language(tmp_path: Path) -> None:
    """A German bank: the registry's status and the acknowledgement are the same ids in any language."""
    source = copy_bank("de-math", tmp_path)
    edit(
        source / "index.yaml",
        "  - id: impuls\n    name: Impuls\n",
        "  - id: impuls\n    name: Impuls\n    status: retired\n    note: Veraltet.\n",
    )
    chapter = source / "chapters" / "mechanik.yaml"
    [problem] = [p for p in lint(source) if "impuls" in p]
    assert problem.startswith(f"{chapter}:{line_of(chapter, 'index: [')}: warning: question ")
    assert "'impuls' (Impuls), which index.yaml marks retired" in problem
    edit(
        chapter,
        "    index: [energie, impuls, lichtgeschwindigkeit]\n",
        "    index: [energie, impuls, lichtgeschwindigkeit]\n    acknowledges: {impuls: retired}\n",
    )
    assert not [p for p in lint(source) if "impuls" in p]


def test_a_malformed_acknowledgement_is_a_schema_error(minimal: Path, cli: Cli) -> None:
    basics = minimal / "chapters" / "basics.yaml"
    edit(basics, ACK, "    acknowledges: {snowball-edge: closed}\n")
    run = cli("check", "--source", minimal)
    assert run.code == 1
    assert (
        f"{basics}:{line_of(basics, 'acknowledges:')}: error: question 'bas-transfer': 'snowball-edge' must be one of "
        "closed-to-new-customers, retired; got 'closed'"
    ) in run.lines


# --- A chapter's facts were last reviewed long ago ----------------------------------------------


def test_fresh_chapters_are_quiet(minimal: Path) -> None:
    assert lint(minimal, dt.date(2027, 10, 31)) == []  # basics 11 months, advanced-topics 12: not more than 12


def test_a_chapter_reviewed_over_a_year_ago_is_a_warning_at_its_reviewed_line(minimal: Path) -> None:
    advanced = minimal / "chapters" / "advanced-topics.yaml"
    assert lint(minimal, dt.date(2027, 11, 30)) == [
        f"{advanced}:{line_of(advanced, 'reviewed:')}: warning: chapter 'advanced-topics' was last reviewed 2026-10, "
        "13 months before this build (2027-11); check its facts and update 'reviewed'"
    ]
    basics = minimal / "chapters" / "basics.yaml"
    both = lint(minimal, dt.date(2028, 1, 1))
    assert [p.split(": warning: ")[0] for p in both] == [f"{advanced}:3", f"{basics}:4"]
    assert "chapter 'basics' was last reviewed 2026-11, 14 months before this build (2028-01)" in both[1]


def test_a_chapter_without_reviewed_is_not_judged(minimal: Path) -> None:
    edit(minimal / "chapters" / "advanced-topics.yaml", "reviewed: 2026-10\n", "")
    assert lint(minimal, dt.date(2030, 1, 1)) == [
        f"{minimal / 'chapters' / 'basics.yaml'}:4: warning: chapter 'basics' was last reviewed 2026-11, "
        "38 months before this build (2030-01); check its facts and update 'reviewed'"
    ]


def test_months() -> None:
    assert Month.parse("2025-10") == Month(2025, 10)
    assert Month.parse("2025-13") is None and Month.parse("2025-1") is None and Month.parse("2025-10-01") is None
    assert Month(2025, 10).months_until(Month(2026, 12)) == 14
    assert Month(2026, 12).months_until(Month(2026, 11)) == -1
    assert str(Month(987, 3)) == "0987-03"


def test_build_date_is_source_date_epoch_else_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1830297600")  # 2028-01-01 00:00 UTC
    assert build_date() == dt.date(2028, 1, 1)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert build_date() == dt.datetime.fromtimestamp(TODAY, dt.UTC).date() == DEC_2026  # tests pin the clock
    monkeypatch.setattr(buildtime, "clock", lambda: 1830297599.5)  # 2027-12-31 23:59:59 UTC
    assert build_date() == dt.date(2027, 12, 31)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "99999999999999999")  # no traceback for an epoch past year 9999
    assert build_date() == dt.date.max


def test_check_judges_freshness_as_of_source_date_epoch(minimal: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Warnings do not fail `check`; with --strict they do. SOURCE_DATE_EPOCH moves the build date."""
    assert cli("check", "--strict", "--source", minimal).code == 0
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1830297600")  # 2028-01-01
    run = cli("check", "--source", minimal)
    assert run.code == 0
    assert [line.split(": warning: ")[0] for line in run.lines if ": warning: chapter " in line] == [
        f"{minimal / 'chapters' / 'advanced-topics.yaml'}:3",
        f"{minimal / 'chapters' / 'basics.yaml'}:4",
    ]
    assert cli("check", "--strict", "--source", minimal).code == 1
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796083200")  # 2026-12-01
    assert cli("check", "--strict", "--source", minimal).code == 0


def test_a_build_in_a_new_month_checks_again(minimal: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unchanged bank is "up to date" within a month; in a later one it is validated again, so
    a chapter that aged past a year fails a --strict build although no file changed."""
    out = tmp_path / "out"
    assert cli("anki", "--strict", "--source", minimal, "--out", out, "-q").code == 0
    assert "up to date" in cli("anki", "--strict", "--source", minimal, "--out", out).out
    monkeypatch.setattr(buildtime, "clock", lambda: 1830297600)  # 2028-01-01
    run = cli("anki", "--strict", "--source", minimal, "--out", out)
    assert run.code == 1
    assert "warning: chapter 'basics' was last reviewed 2026-11, 14 months before this build (2028-01)" in run.err


# --- The repository ------------------------------------------------------------------------------


def test_ruff() -> None:
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
