"""Property-based tests: whatever the input, loading returns a bank or problems, never an exception."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deckbook.analysis import analyse
from deckbook.load import load_bank
from deckbook.markup import render
from deckbook.pipeline import check_source
from deckbook.yamlio import read_yaml
from tests.conftest import BANKS

KEYS = [
    "id",
    "title",
    "reviewed",
    "intro",
    "questions",
    "question",
    "answer",
    "explanation",
    "level",
    "kind",
    "index",
    "acknowledges",
    "s3",
    "tags",
    "cloze",
    "see",
    "origin",
    "extra",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "basic",
            "expert",
            "concept",
            "s3",
            "bas-durability",
            "S1-001",
            "2026-11",
            "2024-01",
            "retired",
            "{{c1::x}}",
            "<b>",
            "# h",
            "media/azs.svg",
        ]
    ),
)
values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=6)), max_leaves=25
)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.binary(max_size=400))
def test_read_yaml_never_raises_on_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.yaml"
        path.write_bytes(data)
        doc, problems = read_yaml(path, "f.yaml")
        assert doc.data is not None or problems or not data.strip()


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("ab:- \n\t'\"[]{}&*!|>#%@`,?0")), max_size=200))
def test_read_yaml_never_raises_on_yaml_like_text(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.yaml"
        path.write_text(text, encoding="utf-8")
        read_yaml(path, "f.yaml")


@SETTINGS
@given(values)
def test_any_chapter_structure_gives_a_bank_or_problems(chapter: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source"
        shutil.copytree(BANKS / "minimal", source)
        (source / "chapters" / "advanced-topics.yaml").write_text(yaml.safe_dump(chapter, allow_unicode=True))
        checked = check_source(source)  # load + validate: must not raise
        assert checked.bank is not None or checked.problems


@SETTINGS
@given(
    st.dictionaries(st.sampled_from(["title", "author", "version", "language", "deck", "namespace", "chapters", "x"]), values, max_size=8)
)
def test_any_book_yaml_gives_a_bank_or_problems(book: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source"
        shutil.copytree(BANKS / "minimal", source)
        (source / "book.yaml").write_text(yaml.safe_dump(book, allow_unicode=True))
        loaded = load_bank(source)
        assert loaded.bank is not None or loaded.problems


@SETTINGS
@given(st.text(max_size=300))
def test_markdown_render_and_analyse_never_raise_and_never_emit_raw_html(text: str) -> None:
    html = render(text)
    analyse(text)
    analyse(text, inline=True)
    assert "<script" not in html.lower()
