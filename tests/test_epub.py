"""The e-book: EPUBCheck clean, OCF layout, XML, links, page list, accessibility, reproducibility."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests import book_checks as bc
from tests.conftest import ROOT, Cli, copy_bank


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
    assert bc.page_list_text_problems(epub, minimal_build / "minimal-test-a4.pdf") == []
    assert 'id="page-9" aria-label="9"' in chapter  # chapter 1 opens on page 9 of the A4 book


def test_self_test_answers_are_popup_notes_not_hidden_text(epub: Path) -> None:
    with zipfile.ZipFile(epub) as zf:
        chapter = zf.read("EPUB/ch01.xhtml").decode()
        css = zf.read("EPUB/epub.css").decode()
    assert chapter.count('epub:type="noteref"') == chapter.count('epub:type="footnote"') == 2
    assert 'href="#ans-bas-durability"' in chapter and 'id="ans-bas-durability"' in chapter
    assert hidden_selectors(css) <= NAV_ONLY  # only the navs for the reader's menus are hidden


NAV_ONLY = {"nav[hidden]", "#landmarks", "#page-list"}


def hidden_selectors(css: str) -> set[str]:
    """Every selector of a rule that hides what it selects (display: none)."""
    rules = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    return {
        sel.strip()
        for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", rules)
        if re.search(r"display:\s*none", body)
        for sel in selectors.split(",")
    }


def test_notes_keep_what_kindle_conversion_reads(epub: Path) -> None:
    """Calibre's AZW3 writer drops namespaced attributes (epub:type): the notes also carry an
    ARIA role and a class, and each note links back to the exact reference that opened it."""
    with zipfile.ZipFile(epub) as zf:
        chapter = zf.read("EPUB/ch01.xhtml").decode()
    ref = re.search(r'<a epub:type="noteref"[^>]*>', chapter)
    note = re.search(r'<aside epub:type="footnote"[^>]*>\s*<p class="label"><a href="#([^"]+)"', chapter)
    assert ref and note
    assert 'role="doc-noteref"' in ref.group(0) and 'class="noteref"' in ref.group(0)
    assert 'role="doc-footnote"' in note.group(0) and 'class="footnote' in note.group(0)
    assert f'id="{note.group(1)}"' in ref.group(0)


def test_contents_in_the_book_are_short_and_the_menu_is_complete(epub: Path) -> None:
    with zipfile.ZipFile(epub) as zf:
        opf = zf.read("EPUB/package.opf").decode()
        contents = zf.read("EPUB/contents.xhtml").decode()
        nav = zf.read("EPUB/nav.xhtml").decode()
        css = zf.read("EPUB/epub.css").decode()
    spine = re.findall(r'<itemref idref="([^"]+)"', opf)
    assert spine[:3] == ["cover", "front", "contents"] and "nav" not in spine
    assert 'href="contents.xhtml"' in nav.split('epub:type="landmarks"')[1]
    assert re.findall(r'<li><a href="(ch\d+\.xhtml)">', contents) == ["ch01.xhtml", "ch02.xhtml"] and "#q-" not in contents
    assert nav.count('href="ch01.xhtml#q-') == 2  # the menu lists every question
    assert re.search(r"nav ol[^{]*\{[^}]*list-style-type: none", css)  # the numbers are in the text


def test_epub2_guide_and_author_filing(epub: Path, tmp_path: Path, cli: Cli) -> None:
    with zipfile.ZipFile(epub) as zf:
        opf = zf.read("EPUB/package.opf").decode()
    guide = dict(re.findall(r'<reference type="(\w+)" title="[^"]+" href="([^"]+)"/>', opf))
    assert guide == {"cover": "cover.xhtml", "toc": "contents.xhtml", "text": "ch01.xhtml"}
    assert '<dc:creator id="creator">deckbook tests</dc:creator>' in opf
    assert '<meta refines="#creator" property="file-as">deckbook tests</meta>' in opf
    assert '<meta refines="#creator" property="role" scheme="marc:relators">aut</meta>' in opf
    source = copy_bank("minimal", tmp_path)
    book = source / "book.yaml"
    book.write_text(book.read_text().replace("author: deckbook tests\n", "author: Jane Doe\nauthor_sort: Doe, Jane\n"))
    assert cli("epub", "--source", source, "--out", tmp_path / "out", "-q").code == 0
    with zipfile.ZipFile(tmp_path / "out" / "minimal-test.epub") as zf:
        assert '<meta refines="#creator" property="file-as">Doe, Jane</meta>' in zf.read("EPUB/package.opf").decode()


def test_cover_scales_to_the_screen(epub: Path) -> None:
    with zipfile.ZipFile(epub) as zf:
        cover = zf.read("EPUB/cover.xhtml").decode()
        png = zf.read("EPUB/cover.png")
        opf = zf.read("EPUB/package.opf").decode()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert f'viewBox="0 0 {width} {height}"' in cover and 'preserveAspectRatio="xMidYMid meet"' in cover
    assert f'<image width="{width}" height="{height}" xlink:href="cover.png"/>' in cover
    assert 'role="img" aria-label="Cover: ' in cover
    assert '<item id="cover" href="cover.xhtml" media-type="application/xhtml+xml" properties="svg"/>' in opf


def test_css_is_conservative(epub: Path) -> None:
    with zipfile.ZipFile(epub) as zf:
        css = zf.read("EPUB/epub.css").decode()
        xhtml = "".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".xhtml"))
    assert "--" not in css  # not even in a comment: it broke Send to Kindle for others
    rules = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    for banned in ("flex", "grid", "var(", "position: fixed", "@media"):
        assert banned not in rules, banned
    assert hidden_selectors(css) == NAV_ONLY
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


def test_kindle_check_reports_what_calibre_reads(epub: Path, tmp_path: Path) -> None:
    """tools/kindle-check.py passes the e-book, and fails one made the old way (no guide, no
    file-as, the nav in the spine); the Calibre conversion part runs where Calibre is installed."""
    script = [sys.executable, str(ROOT / "tools" / "kindle-check.py")]
    run = subprocess.run([*script, str(epub)], capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok   guide: start point 'ch01.xhtml'" in run.stdout and "ok   notes: 3 references, 3 notes" in run.stdout
    old = tmp_path / "old.epub"
    with zipfile.ZipFile(epub) as zf, zipfile.ZipFile(old, "w") as out:
        for item in zf.infolist():
            data = zf.read(item)
            if item.filename == "EPUB/package.opf":
                text = re.sub(r"<guide>.*</guide>", "", data.decode(), flags=re.DOTALL).replace('property="file-as"', 'property="x"')
                data = text.replace('<itemref idref="contents"/>', '<itemref idref="nav"/>').encode()
            out.writestr(item, data)
    run = subprocess.run([*script, str(old)], capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 1
    assert [line.split(":")[0] for line in run.stdout.splitlines() if line.startswith("FAIL")] == ["FAIL guide", "FAIL author", "FAIL nav"]
