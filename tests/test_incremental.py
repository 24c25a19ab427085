"""Incremental and parallel builds: nothing changed → nothing done; one change → only its outputs."""

from __future__ import annotations

from pathlib import Path

from deckbook.fields import Field
from tests import book_checks as bc
from tests.conftest import Cli


def stamps(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}


def test_unchanged_rebuild_is_up_to_date_and_writes_nothing(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "out"
    assert cli("--source", minimal, "--out", out, "--paper", "a4", "-q").code == 0
    before = stamps(out)
    ledger = (minimal / "deckbook.lock").stat().st_mtime_ns
    run = cli("--source", minimal, "--out", out, "--paper", "a4")
    assert run.code == 0
    assert run.out.strip() == f"{out}: up to date (nothing changed since the last build)"
    assert stamps(out) == before
    assert (minimal / "deckbook.lock").stat().st_mtime_ns == ledger


def test_glossary_edit_redoes_what_shows_the_glossary_only(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "out"
    assert cli("--source", minimal, "--out", out, "--paper", "a4", "-q").code == 0
    before = stamps(out)
    glossary = minimal / "glossary.yaml"
    glossary.write_text(glossary.read_text().replace("afford to lose", "afford to lose after a failure"))
    run = cli("--source", minimal, "--out", out, "--paper", "a4")
    assert run.code == 0, run.err
    after = stamps(out)
    assert "unchanged: flashcards:a4" in run.out  # flashcards show questions and answers only
    assert after["minimal-test-flashcards-a4.pdf"] == before["minimal-test-flashcards-a4.pdf"]
    for changed in ("minimal-test-a4.pdf", "minimal-test.epub", "minimal-test.apkg"):
        assert after[changed] != before[changed], changed
    # decks that do not contain the glossary keep their bytes, so they are not rewritten
    for level in ("basic", "intermediate", "advanced"):
        name = f"minimal-test--level-{level}.apkg"
        assert after[name] == before[name], name


def test_question_edit_rewrites_only_the_decks_that_hold_it(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "out"
    assert cli("anki", "--source", minimal, "--out", out, "-q").code == 0
    before = stamps(out)
    chapter = minimal / "chapters" / "advanced-topics.yaml"
    chapter.write_text(chapter.read_text().replace("is not the endpoint.", "is not your endpoint."))
    run = cli("anki", "--source", minimal, "--out", out)
    assert run.code == 0
    after = stamps(out)
    assert after["minimal-test.apkg"] != before["minimal-test.apkg"]
    assert after["minimal-test--level-advanced.apkg"] != before["minimal-test--level-advanced.apkg"]
    assert after["minimal-test--level-basic.apkg"] == before["minimal-test--level-basic.apkg"]
    assert "same  " in run.out


def test_ebook_after_an_edit_settles_from_the_store_alone(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    """The e-book's page list after a one-word edit: every part but the edited chapter comes from
    the store, and the index (laid out last, with its numbers) must still be laid out then — a
    run once stopped there and reported that page numbers did not settle."""
    out = tmp_path / "out"
    assert cli("epub", "--source", minimal, "--out", out, "-q").code == 0
    chapter = minimal / "chapters" / "basics.yaml"
    chapter.write_text(chapter.read_text().replace("eleven nines) durability", "eleven nines) of durability"))
    for jobs in ("1", "2"):
        run = cli("epub", "--source", minimal, "--out", out, "--jobs", jobs)
        assert run.code == 0, run.err
        chapter.write_text(chapter.read_text().replace("of durability", "durability"))


def test_deleted_output_is_rebuilt(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "out"
    assert cli("epub", "anki", "--source", minimal, "--out", out, "-q").code == 0
    (out / "minimal-test.epub").unlink()
    run = cli("epub", "anki", "--source", minimal, "--out", out)
    assert run.code == 0
    assert (out / "minimal-test.epub").exists()
    assert "unchanged: anki:decks" in run.out


def test_parallel_and_serial_builds_are_identical(tmp_path: Path, cli: Cli) -> None:
    from tests.conftest import copy_bank

    source = copy_bank("minimal", tmp_path)
    assert cli("--source", source, "--out", tmp_path / "serial", "--jobs", "1", "-q").code == 0
    assert cli("--source", source, "--out", tmp_path / "parallel", "--jobs", "2", "-q").code == 0
    serial = sorted(p.name for p in (tmp_path / "serial").iterdir() if p.is_file())
    assert serial == sorted(p.name for p in (tmp_path / "parallel").iterdir() if p.is_file())
    assert len(serial) == 9  # 4 decks, 2 handbooks, 2 flashcard files, 1 e-book
    for name in serial:
        assert bc.sha256(tmp_path / "serial" / name) == bc.sha256(tmp_path / "parallel" / name), name


def _fields(source: Path) -> list[Field]:
    from deckbook.fields import markdown_fields
    from deckbook.load import load_bank

    bank = load_bank(source).bank
    assert bank is not None
    return list(markdown_fields(bank))


def test_markdown_prepared_the_same_in_parallel_and_serial(minimal: Path) -> None:
    from deckbook.prepared import prepare

    fields = _fields(minimal)
    serial = prepare(fields, 1)
    parallel = prepare(fields, 2, min_parallel=1)
    assert [f.key for f in serial.fields] == [f.key for f in parallel.fields]
    assert dict(serial.results) == dict(parallel.results)


def test_markdown_cache_serves_unchanged_fields_and_never_changes_output(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    """The last build's Markdown results are reused for unchanged texts only; a build that used
    them makes the same bytes as a build from nothing; a damaged or stale cache is ignored."""
    import json

    from deckbook.prepared import CACHE_NAME, MarkdownCache, code_version, prepare

    out = tmp_path / "out"
    cache = out / ".deckbook-cache" / CACHE_NAME
    assert cli("anki", "epub", "--source", minimal, "--out", out, "-q").code == 0
    fields = _fields(minimal)
    assert prepare(fields, 1, MarkdownCache.load(cache)).from_cache == len(fields)
    assert prepare(fields, 1, MarkdownCache.load(cache)).results == prepare(fields, 1).results

    chapter = minimal / "chapters" / "advanced-topics.yaml"
    chapter.write_text(chapter.read_text().replace("is not the endpoint.", "is not your endpoint."))
    assert prepare(_fields(minimal), 1, MarkdownCache.load(cache)).from_cache == len(fields) - 1
    assert cli("anki", "epub", "--source", minimal, "--out", out, "-q").code == 0
    assert cli("anki", "epub", "--source", minimal, "--out", tmp_path / "cold", "-q").code == 0
    for f in ("minimal-test.apkg", "minimal-test.epub"):
        assert bc.sha256(out / f) == bc.sha256(tmp_path / "cold" / f), f

    good = cache.read_text()
    wrong_shape = json.dumps({"version": code_version(), "entries": {"k": [1]}})
    for damage in (
        "{not json",
        '{"version": "x"}',
        "[]",
        "",
        wrong_shape,
        good.replace('"version":"', '"version":"other'),
        good[: len(good) // 2],
    ):
        cache.write_text(damage)
        assert prepare(fields, 1, MarkdownCache.load(cache)).from_cache == 0, damage[:40]
    (out / "minimal-test.epub").unlink()
    assert cli("anki", "epub", "--source", minimal, "--out", out, "-q").code == 0
    assert bc.sha256(out / "minimal-test.epub") == bc.sha256(tmp_path / "cold" / "minimal-test.epub")
