"""Hostile text in a bank must come out as text: no script, markup or unsafe link reaches an output."""

from __future__ import annotations

import re
import sqlite3
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pikepdf
import pytest
import yaml

from deckbook import markup
from deckbook.options import Options
from tests import book_checks as bc
from tests.conftest import Cli, memory_context, produce

SCRIPT = '<script>alert("x")</script>'
HOSTILE_MD = (
    "Plain <script>alert(1)</script> and <img src=x onerror=alert(2)> and <iframe src=https://evil.example>\n\n"
    "[js](javascript:alert(3)) [data](data:text/html;base64,PHNjcmlwdD4=) [vb](vbscript:msgbox) <javascript:alert(4)>\n\n"
    "![x](https://evil.example/track.png) ![y](../../etc/passwd) `<script>in code</script>`\n\n"
    "```html\n<script>alert(5)</script>\n```\n"
)


def hostile_bank(source: Path) -> None:
    """Plain-text fields take any text: fill them with markup that must be escaped."""
    book = yaml.safe_load((source / "book.yaml").read_text())
    book.update(title=f'Bank {SCRIPT} & "Co"', subtitle="</title><style>*{display:none}</style>", author="<img src=x onerror=alert(1)>")
    (source / "book.yaml").write_text(yaml.safe_dump(book, allow_unicode=True))
    chapter = source / "chapters" / "basics.yaml"
    chapter.write_text(chapter.read_text().replace("title: Basics & Storage", "title: 'Basics <b onmouseover=alert(1)>&amp;</b> \"q\"'"))
    registry = yaml.safe_load((source / "index.yaml").read_text())
    registry["entries"][0]["name"] = f"Amazon <S3> {SCRIPT}"
    registry["entries"][1]["note"] = f"Use {SCRIPT} instead."
    (source / "index.yaml").write_text(yaml.safe_dump(registry, allow_unicode=True))
    glossary = yaml.safe_load((source / "glossary.yaml").read_text())
    glossary["terms"][0]["term"] = f"RPO {SCRIPT}"
    (source / "glossary.yaml").write_text(yaml.safe_dump(glossary, allow_unicode=True))


def assert_no_injection_in_xml(name: str, root: ET.Element) -> None:
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        assert tag not in ("script", "iframe", "object", "embed", "style", "b") or name.endswith(".opf"), (name, tag)
        for attr, value in el.attrib.items():
            assert not attr.split("}")[-1].startswith("on"), (name, attr)
            assert not re.match(r"\s*(javascript|data|vbscript):", value, re.I), (name, attr, value)


def test_plain_text_fields_are_escaped_in_every_output(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    hostile_bank(minimal)
    out = tmp_path / "out"
    run = cli("--source", minimal, "--out", out, "--paper", "a4", "-q")
    assert run.code == 0, run.err

    epub = out / "minimal-test.epub"
    assert bc.epubcheck_messages(epub) == []
    for name, root in bc.parse_all(epub).items():
        assert_no_injection_in_xml(name, root)
    with zipfile.ZipFile(epub) as zf:
        chapter = zf.read("EPUB/ch01.xhtml").decode()
    assert "Basics &lt;b onmouseover=alert(1)&gt;&amp;amp;&lt;/b&gt;" in chapter

    with zipfile.ZipFile(out / "minimal-test.apkg") as zf:
        db = tmp_path / "collection.anki2"
        db.write_bytes(zf.read("collection.anki2"))
    with sqlite3.connect(db) as conn:
        fields = "\x1f".join(row[0] for row in conn.execute("select flds from notes"))
        decks = conn.execute("select decks from col").fetchone()[0]
    assert "<script" not in fields and "<b onmouseover" not in fields and "<img src=x" not in fields
    assert "&lt;script&gt;" in fields
    assert "<script" not in decks and "<img src=x" not in decks

    text = "\n".join(bc.page_texts(out / "minimal-test-a4.pdf"))
    assert SCRIPT in text  # printed as the literal text it is
    with pikepdf.open(str(out / "minimal-test-a4.pdf")) as pdf:
        raw = b"".join(bytes(obj.read_bytes()) if isinstance(obj, pikepdf.Stream) else b"" for obj in pdf.objects)
        assert b"/JavaScript" not in raw and b"/JS" not in raw
        for page in pdf.pages:
            for annot in page.get("/Annots", []):
                action = annot.get("/A")
                uri = str(action.get("/URI", "")) if action is not None else ""
                assert not uri.lower().startswith(("javascript:", "data:")), uri


def test_validation_rejects_hostile_markdown(minimal: Path, cli: Cli) -> None:
    chapter = minimal / "chapters" / "advanced-topics.yaml"
    body = "\n".join("      " + line if line else "" for line in HOSTILE_MD.splitlines())
    chapter.write_text(chapter.read_text().replace("    explanation: |\n", "    explanation: |\n" + body + "\n\n", 1))
    run = cli("check", "--source", minimal)
    assert run.code == 1
    errors = "\n".join(run.lines)
    for needle in (
        "<script>",
        "<img src=x",
        "<iframe",
        "javascript:alert(3)",
        "data:text/html",
        "vbscript:",
        "https://evil.example/track.png",
        "../../etc/passwd",
    ):
        assert needle in errors, needle


@pytest.mark.parametrize("target", ["anki", "epub", "pdf", "flashcards"])
def test_renderers_neutralise_hostile_markdown_even_unvalidated(target: str, minimal: Path, tmp_path: Path) -> None:
    """Defence in depth: skip validation entirely and render hostile Markdown anyway."""
    chapter = minimal / "chapters" / "advanced-topics.yaml"
    body = "\n".join("      " + line if line else "" for line in HOSTILE_MD.splitlines())
    chapter.write_text(chapter.read_text().replace("    explanation: |\n", "    explanation: |\n" + body + "\n\n", 1))
    ctx = memory_context(minimal, tmp_path / "cache", Options(papers=("a4",)), validate=False)
    assert produce(ctx, target).files
    explanation = str(ctx.html("print").questions["adv-policy"].explanation)
    assert "<script" not in explanation and "<img src=x" not in explanation and "<iframe" not in explanation
    assert not re.search(r'href="(javascript|data|vbscript):', explanation, re.I)
    assert not re.search(r'src="(https?:|\.\./)', explanation)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in explanation


def test_markdown_allow_lists() -> None:
    assert markup.link_allowed("https://docs.aws.amazon.com/") and markup.link_allowed("mailto:a@b.c")
    for bad in ("javascript:x", "JAVASCRIPT:x", " javascript:x", "http://x", "data:x", "file:///etc/passwd", "//evil"):
        assert not markup.link_allowed(bad), bad
    assert markup.image_allowed("media/a.svg")
    for bad in ("media/../x.svg", "media/sub/a.svg", "media/.hidden.png", "media/a.exe", "/etc/passwd", "https://x/a.png"):
        assert not markup.image_allowed(bad), bad
