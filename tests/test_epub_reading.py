"""The e-book as a reading system lays it out: Chromium, the book's own CSS, a reader's settings.

Every document of the spine (and the nav document) is laid out at 360 × 640 (a phone), 600 × 800
and 1072 × 1448 (e-readers), at 100 % and 150 % font size, in a light and a dark theme imposed
the way reading systems do (page and text colours on the root, link colours); then no element
may reach past the page's edges — a paginated reader prints it over the next page — and no text
may fall below 4.5:1 contrast. The code colours are also checked from the stylesheet itself,
against white, sepia and black. One browser serves a test; each document is loaded once and
re-laid out for every setting. Screenshots of a wide table at 360 px are kept in
tests/artifacts/epub/ for a person to look at.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import book_checks as bc
from tests.browser import CHROMIUM, Browser, Page
from tests.conftest import ROOT, build_copy

HARNESS = (ROOT / "tests" / "harness" / "reader-check.js").read_text()
ARTIFACTS = ROOT / "tests" / "artifacts" / "epub"
SCREENS = {360: 640, 600: 800, 1072: 1448}  # width → height, CSS pixels: a phone, a small and a large e-reader
FONTS = (100, 150)  # the reader's font size, percent
THEMES = ("light", "dark")
BACKGROUNDS = {"white": "#ffffff", "sepia": "#f4ecd8", "dark": "#121212", "black": "#000000"}

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")


def unpack(epub: Path, into: Path) -> list[Path]:
    """The EPUB unzipped into `into`; its XHTML documents in spine order, the nav document last."""
    with zipfile.ZipFile(epub) as zf:
        zf.extractall(into)
        opf = zf.read("EPUB/package.opf").decode()
    manifest = dict(re.findall(r'<item id="([^"]+)" href="([^"]+)"', opf))
    spine = [manifest[i] for i in re.findall(r'<itemref idref="([^"]+)"', opf)]
    nav = re.search(r'href="([^"]+)" media-type="application/xhtml\+xml" properties="nav"', opf)
    docs = spine + ([nav.group(1)] if nav and nav.group(1) not in spine else [])
    return [into / "EPUB" / d for d in docs]


def layout_problems(browser: Page, doc: Path) -> Iterator[str]:
    """Every overflow and contrast problem of one document, over every screen, font and theme."""
    browser.viewport(360, 640)
    browser.goto(doc.as_uri())
    browser.evaluate(HARNESS)
    for (width, height), font, theme in ((s, f, t) for s in SCREENS.items() for f in FONTS for t in THEMES):
        browser.viewport(width, height)
        got: dict[str, Any] = browser.evaluate(f'deckbookCheck({{font: {font}, theme: "{theme}"}})')
        where = f"{doc.name} at {width} px, {font} %, {theme}"
        assert got["width"] == width, (where, got["width"])
        if got["scrollWidth"] > width:
            yield f"{where}: the page scrolls sideways ({got['scrollWidth']} px)"
        yield from (f"{where}: wider than the page: {o}" for o in got["overflow"])
        yield from (f"{where}: low contrast: {c}" for c in got["contrast"])


def book_problems(epub: Path, tmp: Path) -> list[str]:
    docs = unpack(epub, tmp / "book")
    with Browser.start(tmp / "profile") as chromium:
        browser = chromium.page(phone=False)
        return [p for doc in docs for p in layout_problems(browser, doc)]


@pytest.fixture(scope="module")
def shipped_epub(shipped: Path) -> Path:
    return shipped / "cloud-interview.epub"


@pytest.mark.slow
@needs_chromium
def test_nothing_is_wider_than_the_page_or_hard_to_read(shipped_epub: Path, tmp_path: Path) -> None:
    """The shipped book: 18 chapters with 75 tables, long code and long identifiers."""
    problems = book_problems(shipped_epub, tmp_path)
    assert problems == [], "\n".join(problems[:40]) + f"\n({len(problems)} problems)"


@needs_chromium
@pytest.mark.parametrize("bank", ["minimal", "de-math"])
def test_test_banks_fit_too(bank: str, minimal_build: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """The minimal bank (images, tables, code) and a German bank with formulas and Japanese."""
    out = minimal_build if bank == "minimal" else build_copy(bank, tmp_path_factory.mktemp(bank))
    problems = book_problems(next(out.glob("*.epub")), tmp_path)
    assert problems == [], "\n".join(problems[:40])


@needs_chromium
def test_cover_fits_the_screen(minimal_build: Path, tmp_path: Path) -> None:
    """The cover is scaled into the screen, whatever its shape: no page of cover below it."""
    cover = next(d for d in unpack(minimal_build / "minimal-test.epub", tmp_path / "book") if d.name == "cover.xhtml")
    with Browser.start(tmp_path / "profile") as chromium:
        browser = chromium.page(phone=False)
        for width, height in ((360, 640), (600, 800), (1072, 1448), (800, 600)):
            browser.viewport(width, height)
            browser.goto(cover.as_uri())
            box = browser.evaluate(
                "(function(){var r=document.querySelector('svg').getBoundingClientRect();"
                "return {w: r.width, h: r.height, scroll: document.documentElement.scrollHeight};})()"
            )
            assert box["h"] <= height and box["w"] <= width and box["scroll"] <= height, (width, height, box)


def css_colours(css: str) -> list[tuple[str, str]]:
    """(selector, colour) of every text colour a stylesheet sets (`color:`, not backgrounds or borders)."""
    rules = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    found = []
    for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", rules):
        for value in re.findall(r"(?<![-\w])color\s*:\s*([^;]+)", body):
            found.append((" ".join(selector.split()), value.strip()))
    return found


def contrast(a: str, b: str) -> float:
    def luminance(hex_colour: str) -> float:
        h = hex_colour.lstrip("#")
        h = "".join(c * 2 for c in h) if len(h) == 3 else h
        channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_helper_agrees_with_wcag() -> None:
    assert round(contrast("#000", "#fff"), 1) == 21.0
    assert round(contrast("#19177C", "#121212"), 1) == 1.3  # Pygments' .nv on a dark page, as reported
    assert round(contrast("#00F", "#121212"), 1) == 2.2


def test_code_is_readable_on_white_sepia_and_black(minimal_build: Path) -> None:
    """Every text colour the shipped stylesheet sets (the code highlighting's included) reaches
    4.5:1 on every reader background; code tokens stay distinguishable by weight and style."""
    with zipfile.ZipFile(minimal_build / "minimal-test.epub") as zf:
        css = zf.read("EPUB/epub.css").decode()
    failing = []
    for selector, value in css_colours(css):
        if not re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", value):
            failing.append(f"{selector}: colour {value!r} cannot be checked")
            continue
        failing += [
            f"{selector}: {value} is {contrast(value, bg):.1f}:1 on {name}" for name, bg in BACKGROUNDS.items() if contrast(value, bg) < 4.5
        ]
    assert failing == []
    assert re.search(r"\.highlight \.k \{[^}]*font-weight: bold", css) and re.search(r"\.highlight \.c1 \{[^}]*font-style: italic", css)


@pytest.mark.slow
@needs_chromium
def test_a_wide_table_at_phone_width_as_a_picture(shipped_epub: Path, tmp_path: Path) -> None:
    """Screenshots for a person to look at: the chapter with the most records at 360 px, light and
    dark, at 100 % and 150 %."""
    docs = [d for d in unpack(shipped_epub, tmp_path / "book") if d.name.startswith("ch")]
    widest = max(docs, key=lambda d: d.read_text().count('class="records"'))
    with Browser.start(tmp_path / "profile") as chromium:
        browser = chromium.page(phone=False)
        browser.viewport(360, 640)
        browser.goto(widest.as_uri())
        browser.evaluate(HARNESS)
        for theme, font in ((t, f) for t in THEMES for f in FONTS):
            browser.evaluate(f'deckbookCheck({{font: {font}, theme: "{theme}"}})')
            browser.evaluate("document.querySelector('.records').scrollIntoView()")
            browser.screenshot(ARTIFACTS / f"records-360-{font}-{theme}.png")
    assert bc.sha256(ARTIFACTS / "records-360-100-light.png") != bc.sha256(ARTIFACTS / "records-360-100-dark.png")
