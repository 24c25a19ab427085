"""The PDF handbooks and flashcards, inspected with pypdf, pdfplumber and pikepdf."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pdfplumber
import pikepdf
import pymupdf
import pytest
from PIL import Image

from deckbook.load import load_bank
from tests import book_checks as bc
from tests.conftest import BANKS, ROOT, Cli, copy_bank

PAPERS = {"a4": (595.3, 841.9), "letter": (612.0, 792.0)}


@pytest.fixture(scope="session", params=["a4", "letter"])
def handbook(request: pytest.FixtureRequest, minimal_build: Path) -> Path:
    return minimal_build / f"minimal-test-{request.param}.pdf"


def test_page_size(handbook: Path) -> None:
    paper = handbook.stem.rsplit("-", 1)[1]
    with pdfplumber.open(str(handbook)) as pdf:
        for page in pdf.pages:
            assert (round(page.width, 1), round(page.height, 1)) == PAPERS[paper]


def test_outline_lists_chapters_and_questions(handbook: Path) -> None:
    got = [(level, title) for level, title, _ in bc.outline(handbook)]
    assert got == [
        (1, "Contents"),
        (1, "How to use this book"),
        (1, "Basics & Storage"),
        (2, "1.1 How durable is Amazon S3 Standard?"),
        (2, "1.2 How do you move 500 TB into AWS when the network is slow?"),
        (2, "Self-test: Basics & Storage"),
        (1, "Advanced topics"),
        (2, "2.1 How do you restrict an S3 bucket to one VPC endpoint?"),
        (2, "Self-test: Advanced topics"),
        (1, "Glossary"),
        (1, "Index of services"),
    ]


def test_every_printed_page_number_is_where_its_target_is(handbook: Path) -> None:
    marks = bc.outline(handbook)
    page_of = {title: page for _, title, page in marks}
    section_page = {t.split(" ", 1)[0]: p for lvl, t, p in marks if lvl == 2 and t[0].isdigit()}
    texts = bc.page_texts(handbook)
    contents = texts[page_of["Contents"] - 1]
    for title in ("How to use this book", "Basics & Storage", "Advanced topics", "Glossary", "Index of services"):
        line = next(ln for ln in contents.splitlines() if title in ln)
        assert int(re.findall(r"(\d+)\s*$", line)[0]) == page_of[title], line
    selftest = texts[page_of["Self-test: Basics & Storage"] - 1]
    assert bc.page_refs(selftest) == [section_page["1.1"], section_page["1.2"]]
    body = texts[section_page["1.1"] - 1]
    assert f"See 2.1 (p. {section_page['2.1']})" in body
    index = texts[page_of["Index of services"] - 1]
    assert re.search(rf"Amazon S3\s*{section_page['1.1']}, {section_page['2.1']}\b", index), index
    numbers = [n for t in texts for n in bc.page_refs(t)]
    assert numbers and 0 not in numbers


def test_all_text_is_extractable(handbook: Path, minimal_build: Path) -> None:
    text = "\n".join(bc.page_texts(handbook))
    assert "\ufffd" not in text
    for phrase in ("Designed for 99.999999999%", "aws:SourceVpce", "The most data, measured in time"):
        assert phrase in text


def test_fonts_are_embedded(handbook: Path) -> None:
    assert bc.unembedded_fonts(handbook) == []


def test_no_glyph_outside_the_text_block(handbook: Path) -> None:
    assert bc.glyphs_outside(handbook, inner_mm=24, outer_mm=18, skip_pages={1}) == []


def test_tagged_pdf_with_language_and_metadata(handbook: Path) -> None:
    with pikepdf.open(str(handbook)) as pdf:
        assert "/StructTreeRoot" in pdf.Root
        assert bool(pdf.Root.MarkInfo.Marked)
        assert str(pdf.Root.Lang) == "en"
        meta = pdf.open_metadata()
        assert meta["dc:title"] == "Minimal Bank"
        assert "deckbook tests" in str(meta["dc:creator"])
        assert "pdfuaid:part" in str(pdf.Root.Metadata.read_bytes())


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_flashcard_backs_mirror_fronts(paper: str, minimal_build: Path) -> None:
    path = minimal_build / f"minimal-test-flashcards-{paper}.pdf"
    with pdfplumber.open(str(path)) as pdf:
        assert len(pdf.pages) == 4  # instructions + blank, then one front/back sheet
        front, back = pdf.pages[2], pdf.pages[3]
        width = front.width
        positions = {}
        for page, side in ((front, "front"), (back, "back")):
            for word in page.extract_words():
                if re.fullmatch(r"\d+\.\d+", word["text"]):
                    positions[(side, word["text"])] = (word["x0"], word["top"])
    sections = sorted({s for _, s in positions})
    assert sections == ["1.1", "1.2", "2.1"]
    for s in sections:
        fx, fy = positions[("front", s)]
        bx, by = positions[("back", s)]
        mm = 72 / 25.4
        card_w, pad = 90 * mm, 4.5 * mm
        # long-edge flip: the back's card edge is the front's card edge mirrored across the page
        assert abs((width - (fx - pad) - card_w) - (bx - pad)) < 1.0 and abs(fy - by) < 0.5, s


def test_flashcard_offset_moves_only_the_backs(tmp_path: Path, cli: Cli, minimal_build: Path) -> None:
    source = copy_bank("minimal", tmp_path)
    run = cli("flashcards", "--paper", "a4", "--source", source, "--out", tmp_path / "out", "--card-offset", "2,-1.5", "-q")
    assert run.code == 0, run.err

    def first_number(path: Path, index: int) -> tuple[float, float]:
        with pdfplumber.open(str(path)) as pdf:
            word = next(w for w in pdf.pages[index].extract_words() if w["text"] == "1.1")
            return word["x0"], word["top"]

    base, moved = minimal_build / "minimal-test-flashcards-a4.pdf", tmp_path / "out" / "minimal-test-flashcards-a4.pdf"
    assert first_number(moved, 2) == pytest.approx(first_number(base, 2), abs=0.01)
    bx, by = first_number(base, 3)
    mx, my = first_number(moved, 3)
    mm = 72 / 25.4
    assert mx - bx == pytest.approx(2 * mm, abs=0.1) and my - by == pytest.approx(-1.5 * mm, abs=0.1)


def test_two_builds_are_byte_identical(tmp_path: Path, cli: Cli) -> None:
    source = copy_bank("minimal", tmp_path)
    for out in ("a", "b"):
        assert cli("pdf", "flashcards", "--paper", "a4", "--source", source, "--out", tmp_path / out, "-q").code == 0
    for name in ("minimal-test-a4.pdf", "minimal-test-flashcards-a4.pdf"):
        assert bc.sha256(tmp_path / "a" / name) == bc.sha256(tmp_path / "b" / name)


def test_levels_in_the_bank_match_the_badges(handbook: Path, minimal_build: Path) -> None:
    bank = load_bank(BANKS / "minimal").bank
    assert bank is not None
    text = "\n".join(bc.page_texts(handbook))
    for q in bank.questions:
        assert q.level is not None and q.level.label.upper() in text


def test_internal_links_resolve(handbook: Path) -> None:
    internal, problems = bc.link_report(handbook)
    assert problems == []
    assert internal >= 5 + 3 + 3 + 2  # contents, self-test entries, cross-references, index entries


def test_index_page_numbers_link_to_their_pages(handbook: Path) -> None:
    """Each page number or range in the index is a link to the page it names (the index is laid
    out as its own part: its links to the chapters' questions are joined when the parts merge)."""
    index_page = bc.outline(handbook)[-1][2]  # the last entry of the outline: the index
    links = []
    with pymupdf.open(str(handbook)) as doc:  # type: ignore[no-untyped-call]
        for page in list(doc)[index_page - 1 :]:
            for link in page.get_links():
                label = page.get_textbox(link["from"]).strip().splitlines()[-1]  # the box may touch the line above
                links.append((label, link.get("page", -1) + 1))
    assert links, "no links in the index"
    for label, target in links:
        first = re.match(r"\d+", label)
        assert first is not None and int(first.group(0)) == target, (label, target)


COVER = (27, 42, 58)  # #1b2a3a, the cover colour in print.css


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed (.ci/run installs it)")
def test_cover_reaches_the_trim_on_every_side(handbook: Path, tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "100", "-f", "1", "-l", "1", "-png", str(handbook), str(tmp_path / "p")], check=True)
    [png] = list(tmp_path.glob("p*.png"))
    image = Image.open(png).convert("RGB")
    w, h = image.size
    # one pixel in: the rasteriser rounds a page of 210 mm up to a whole pixel, which lies off the page
    for x, y in ((1, 1), (w - 2, 1), (1, h - 2), (w - 2, h - 2), (w // 2, 1), (w - 2, h // 2)):
        assert image.getpixel((x, y)) == COVER, (x, y)
    words = " ".join(bc.page_texts(handbook)[0].split())
    assert "deckbook tests" in words and "Version 0.1.0" in words  # the author and version lines stay on page 1


def test_font_subsets_do_not_depend_on_the_system_subsetter(tmp_path: Path) -> None:
    """WeasyPrint subsets fonts with the system's HarfBuzz-Subset when present and with fontTools
    (which stamps the clock into each subset) when not: deckbook subsets them itself, so a machine
    without the library makes the same bytes. Simulated here by hiding the library."""
    source = copy_bank("minimal", tmp_path)
    hide = "import weasyprint.text.ffi as f, weasyprint.pdf.fonts as p; f.harfbuzz_subset = None; p.harfbuzz_subset = None; "
    outputs = []
    for name, prelude in (("with", ""), ("without", hide), ("later", hide)):
        out = tmp_path / name
        argv = ["pdf", "--paper", "a4", "--source", str(source), "--out", str(out), "-q"]
        code = f"{prelude}from deckbook.cli import main; raise SystemExit(main({argv!r}))"
        env = {**os.environ, "SOURCE_DATE_EPOCH": "1764547200"}
        subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
        outputs.append((out / "minimal-test-a4.pdf").read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]


def test_merged_parts_keep_one_whole_structure_tree(handbook: Path) -> None:
    """The handbook is laid out in parts (front matter, chapters, back matter) and merged: one
    Document element, every marked-content id reached exactly once, ParentTree and links intact."""
    assert bc.structure_problems(handbook) == []
    if shutil.which("pdfinfo"):
        tree = subprocess.run(["pdfinfo", "-struct-text", str(handbook)], capture_output=True, text=True, check=True).stdout
        assert tree.startswith("Document\n") and tree.count("\nDocument") == 0
        for title in ("Basics & Storage", "Advanced topics", "Glossary", "Index of services"):
            assert title in tree, title


def test_flashcards_laid_out_in_pieces_make_the_same_file(tmp_path: Path) -> None:
    """The sheets are laid out a few at a time (memory) and joined: the same pages, in order,
    with the first piece's metadata, as one layout of them all."""
    from deckbook.renderers.flashcards import build_flashcards, flashcard_job
    from tests.conftest import memory_context

    source = copy_bank("minimal", tmp_path)
    chapter = source / "chapters" / "basics.yaml"
    text = chapter.read_text(encoding="utf-8")
    extra = [
        f"  - id: extra-{n:02d}\n    question: Extra question {n}?\n    answer: |\n      Extra answer {n}.\n"
        "    level: basic\n    kind: concept\n"
        for n in range(17)
    ]
    chapter.write_text(text.rstrip("\n") + "\n" + "".join(extra), encoding="utf-8")
    ctx = memory_context(source, tmp_path / "store")
    whole, whole_pages, _ = build_flashcards(flashcard_job(ctx, "a4"))
    pieces = flashcard_job(ctx, "a4", sheets_per_layout=1)
    assert len(pieces.html) == 3  # 20 cards: three sheets, one per layout
    joined, joined_pages, _ = build_flashcards(pieces)
    assert joined_pages == whole_pages == 2 + 3 * 2

    def pages(data: bytes) -> list[str]:
        with pymupdf.open(stream=data, filetype="pdf") as doc:  # type: ignore[no-untyped-call]
            return [page.get_text() for page in doc]

    assert pages(joined) == pages(whole)
    assert "Extra question 16?" in pages(joined)[-2] and "Extra answer 16." in pages(joined)[-1]
    with pikepdf.open(io.BytesIO(joined)) as a, pikepdf.open(io.BytesIO(whole)) as b:
        assert a.docinfo["/Title"] == b.docinfo["/Title"]
    assert build_flashcards(pieces)[0] == joined  # deterministic
