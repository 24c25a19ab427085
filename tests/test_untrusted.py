"""Untrusted-input cases that cannot live as files in tests/cases/ (links, sizes, permissions)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Cli


def link_out(inside: Path, outside: Path) -> None:
    """Move `inside` out of the source folder to `outside` and leave a symlink in its place."""
    outside.write_bytes(inside.read_bytes())
    inside.unlink()
    os.symlink(outside, inside)


def test_symlinked_chapter_outside_the_source_is_refused(minimal: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    link_out(minimal / "chapters" / "advanced-topics.yaml", tmp_path / "secret.yaml")
    monkeypatch.chdir(tmp_path)
    run = cli("check", "--source", "source")
    assert run.code == 1
    assert run.lines[0] == "source/chapters/advanced-topics.yaml: error: is a link to a file outside the source folder; refusing to read it"


def test_symlinked_image_is_refused(minimal: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    link_out(minimal / "media" / "azs.svg", tmp_path / "elsewhere.svg")
    monkeypatch.chdir(tmp_path)
    run = cli("check", "--source", "source")
    assert run.code == 1
    assert "image media/azs.svg is a link; copy the file into source/media/" in run.err


def test_symlinked_source_folder_itself_is_fine(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    link = tmp_path / "linked-source"
    os.symlink(minimal, link)
    assert cli("check", "--source", link).code == 0


def test_enormous_file_is_refused_before_parsing(minimal: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    big = "terms:\n" + "".join(f"  - id: term-{i}\n    term: T{i}\n    definition: {'x' * 80}\n" for i in range(50_000))
    (minimal / "glossary.yaml").write_text(big)
    monkeypatch.chdir(tmp_path)
    run = cli("check", "--source", "source")
    assert run.code == 1
    size = (minimal / "glossary.yaml").stat().st_size / 1e6
    assert run.lines[0] == f"source/glossary.yaml: error: file is {size:.1f} MB; the limit is 4 MiB per file"


def test_deeply_nested_yaml_is_refused(minimal: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    (minimal / "glossary.yaml").write_text("terms: " + "[" * 60 + "]" * 60 + "\n")
    monkeypatch.chdir(tmp_path)
    run = cli("check", "--source", "source")
    assert run.code == 1
    assert "values nested more than 16 levels deep" in run.err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(minimal: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    (minimal / "glossary.yaml").chmod(0)
    monkeypatch.chdir(tmp_path)
    run = cli("check", "--source", "source")
    assert run.code == 1
    assert run.lines[0].startswith("source/glossary.yaml: error: cannot read file")
