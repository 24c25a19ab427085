"""The command line: exit codes, help, what a build prints, and what it leaves behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deckbook import renderers
from tests.conftest import ROOT, Cli


def test_help_explains_commands_targets_and_exit_codes(cli: Cli) -> None:
    run = cli("--help")
    assert run.code == 0
    for phrase in ("check", "lock", "--source", "--out", "--paper", "--strict", "--locked", "--level", "exit status: 0 success, 1"):
        assert phrase in run.out, phrase
    for target in renderers.names():
        assert target in run.out, target


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nonsense"], "unknown command or target 'nonsense'"),
        (["check", "anki"], "'check' takes no targets"),
        (["anki", "--locked"], "--locked only applies to check"),
        (["flashcards", "--card-offset", "x"], "argument --card-offset: expects two numbers in mm"),
        (["flashcards", "--card-offset", "30,0"], "argument --card-offset: expects two numbers in mm (at most 20)"),
        (["pdf", "--templates", "/no/such/folder"], "--templates: no folder at /no/such/folder"),
    ],
)
def test_bad_usage_exits_2(cli: Cli, args: list[str], message: str) -> None:
    run = cli(*args)
    assert run.code == 2
    assert message in run.err


def test_unknown_option_exits_2(cli: Cli) -> None:
    run = cli("--no-such-option")
    assert run.code == 2
    assert "unrecognized arguments: --no-such-option" in run.err


def test_check_ok_exits_0(minimal: Path, cli: Cli) -> None:
    run = cli("check", "--strict", "--source", minimal)
    assert (run.code, run.err) == (0, "")
    assert run.out.strip() == f"{minimal}: ok"


def test_missing_source_exits_1(tmp_path: Path, cli: Cli) -> None:
    run = cli("check", "--source", tmp_path / "nowhere")
    assert run.code == 1
    assert run.lines[0] == f"{tmp_path / 'nowhere'}: error: source folder not found"


def test_build_prints_each_output_with_size_and_time(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    run = cli("anki", "epub", "--source", minimal, "--out", tmp_path / "out")
    assert run.code == 0, run.err
    wrote = [line for line in run.out.splitlines() if line.startswith("wrote ")]
    assert len(wrote) == 5  # full deck, three level decks, the e-book
    for line in wrote:
        assert line.endswith(("(anki)", "(epub)")) and " kB " in line and " s " in line
    assert run.out.splitlines()[0].startswith("updated ") and "deckbook.lock" in run.out.splitlines()[0]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".deckbook-cache",
        "minimal-test--level-advanced.apkg",
        "minimal-test--level-basic.apkg",
        "minimal-test--level-intermediate.apkg",
        "minimal-test.apkg",
        "minimal-test.epub",
    ]


def test_lock_refreshes_only_the_ledger(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    run = cli("lock", "--source", minimal, "--out", tmp_path / "out")
    assert run.code == 0, run.err
    assert (minimal / "deckbook.lock").exists()
    assert not (tmp_path / "out").exists()
    assert cli("check", "--locked", "--source", minimal).code == 0


def test_registry_has_every_format() -> None:
    assert renderers.names() == ["anki", "pdf", "flashcards", "epub", "web"]


HOLD = """
import signal, sys, time
from pathlib import Path
from deckbook.outlock import holding
with holding(Path(sys.argv[1])):
    print("holding", flush=True)
    time.sleep(60)
"""


def test_one_build_per_output_folder(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    """A second build into a folder another build is writing is refused (exit 1, a clear
    message, nothing written); once the first is gone, even killed, the next build proceeds."""
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        run = cli("anki", "--source", minimal, "--out", out)
        assert run.code == 1
        assert f"error: another build (pid {holder.pid}, started " in run.err
        assert f"is writing to {out}; wait for it to finish, or build into another --out" in run.err
        assert not list(out.glob("*.apkg"))
    finally:
        holder.kill()  # SIGKILL: no chance to clean up
        holder.wait()
    run = cli("anki", "--source", minimal, "--out", out)
    assert run.code == 0, run.err
    assert f"took over {out} from a build that stopped without finishing (pid {holder.pid}" in run.out
    assert list(out.glob("*.apkg"))
