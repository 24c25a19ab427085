"""The renderers' pure builders, in memory (no output folder), and fingerprints derived from jobs."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from deckbook import renderers
from deckbook.options import FlashcardOptions, Options
from deckbook.renderers.anki import build_package, deck_job
from deckbook.renderers.base import fingerprint
from deckbook.renderers.epub import build_epub_files
from deckbook.renderers.handbook import fill_pages, handbook_job
from deckbook.slots import OPEN
from tests.conftest import Cli, memory_context, produce


def test_epub_files_are_well_formed_and_complete(minimal: Path, tmp_path: Path) -> None:
    ctx = memory_context(minimal, tmp_path / "store")
    files = build_epub_files(ctx)
    assert {"EPUB/package.opf", "EPUB/nav.xhtml", "EPUB/toc.ncx", "EPUB/front.xhtml", "EPUB/ch01.xhtml", "EPUB/ch02.xhtml"} <= set(files)
    assert "EPUB/media/azs.svg" in files
    for name, data in files.items():
        if name.endswith((".xhtml", ".opf", ".ncx", ".xml")):
            ET.fromstring(data)  # well-formed XML, or this raises


def test_image_used_only_in_the_book_description_is_in_the_ebook(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    """Regression: the e-book collected images from its own list of fields, which missed the
    book description: the image passed `check`, was linked from front.xhtml and was missing."""
    shutil.copy(minimal / "media" / "azs.svg", minimal / "media" / "about.svg")
    book = minimal / "book.yaml"
    book.write_text(
        book.read_text().replace("A **tiny** bank for tests.", "A **tiny** bank for tests.\n\n  ![What the bank covers](media/about.svg)")
    )
    assert cli("check", "--strict", "--source", minimal).code == 0
    ctx = memory_context(minimal, tmp_path / "store")
    files = produce(ctx, "epub").files
    with zipfile.ZipFile(io.BytesIO(files["minimal-test.epub"])) as zf:
        names = zf.namelist()
        opf = zf.read("EPUB/package.opf").decode()
        front = zf.read("EPUB/front.xhtml").decode()
    assert "EPUB/media/about.svg" in names
    assert 'href="media/about.svg"' in opf
    assert 'src="media/about.svg"' in front


def test_deck_package_is_built_in_memory(minimal: Path, tmp_path: Path) -> None:
    ctx = memory_context(minimal, tmp_path / "store")
    job = deck_job(ctx, "x.apkg", list(ctx.cards.notes))
    data = build_package(job)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist()[:2] == ["collection.anki2", "media"]
        assert len(zf.namelist()) == 2 + len(job.media)
    assert build_package(job) == data  # same job, same bytes


def test_handbook_html_prints_every_page_number_it_is_given(minimal: Path, tmp_path: Path) -> None:
    ctx = memory_context(minimal, tmp_path / "store")
    job = handbook_job(ctx, "a4")
    assert OPEN in job.html  # page references are slots until layout
    html, asked = fill_pages(job, {})
    assert OPEN not in html and '<span data-deckbook-page="howto">000</span>' in html
    assert {"howto", "ch-basics", "q-bas-durability", "q-bas-durability-end"} <= asked
    known = {anchor: 8 + i for i, anchor in enumerate(sorted(asked))}
    laid, again = fill_pages(job, known)  # for layout: zeros, as many as each number has digits
    assert (
        again == asked
        and re.search(r'data-deckbook-page="[^"]+">0</span>', laid)
        and re.search(r'data-deckbook-page="[^"]+">00</span>', laid)
    )
    html, again = fill_pages(job, known, numbers=True)
    assert again == asked and ">000<" not in html
    page = known["howto"]
    assert f'<a href="#howto">How to use this book</a><span class="pg"><span data-deckbook-page="howto">{page}</span></span>' in html


def test_each_option_changes_only_the_units_that_read_it(minimal: Path, tmp_path: Path) -> None:
    base = memory_context(minimal, tmp_path / "a")
    moved = memory_context(minimal, tmp_path / "b", Options(flashcards=FlashcardOptions(offset_mm=(1.0, 0.0))))

    def prints(ctx: object) -> dict[str, str]:
        out = {}
        for target in ("anki", "pdf", "flashcards"):
            renderer = renderers.get(target)
            for unit in renderer.units(ctx):  # type: ignore[arg-type]
                out[unit.key] = fingerprint(renderer.job(ctx, unit))  # type: ignore[arg-type]
        return out

    before, after = prints(base), prints(moved)
    assert {k for k in before if before[k] != after[k]} == {"flashcards:a4", "flashcards:letter"}


def test_a_template_override_that_prints_more_rebuilds_when_that_changes(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    """Fingerprints are derived from what a unit renders: a template that starts printing the
    subtitle makes a subtitle edit rebuild the flashcards, with nothing listed by hand."""
    templates = tmp_path / "templates" / "cards"
    templates.mkdir(parents=True)
    original = (Path(__file__).parents[1] / "templates" / "cards" / "cards.html.jinja").read_text()
    (templates / "cards.html.jinja").write_text(original.replace("<h1>", "<h1>{{ book.subtitle }} — ", 1))
    out = tmp_path / "out"
    args = ("flashcards", "--paper", "a4", "--source", minimal, "--out", out, "--templates", tmp_path / "templates")
    assert cli(*args, "-q").code == 0
    book = minimal / "book.yaml"
    book.write_text(book.read_text().replace("uses every feature once", "uses each feature once"))
    run = cli(*args)
    assert run.code == 0, run.err
    assert "wrote " in run.out and "unchanged" not in run.out


def test_a_unit_that_runs_alone_has_the_machine_to_itself() -> None:
    """The handbook's layout keeps every core busy with its own engines: the scheduler starts
    it only when nothing runs, and nothing beside it."""
    from deckbook.renderers.base import Unit
    from deckbook.scheduler import _startable

    pdf, epub, anki, web = Unit("pdf", "a4", 10, alone=True), Unit("epub", "epub"), Unit("anki", "deck"), Unit("web", "site")
    assert _startable([pdf, anki, web], [], 2) == [pdf]
    assert _startable([pdf, anki, web], [epub], 2) == []  # the lone unit waits for the machine, and nothing jumps ahead
    assert _startable([anki, pdf, web], [epub], 2) == [anki]
    assert _startable([anki, web], [pdf], 2) == []
    assert _startable([anki, web, epub], [], 2) == [anki, web]
