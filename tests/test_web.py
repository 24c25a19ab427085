"""The web edition and the card preview, checked in their real outputs: links and fragments, the
Nu HTML Checker, headless Chromium (no console errors at 360 and 1280 px, light and dark; search;
self-tests), axe-core, and the card preview rendered with the deck's own templates."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from deckbook.cli import main
from deckbook.renderers import web
from deckbook.renderers.base import Runtime
from deckbook.web import cardtemplate as ct
from deckbook.web.preview import build_preview
from tests import web_checks as wc
from tests.browser import CHROMIUM, Browser, Page
from tests.conftest import ROOT, Cli, copy_bank, memory_context

ARTIFACTS = ROOT / "tests" / "artifacts" / "web"
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
needs_vnu = pytest.mark.skipif(
    shutil.which("java") is None or not wc.VNU_JAR.exists(), reason="needs Java and vnu-jar (.ci/run installs them)"
)
needs_axe = pytest.mark.skipif(not wc.AXE.exists(), reason="axe-core is not installed (.ci/run installs it)")


def build_site(name: str, root: Path) -> Path:
    """The web edition of a copy of bank `name`, built with `build.py html`; the site folder."""
    source = copy_bank(name, root)
    out = root / "output"
    assert main(["html", "--source", str(source), "--out", str(out), "-q"]) == 0
    (site,) = [p for p in out.iterdir() if p.name.endswith("-html")]
    return site


@pytest.fixture(scope="module")
def minimal_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site("minimal", tmp_path_factory.mktemp("web-minimal"))


@pytest.fixture(scope="module")
def de_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site("de-math", tmp_path_factory.mktemp("web-de"))


@pytest.fixture(scope="module")
def shipped_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site("shipped", tmp_path_factory.mktemp("web-shipped"))


@pytest.fixture(scope="module")
def shipped_preview(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The card preview of the shipped bank, as files, next to a web edition (its pages link up)."""
    root = tmp_path_factory.mktemp("preview-shipped")
    ctx = memory_context(copy_bank("shipped", root), root / "store")
    folder = root / "site" / "preview"
    folder.mkdir(parents=True)
    for name, data in build_preview(ctx).items():
        (folder / name).write_bytes(data)
    (root / "site" / "index.html").write_text("<!DOCTYPE html><title>home</title>")
    return folder


# ---------------------------------------------------------------- the site, as files


def test_default_build_includes_the_web_edition(minimal_build: Path) -> None:
    site = minimal_build / "minimal-test-html"
    assert {"index.html", "ch01.html", "ch02.html", "glossary.html", "bank-index.html", "search.html", "style.css"} <= {
        p.name for p in site.iterdir()
    }
    assert (site / "media" / "azs.svg").is_file()


def test_html_is_another_name_for_the_web_target(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    run = cli("html", "--source", minimal, "--out", tmp_path / "out")
    assert run.code == 0, run.err
    assert all(line.endswith("(web)") for line in run.out.splitlines() if line.startswith("wrote "))
    assert (tmp_path / "out" / "minimal-test-html" / "index.html").is_file()
    assert not list((tmp_path / "out").glob("*.apkg"))


def test_every_local_link_and_fragment_resolves(minimal_site: Path, de_site: Path) -> None:
    assert wc.link_problems(minimal_site) == []
    assert wc.link_problems(de_site) == []


@pytest.mark.slow
def test_every_link_of_the_shipped_bank_resolves(shipped_site: Path) -> None:
    assert wc.link_problems(shipped_site) == []
    assert (shipped_site / "changes.html").is_file()  # the shipped ledger has a history


def test_nothing_is_loaded_from_elsewhere(minimal_site: Path) -> None:
    css = (minimal_site / "style.css").read_text()
    assert "@import" not in css and "url(" not in css  # no remote (or any) fonts
    for page in minimal_site.glob("*.html"):
        text = page.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text.replace('href="https://', "")), page.name
    for script in ("search.js",):
        assert "fetch(" not in (minimal_site / script).read_text() and "http" not in (minimal_site / script).read_text()


def test_chapter_page_has_sections_answers_self_test_and_cross_references(minimal_site: Path) -> None:
    page = (minimal_site / "ch01.html").read_text()
    assert '<h2 id="q-bas-durability-title"><span class="section-number">1.1</span> How durable is <strong>Amazon S3</strong>' in page
    assert '<p class="see">See also: <a href="ch02.html#q-adv-policy">2.1</a> How do you restrict an S3 bucket' in page
    self_test = page.split('id="selftest-basics"', 1)[1]
    assert self_test.count("<details>") == 2 and "<summary>Answer 1.1</summary>" in self_test
    assert 'Discussed in full at <a href="ch01.html#q-bas-durability">1.1</a>.' in self_test
    assert '<div class="wide" tabindex="0" role="group" aria-label="Table"><table>' in page  # tables scroll in their own box
    assert '<img src="media/azs.svg" alt="A diagram of three Availability Zones"' in page
    home = (minimal_site / "index.html").read_text()
    assert '<a href="ch02.html"><span class="chapter-number">2</span> Advanced topics</a>' in home


def test_glossary_and_index_pages_link_to_their_questions(minimal_site: Path) -> None:
    glossary = (minimal_site / "glossary.html").read_text()
    assert 'id="g-term-rpo"' in glossary
    index = (minimal_site / "bank-index.html").read_text()
    assert '<h1 id="index">Index of services</h1>' in index
    assert re.search(r'<li id="e-s3"><strong>Amazon S3</strong>: <a href="ch01.html#q-bas-durability">1.1</a>', index)


def test_no_changes_page_for_a_first_release(minimal_site: Path) -> None:
    assert not (minimal_site / "changes.html").exists()
    assert "changes.html" not in (minimal_site / "index.html").read_text()


def test_report_links_when_the_book_names_a_tracker(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    book = minimal / "book.yaml"
    book.write_text(book.read_text() + 'report: "https://example.org/issues/new?title={section}%20{title}&id={id}"\n')
    assert cli("web", "--source", minimal, "--out", tmp_path / "out", "-q").code == 0
    page = (tmp_path / "out" / "minimal-test-html" / "ch01.html").read_text()
    assert (
        '<p class="report"><a href="https://example.org/issues/new?title=1.1%20How%20durable%20is%20Amazon%20S3%20Standard%3F'
        '&amp;id=bas-durability">Report a mistake</a></p>' in page
    )


def test_formulas_are_mathml_and_readings_ruby_in_the_book_language(de_site: Path) -> None:
    pages = "".join(p.read_text() for p in de_site.glob("ch*.html"))
    assert '<html lang="de">' in pages and "<math " in pages and "<ruby>" in pages
    assert "\\(" not in pages and "$a^2" not in pages
    assert "Glossar" in (de_site / "index.html").read_text()  # the catalogue's words


def test_search_index_holds_every_question_and_term(minimal_site: Path) -> None:
    text = (minimal_site / "search-index.js").read_text()
    assert text.startswith(f"self.{web.SEARCH_GLOBAL} = ")
    data = json.loads(text.split(" = ", 1)[1].rstrip().rstrip(";"))
    questions = [i for i in data["items"] if i["s"]]
    assert [i["s"] for i in questions] == ["1.1", "1.2", "2.1"]
    assert questions[0]["u"] == "ch01.html#q-bas-durability" and "eleven nines" in questions[0]["t"]
    assert any(i["u"] == "glossary.html#g-term-rpo" for i in data["items"])


def test_web_job_is_reproducible_and_paths_are_relative(tmp_path: Path) -> None:
    ctx = memory_context(copy_bank("minimal", tmp_path), tmp_path / "store")
    renderer = web.WebRenderer()
    (unit,) = renderer.units(ctx)
    produced = renderer.produce(renderer.job(ctx, unit), Runtime(ctx.store))
    assert all(name.startswith("minimal-test-html/") and ".." not in name for name in produced.files)
    again = renderer.produce(renderer.job(ctx, unit), Runtime(ctx.store))
    assert again.files == produced.files


# ---------------------------------------------------------------- Anki's template language


FIELDS = {"Question": "Q?", "Answer": "<p>A.</p>", "Empty": " <br> ", "Text": "a {{c1::b::hint}} c {{c2::d}}", "Reading": "漢字[かんじ] x"}


def side(**kw: object) -> ct.Side:
    return ct.Side(FIELDS, **kw)  # type: ignore[arg-type]


def test_fields_sections_and_front_side() -> None:
    template = "{{Question}}{{#Answer}}[{{Answer}}]{{/Answer}}{{#Empty}}no{{/Empty}}{{^Empty}}empty{{/Empty}}"
    assert ct.render_card(template, side()) == "Q?[<p>A.</p>]empty"
    assert ct.render_card("{{FrontSide}}<hr id=answer>{{Answer}}", side(question=False, front_side="F")) == "F<hr id=answer><p>A.</p>"


def test_cloze_hides_its_own_deletion_and_shows_the_others() -> None:
    front = ct.render_card("{{cloze:Text}}", side(ordinal=1))
    assert front == (
        'a <span class="cloze" data-cloze="b" data-ordinal="1">[hint]</span> c <span class="cloze-inactive" data-ordinal="2">d</span>'
    )
    back = ct.render_card("{{cloze:Text}}", side(ordinal=2, question=False))
    assert back == 'a <span class="cloze-inactive" data-ordinal="1">b</span> c <span class="cloze" data-ordinal="2">d</span>'
    assert ct.render_card("{{cloze:Text}}", side(ordinal=2)).endswith('<span class="cloze" data-cloze="d" data-ordinal="2">[...]</span>')
    assert ct.cloze_ordinals(FIELDS["Text"]) == [1, 2]


def test_furigana_kana_kanji_and_text_filters_right_to_left() -> None:
    assert ct.render_card("{{furigana:Reading}}", side()) == "<ruby><rb>漢字</rb><rt>かんじ</rt></ruby> x"
    assert ct.render_card("{{kana:Reading}}", side()) == "かんじ x"
    assert ct.render_card("{{kanji:Reading}}", side()) == "漢字 x"
    assert ct.render_card("{{text:Answer}}", side()) == "A."
    assert ct.render_card("{{text:furigana:Reading}}", side()) == "漢字かんじ x"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{Nope}}", "no field called 'Nope'"),
        ("{{#Answer}}x", "{{#Answer}} is never closed"),
        ("{{#Answer}}x{{/Question}}", "{{/Question}} closes {{#Answer}}"),
        ("{{hint:Answer}}", "no filter called 'hint'"),
    ],
)
def test_template_errors_are_reported_as_anki_would(template: str, message: str) -> None:
    with pytest.raises(ct.TemplateError, match=re.escape(message)):
        ct.render_card(template, side())


def test_preview_shows_every_card_of_every_note_with_the_deck_templates(tmp_path: Path) -> None:
    ctx = memory_context(copy_bank("minimal", tmp_path), tmp_path / "store")
    files = build_preview(ctx)
    assert {"index.html", "ch01.html", "ch02.html", "glossary.html", "card.css", "preview.js"} <= set(files)
    assert files["card.css"].decode().startswith("/* deckbook card style")
    ch01 = files["ch01.html"].decode()
    assert ch01.count("<iframe ") == 2 * 3  # two Q&A notes and one cloze note, front and back each
    assert "[...]" in ch01 and "eleven nines" in ch01 and "srcdoc=" in ch01
    assert "class=&#34;db-answer&#34;" in ch01 or "class=&quot;db-answer&quot;" in ch01
    glossary = files["glossary.html"].decode()
    assert glossary.count("<iframe ") == 4 * len(ctx.bank.terms)  # two cards per term


def test_preview_formulas_are_mathml_not_tex(tmp_path: Path) -> None:
    ctx = memory_context(copy_bank("de-math", tmp_path), tmp_path / "store")
    page = "".join(data.decode() for name, data in build_preview(ctx).items() if name.endswith(".html"))
    assert "&lt;math " in page and "\\(" not in page
    assert "&lt;ruby&gt;" in page  # readings already rendered; the furigana filter leaves the rest alone


def test_preview_pages_are_rendered_again_only_when_their_notes_change(tmp_path: Path) -> None:
    source = copy_bank("minimal", tmp_path)
    memo: dict[str, tuple[str, bytes]] = {}
    build_preview(memory_context(source, tmp_path / "store"), memo)
    first = dict(memo)
    chapter = source / "chapters" / "advanced-topics.yaml"
    chapter.write_text(chapter.read_text().replace("is not the endpoint.", "is not your endpoint."))
    build_preview(memory_context(source, tmp_path / "store"), memo)
    assert memo["ch01.html"] is first["ch01.html"]
    assert memo["ch02.html"] != first["ch02.html"]


# ---------------------------------------------------------------- validators and the browser


@pytest.mark.slow
@needs_vnu
def test_nu_html_checker_finds_no_error_in_any_page(minimal_site: Path, de_site: Path, shipped_site: Path) -> None:
    assert wc.vnu_errors(minimal_site, de_site, shipped_site) == []


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (.ci/run installs it)")
    with Browser.start(tmp_path_factory.mktemp("chromium")) as b:
        yield b


def open_page(browser: Browser, url: str, width: int, dark: bool) -> Page:
    page = browser.page(width=width, height=800, dark=dark)
    page.goto(url)
    return page


OVERFLOW = """(() => {
  const width = document.documentElement.clientWidth, wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('pre, .wide, .math-display, iframe')) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1) wide.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
  }
  return {scroll: document.documentElement.scrollWidth, width, wide};
})()"""


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_pages_render_without_errors_or_overflow(
    browser: Browser, shipped_site: Path, shipped_preview: Path, width: int, dark: bool
) -> None:
    scheme = "dark" if dark else "light"
    for label, path in [
        ("home", shipped_site / "index.html"),
        ("chapter", shipped_site / "ch07.html"),
        ("preview", shipped_preview / "ch07.html"),
    ]:
        page = open_page(browser, path.as_uri(), width, dark)
        measured = page.evaluate(OVERFLOW)
        assert measured["scroll"] <= width and measured["wide"] == [], (label, measured)
        assert page.errors == [], (label, page.errors)
        page.screenshot(ARTIFACTS / f"{label}-{width}-{scheme}.png")
    frames = page.evaluate("Array.from(document.querySelectorAll('iframe')).map(f => f.contentDocument.body.className)")
    assert frames and all(c.startswith("card card") for c in frames)
    assert all(("nightMode" in c) == dark for c in frames)  # the preview follows the reader's scheme until told otherwise


@pytest.mark.slow
@needs_chromium
def test_preview_switches_to_night_mode_and_desktop_width(browser: Browser, shipped_preview: Path) -> None:
    page = open_page(browser, (shipped_preview / "ch01.html").as_uri(), 1280, False)
    page.evaluate("document.querySelector('input[value=night]').click(); document.querySelector('input[value=desktop]').click()")
    state = page.evaluate(
        "({night: Array.from(document.querySelectorAll('iframe')).every(f => f.contentDocument.body.classList.contains('nightMode')),"
        " width: document.querySelector('iframe').getBoundingClientRect().width,"
        " background: getComputedStyle(document.querySelector('iframe').contentDocument.body).backgroundColor})"
    )
    assert state["night"] and state["width"] > 900 and state["background"] == "rgb(30, 32, 36)"
    assert page.errors == []


def answer_word(site: Path) -> tuple[str, str]:
    """A word that appears in one question's answer and in no question's own text, and that question's link."""
    data = json.loads((site / "search-index.js").read_text().split(" = ", 1)[1].rstrip().rstrip(";"))
    questions = " ".join(i["q"].lower() for i in data["items"])
    counts: dict[str, list[str]] = {}
    for item in data["items"]:
        for word in set(re.findall(r"[a-z]{9,}", item["t"].lower())):
            counts.setdefault(word, []).append(item["u"])
    word, (url,) = next((w, us) for w, us in sorted(counts.items()) if len(us) == 1 and w not in questions)
    return word, url


@pytest.mark.slow
@needs_chromium
def test_search_finds_a_question_by_a_word_of_its_answer(browser: Browser, shipped_site: Path) -> None:
    word, url = answer_word(shipped_site)
    page = open_page(browser, (shipped_site / "search.html").as_uri(), 360, False)
    page.evaluate(f"""(() => {{ const q = document.getElementById('search-q'); q.focus(); q.value = {json.dumps(word.upper())};
        document.getElementById('search-form').requestSubmit(); }})()""")
    found = page.evaluate("""({status: document.getElementById('search-status').textContent,
        live: document.getElementById('search-status').getAttribute('role'),
        links: Array.from(document.querySelectorAll('#search-results a')).map(a => a.getAttribute('href')),
        marks: Array.from(document.querySelectorAll('#search-results mark')).map(m => m.textContent.toLowerCase())})""")
    assert found["links"] == [url] and found["status"] == "Found: 1" and found["live"] == "status"
    assert word in found["marks"]
    page.screenshot(ARTIFACTS / "search-360.png")
    again = open_page(browser, (shipped_site / "search.html").as_uri() + "?q=zzzqqq", 1280, True)  # from a link, e.g. the header's form
    assert again.evaluate("document.getElementById('search-status').textContent") == "Nothing contains all of these words."
    assert page.errors == [] and again.errors == []


@pytest.mark.slow
@needs_chromium
def test_a_self_test_answer_opens_in_place(browser: Browser, shipped_site: Path) -> None:
    page = open_page(browser, (shipped_site / "ch01.html").as_uri(), 360, False)
    before = page.evaluate("document.querySelector('.self-test-answer').checkVisibility()")
    page.evaluate("document.querySelector('.self-test summary').click()")
    after = page.evaluate("({open: document.querySelector('.self-test details').open,"
                          " shown: document.querySelector('.self-test-answer').checkVisibility()})")  # fmt: skip
    assert before is False and after == {"open": True, "shown": True}


@pytest.mark.slow
@needs_chromium
@needs_axe
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_axe_finds_no_violation(browser: Browser, shipped_site: Path, de_site: Path, dark: bool) -> None:
    axe = wc.AXE.read_text(encoding="utf-8")
    word, _ = answer_word(shipped_site)
    pages = [shipped_site / n for n in ("index.html", "ch07.html", "glossary.html", "bank-index.html", "changes.html")]
    urls = [p.as_uri() for p in pages] + [(shipped_site / "search.html").as_uri() + f"?q={word}", (de_site / "ch01.html").as_uri()]
    found = {}
    for url in urls:
        for width in (360, 1280):
            page = open_page(browser, url, width, dark)
            page.evaluate(axe)
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => "
                                   "v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))")  # fmt: skip
            if result:
                found[f"{url.rsplit('/', 1)[1]} {width}"] = result
    assert found == {}
