"""The shipped bank (source/): valid, locked, fully covered, in our own words, and every output
passes the same checks as the test banks — with the real Anki engine, EPUBCheck, Ace and the PDF."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from deckbook.load import load_bank
from deckbook.model import Bank
from tests import book_checks as bc
from tests.anki_engine import import_apkg, open_collection
from tests.conftest import ROOT, SHIPPED, Cli

pytestmark = pytest.mark.slow
SHARED_TOOLS = ROOT.parent / "shared" / "tools"


@pytest.fixture(scope="session")
def bank() -> Bank:
    loaded = load_bank(SHIPPED)
    assert loaded.bank is not None
    return loaded.bank


def test_check_strict_and_locked(cli: Cli) -> None:
    run = cli("check", "--strict", "--locked", "--source", SHIPPED)
    assert (run.code, run.err) == (0, ""), run.err


@pytest.mark.parametrize("tool", ["coverage.py", "overlap.py"])
def test_seed_coverage_and_own_words(tool: str) -> None:
    script = SHARED_TOOLS / tool
    if not script.exists():
        pytest.skip("../shared/tools is not beside the project")
    result = subprocess.run([sys.executable, str(script), "--source", str(SHIPPED)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]


def test_bank_shape(bank: Bank) -> None:
    assert 12 <= len(bank.chapters) <= 20
    assert len(bank.questions) >= 250 and len(bank.terms) >= 80
    for chapter in bank.chapters:
        levels = {q.level.id for q in chapter.questions if q.level}
        assert {"basic", "advanced"} <= levels, chapter.id
        assert chapter.intro_md and chapter.reviewed == "2026-12"
    assert all(q.explanation_md for q in bank.questions)
    assert sum(1 for q in bank.questions if q.cloze_md) >= 17


def test_deck_imports_with_the_real_engine(shipped: Path, bank: Bank, tmp_path: Path) -> None:
    col = open_collection(tmp_path / "col")
    log = import_apkg(col, shipped / "cloud-interview.apkg")
    clozes = [q.cloze_md for q in bank.questions if q.cloze_md]
    cloze_cards = sum(len(set(re.findall(r"\{\{c(\d+)::", text))) for text in clozes)  # one card per cN
    assert (log.new, log.conflicting) == (len(bank.questions) + len(clozes) + len(bank.terms), 0)
    assert col.card_count() == len(bank.questions) + cloze_cards + 2 * len(bank.terms)
    decks = {d.name for d in col.decks.all_names_and_ids()} - {"Default", "Cloud Interview"}
    assert len(decks) == len(bank.chapters) + 1
    per_deck = Counter(col.decks.name(col.get_card(c).did) for c in col.find_cards("-note:*Term*"))
    assert per_deck["Cloud Interview::01 Cloud foundations and strategy"] >= len(bank.chapters[0].questions)
    assert not list(col.media.check().missing)
    ns = bank.book.namespace
    for chapter in bank.chapters:  # every question of a chapter, and its cloze, carry its tag
        expected = len(chapter.questions) + sum(1 for q in chapter.questions if q.cloze_md)
        assert len(col.find_notes(f"tag:{ns}::chapter::{chapter.id}")) == expected, chapter.id
    for level in ("basic", "intermediate", "advanced", "expert"):
        qs = [q for q in bank.questions if q.level and q.level.id == level]
        assert len(col.find_notes(f"tag:{ns}::level::{level}")) == len(qs) + sum(1 for q in qs if q.cloze_md), level
    assert len(col.find_notes(f"tag:{ns}::glossary")) == len(bank.terms)
    for nid in col.find_notes(""):
        assert col.get_note(nid).cards()
    again = import_apkg(col, shipped / "cloud-interview.apkg")
    assert (again.new, again.updated) == (0, 0)
    col.close()


def test_epub_is_valid_and_accessible(shipped: Path, tmp_path: Path) -> None:
    epub = shipped / "cloud-interview.epub"
    assert bc.epubcheck_messages(epub) == []
    assert bc.zip_layout_problems(epub) == []
    assert bc.broken_links(epub) == []
    violations = bc.ace_report(epub, tmp_path / "ace")
    if violations is not None:
        assert violations == []


def test_epub_page_list_follows_the_a4_handbook(shipped: Path) -> None:
    """Every printed page's marker sits where that page begins: its text is on that PDF page."""
    marks = bc.outline(shipped / "cloud-interview-a4.pdf")
    page_of = {t.split(" ", 1)[0]: p for lvl, t, p in marks if lvl == 2 and t[0].isdigit()}
    assert bc.page_marker_problems(shipped / "cloud-interview.epub", page_of) == []
    assert bc.page_list_text_problems(shipped / "cloud-interview.epub", shipped / "cloud-interview-a4.pdf") == []


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_handbook_numbers_fonts_and_margins(shipped: Path, bank: Bank, paper: str) -> None:
    pdf = shipped / f"cloud-interview-{paper}.pdf"
    assert bc.number_problems(pdf, bank) == []
    assert bc.unembedded_fonts(pdf) == []
    assert bc.glyphs_outside(pdf, inner_mm=24, outer_mm=18, skip_pages={1}) == []
    internal, problems = bc.link_report(pdf)
    assert problems == [] and internal >= len(bank.questions) + len(bank.chapters)  # at least the self-tests and contents
    text = "\n".join(bc.page_texts(pdf))
    assert "\ufffd" not in text


def test_flashcards_cover_every_question(shipped: Path, bank: Bank) -> None:
    import pdfplumber

    with pdfplumber.open(str(shipped / "cloud-interview-flashcards-a4.pdf")) as pdf:
        fronts = " ".join((pdf.pages[i].extract_text() or "") for i in range(2, len(pdf.pages), 2))
    for q in bank.questions:
        assert f"{q.section} " in fronts
