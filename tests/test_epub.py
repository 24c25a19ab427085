"""The e-book: EPUBCheck clean, OCF layout, XML, links, page list, accessibility, reproducibility."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from tests import book_checks as bc
from tests.conftest import Cli, copy_bank


@pytest.fixture(scope="session")
def epub(minimal_build: Path) -> Path:
    return minimal_build / "minimal-test.epub"


def test_epubcheck_reports_nothing(epub: Path) -> None:
    assert bc.epubcheck_messages(epub) == []


def test_mimetype_first_and_stored(epub: Path) -> None:
    assert bc.zip_layout_problems(epub) == []


def test_every_document_is_xml_with_a_language(epub: Path) -> None:
    docs = bc.parse_all(epub)
    xhtml = [root for name, root in docs.items() if name.endswith(".xhtml")]
    assert len(xhtml) >= 7
    for root in xhtml:
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en" and root.get("lang") == "en"


def test_every_link_and_nav_target_resolves(epub: Path) -> None:
    assert bc.broken_links(epub) == []


def test_page_list_matches_the_printed_a4_handbook(epub: Path, minimal_build: Path) -> None:
    with zipfile.ZipFile(epub) as zf:
        nav = zf.read("EPUB/nav.xhtml").decode()
        chapter = zf.read("EPUB/ch01.xhtml").decode()
    pages = re.findall(r'<li><a href="([^"]+)">(\d+)</a></li>', nav.split('epub:type="page-list"')[1])
    assert [int(n) for _, n in pages] == list(range(1, len(pages) + 1))
    a4 = bc.outline(minimal_build / "minimal-test-a4.pdf")
    assert len(pages) == len(bc.page_texts(minimal_build / "minimal-test-a4.pdf"))
    page_of = {title.split(" ", 1)[0]: page for level, title, page in a4 if level == 2 and title[0].isdigit()}
    assert bc.page_marker_problems(epub, page_of) == []
    assert 'id="page-9" aria-label="9"' in chapter  # chapter 1 opens on page 9 of the A4 book


def test_self_test_answers_are_popup_notes_not_hidden_text(epub: Path) -> None:
    with zipfile.ZipFile(epub) as zf:
        chapter = zf.read("EPUB/ch01.xhtml").decode()
        css = zf.read("EPUB/epub.css").decode()
    assert chapter.count('epub:type="noteref"') == chapter.count('epub:type="footnote"') == 2
    assert 'href="#ans-bas-durability"' in chapter and 'id="ans-bas-durability"' in chapter
    assert "display: none" not in css and "display:none" not in css


def test_css_is_conservative(epub: Path) -> None:
    with zipfile.ZipFile(epub) as zf:
        css = zf.read("EPUB/epub.css").decode()
        xhtml = "".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".xhtml"))
    assert "--" not in css  # not even in a comment: it broke Send to Kindle for others
    rules = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    for banned in ("flex", "grid", "var(", "position: fixed", "display: none"):
        assert banned not in rules, banned
    assert " style=" not in xhtml


def test_accessibility_metadata(epub: Path) -> None:
    with zipfile.ZipFile(epub) as zf:
        opf = zf.read("EPUB/package.opf").decode()
    for prop in ("schema:accessMode", "schema:accessibilityFeature", "schema:accessibilityHazard", "schema:accessibilitySummary"):
        assert prop in opf
    assert "EPUB Accessibility 1.1 - WCAG 2.2 Level AA" in opf
    assert "pageBreakSource" in opf


def test_ace_finds_no_violations(epub: Path, tmp_path: Path) -> None:
    violations = bc.ace_report(epub, tmp_path / "ace")
    if violations is None:
        pytest.skip("DAISY Ace is not installed (.ci/run installs it)")
    assert violations == []


def test_two_builds_are_byte_identical(tmp_path: Path, cli: Cli) -> None:
    source = copy_bank("minimal", tmp_path)
    for out in ("a", "b"):
        assert cli("epub", "--source", source, "--out", tmp_path / out, "-q").code == 0
    assert bc.sha256(tmp_path / "a" / "minimal-test.epub") == bc.sha256(tmp_path / "b" / "minimal-test.epub")
