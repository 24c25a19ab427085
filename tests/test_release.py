"""A new release from the learner's side: tombstones, change tags, the changelog, `diff`, report links."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from anki.consts import CARD_TYPE_REV, QUEUE_TYPE_REV

from tests import book_checks as bc
from tests.anki_engine import import_apkg, open_collection
from tests.conftest import Cli

REPORT = "https://example.org/bank/issues/new?title={id}%20{title}&body=Version%20{version}%2C%20section%20{section}"


def release(cli: Cli, source: Path, out: Path, *targets: str) -> Path:
    run = cli(*targets, "--source", source, "--out", out, "--paper", "a4", "-q")
    assert run.code == 0, run.err
    return out


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def remove_question(chapter: Path, qid: str) -> None:
    """Drop one question (its whole list item) from a chapter file."""
    text = chapter.read_text()
    start = text.index(f"  - id: {qid}\n")
    end = text.find("\n  - id: ", start + 1)
    chapter.write_text(text[:start] + (text[end + 1 :] if end >= 0 else ""))


@pytest.fixture
def two_releases(minimal: Path, tmp_path: Path, cli: Cli) -> tuple[Path, Path, Path]:
    """Release 0.1.0 of the minimal bank, then 0.2.0: one question removed (replaced by another),
    one answer corrected, one chapter renamed (presentation only), the version bumped."""
    edit(minimal / "book.yaml", "chapters: [basics", f"report: {json.dumps(REPORT)}\nchapters: [basics")
    v1 = release(cli, minimal, tmp_path / "v1", "anki", "pdf", "epub")
    basics = minimal / "chapters" / "basics.yaml"
    remove_question(basics, "bas-transfer")
    edit(minimal / "chapters" / "advanced-topics.yaml", "is not the endpoint.", "is not the one endpoint you allow.")
    edit(minimal / "chapters" / "advanced-topics.yaml", "title: Advanced topics", "title: Advanced topics and policies")
    edit(minimal / "book.yaml", 'version: "0.1.0"', 'version: "0.2.0"')
    edit(minimal / "book.yaml", "chapters: [basics", "retired:\n  - {id: bas-transfer, replaced_by: bas-durability}\nchapters: [basics")
    return minimal, v1, tmp_path / "v2"


def test_learner_import_of_the_next_release(two_releases: tuple[Path, Path, Path], tmp_path: Path, cli: Cli) -> None:
    source, v1, v2_out = two_releases
    col = open_collection(tmp_path / "col")
    first = import_apkg(col, v1 / "minimal-test.apkg")
    assert (first.new, first.conflicting) == (5, 0)
    [transfer] = col.find_cards('Id:bas-transfer "note:*Q&A*"')
    card = col.get_card(transfer)
    card.type, card.queue = CARD_TYPE_REV, QUEUE_TYPE_REV  # studied: a review card due in 12 days
    card.ivl, card.due, card.reps = 12, col.sched.today + 12, 4
    col.update_card(card)
    before = {nid: col.get_note(nid).mod for nid in col.find_notes("")}
    schedules = {cid: (col.get_card(cid).ivl, col.get_card(cid).due, col.get_card(cid).reps) for cid in col.find_cards("")}

    v2 = release(cli, source, v2_out, "anki", "pdf", "epub")
    log = import_apkg(col, v2 / "minimal-test.apkg")
    # 0 new, 0 conflicting; updated: the corrected answer and the tombstone; "duplicate": left alone, unchanged
    assert (log.new, log.conflicting, log.updated, log.duplicate) == (0, 0, 2, 3)
    assert col.note_count() == 5
    assert {cid: (col.get_card(cid).ivl, col.get_card(cid).due, col.get_card(cid).reps) for cid in col.find_cards("")} == schedules

    [tomb] = [col.get_note(n) for n in col.find_notes("Id:bas-transfer")]
    assert "minimal-test::retired" in tomb.tags and "minimal-test::changed::0.2.0" in tomb.tags
    assert "Removed from the book in version 0.2.0." in tomb["Answer"] and "Replaced by 1.1" in tomb["Answer"]
    assert "How do you move 500 TB" in tomb["Question"]  # the learner still sees which question it was
    [policy] = [col.get_note(n) for n in col.find_notes('Id:adv-policy "note:*Q&A*"')]
    assert "minimal-test::changed::0.2.0" in policy.tags and "one endpoint you allow" in policy["Answer"]
    # presentation only (a new chapter title): updated, not tagged as a correction
    assert not [n for n in col.find_notes("tag:minimal-test::changed::*") if col.get_note(n)["Id"] not in ("adv-policy", "bas-transfer")]
    untouched = [nid for nid in col.find_notes("Id:bas-durability") if col.get_note(nid).mod == before[nid]]
    assert untouched, "a note whose content did not change is not updated at all"
    assert len(col.find_notes("tag:minimal-test::retired")) == 1
    again = import_apkg(col, v2 / "minimal-test.apkg")
    assert (again.new, again.updated, again.conflicting) == (0, 0, 0)
    col.close()


def test_diff_says_what_the_release_will_do(two_releases: tuple[Path, Path, Path], cli: Cli) -> None:
    source, _, _ = two_releases
    run = cli("diff", "--source", source, "--out", source.parent / "v1")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "release 0.2.0: what importing it does to a learner who has the last release, 0.1.0"
    assert "new notes: 0" in lines
    assert "  bas-transfer  How do you move 500 TB into AWS when the network is slow?  → bas-durability" in lines
    assert any(line.startswith("  adv-policy  ") and line.endswith("[corrected]") for line in lines)
    assert "GUID safety: ok (no id reused, none renamed)" in lines
    data = json.loads(cli("diff", "--json", "--source", source, "--out", source.parent / "v1").out)
    assert (data["version"], data["previous"]) == ("0.2.0", "0.1.0")
    assert [c["key"] for c in data["retired"]] == ["bas-transfer"]
    assert {c["key"] for c in data["updated"] if c["corrected"]} == {"adv-policy"}


def test_changelog_in_book_and_ebook_with_right_pages(two_releases: tuple[Path, Path, Path], cli: Cli) -> None:
    source, _, v2_out = two_releases
    v2 = release(cli, source, v2_out, "pdf", "epub")
    pdf = v2 / "minimal-test-a4.pdf"
    text = "\n".join(bc.page_texts(pdf))
    assert "What changed" in text and "Version 0.2.0" in text
    assert "1 question corrected or extended" in text and "1 question removed" in text
    assert re.search(r"How do you move 500 TB into AWS when the network is slow\? — replaced by 1\.1 \(p\. ?\d+\)", text)
    from deckbook.load import load_bank

    bank = load_bank(source).bank
    assert bank is not None
    assert bc.number_problems(pdf, bank) == []  # the changelog's page numbers too
    with zipfile.ZipFile(v2 / "minimal-test.epub") as zf:
        changes = zf.read("EPUB/changes.xhtml").decode()
    assert "Version 0.2.0" in changes and 'href="ch02.xhtml#q-adv-policy"' in changes
    assert bc.epubcheck_messages(v2 / "minimal-test.epub") == []


@pytest.mark.skipif(shutil.which("zbarimg") is None or shutil.which("pdftoppm") is None, reason="zbar-tools or poppler-utils missing")
def test_report_links_and_qr_codes(two_releases: tuple[Path, Path, Path], tmp_path: Path, cli: Cli) -> None:
    _, v1, _ = two_releases
    expected = "https://example.org/bank/issues/new?title=adv-policy%20How%20do%20you%20restrict%20an%20S3%20bucket%20to%20one%20VPC%20endpoint%3F&body=Version%200.1.0%2C%20section%202.1"
    pdf = v1 / "minimal-test-a4.pdf"
    page = next(p for _, title, p in bc.outline(pdf) if title.startswith("2.1 "))
    subprocess.run(["pdftoppm", "-r", "300", "-f", str(page), "-l", str(page), "-png", str(pdf), str(tmp_path / "p")], check=True)
    [png] = list(tmp_path.glob("p*.png"))
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True, check=False).stdout.split()
    assert expected in decoded
    assert bc.link_report(pdf)[1] == []
    with zipfile.ZipFile(v1 / "minimal-test.epub") as zf:
        assert expected.replace("&", "&amp;") in zf.read("EPUB/ch02.xhtml").decode()
    col = open_collection(tmp_path / "col")
    import_apkg(col, v1 / "minimal-test.apkg")
    [cid] = col.find_cards('Id:adv-policy "note:*Q&A*"')
    answer = col.get_card(cid).answer()
    assert (
        'href="https://example.org/bank/issues/new?title=adv-policy%202.1%20adv-policy&amp;body=Version%200.1.0%2C%20section%202.1"'
        in answer
    )
    col.close()
