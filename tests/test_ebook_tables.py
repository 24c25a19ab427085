"""Tables in the e-book: which stay tables (with planned widths) and which become records."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from deckbook import markup
from deckbook.ebooktables import MAX_COLUMNS, ebook_tables, longest_word, plan


def table(columns: int, cell: str = "x", rows: int = 2, heading: str = "H") -> str:
    head = "| " + " | ".join(f"{heading}{c}" for c in range(columns)) + " |\n"
    rule = "|" + "---|" * columns + "\n"
    body = "".join("| " + " | ".join(cell for _ in range(columns)) + " |\n" for _ in range(rows))
    return markup.render(head + rule + body)


def test_more_than_four_columns_become_labelled_records() -> None:
    html = ebook_tables(table(MAX_COLUMNS + 1, "`EMAIL#ana@example.com`"))
    assert "<table" not in html and html.count('<div class="record">') == 2
    assert '<dt class="first">H0</dt>\n<dd class="first"><code>EMAIL#ana@example.com</code></dd>' in html
    assert html.count("<dt>H4</dt>") == 2
    ET.fromstring(f"<div>{html}</div>")  # well-formed


def test_narrow_tables_fill_the_page_with_planned_columns() -> None:
    html = ebook_tables(table(3, "short words here"))
    assert html.startswith('<table class="fit"><colgroup><col class="w') and "<thead>" in html
    widths = [int(w) for w in html.split("<colgroup>")[1].split("</colgroup>")[0].replace('<col class="w', " ").replace('"/>', " ").split()]
    assert sum(widths) == 100 and all(w % 5 == 0 and w >= 5 for w in widths)


def test_a_table_whose_words_cannot_fit_a_phone_becomes_records() -> None:
    assert plan([["A", "B", "C"], ["Internationalisation", "Interoperability", "Characteristically"]]) is None
    assert plan([["A", "B"], ["Internationalisation", "Interoperability"]]) is not None


def test_word_widths_know_code_and_wide_scripts() -> None:
    assert longest_word("<code>CodeDeployDefault.LambdaLinear10PercentEvery1Minute</code>") == 8  # code may break anywhere
    assert longest_word("データベース管理システム") == 2  # a line may break between any two ideographs
    assert longest_word("self-managed Kubernetes") == len("Kubernetes")
    assert longest_word("Datenbankverwaltungssystem") == 26


def test_empty_heading_makes_the_record_title() -> None:
    html = ebook_tables(markup.render("| | A | B | C | D |\n|---|---|---|---|---|\n| Row | 1 | 2 | | 4 |\n"))
    assert '<p class="record-title">Row</p>' in html and "<dt>C</dt>" not in html and '<dt class="first">' not in html


def test_everything_outside_tables_is_untouched() -> None:
    page = "<p>before</p>\n" + table(6) + "<p>after <code>x</code></p>\n"
    out = ebook_tables(page)
    assert out.startswith("<p>before</p>\n") and out.endswith("<p>after <code>x</code></p>\n")


@given(st.integers(1, 7), st.text(alphabet="ab -/é漢", min_size=1, max_size=30).filter(str.strip))
def test_any_table_comes_out_well_formed_and_the_same_every_time(columns: int, cell: str) -> None:
    html = table(columns, cell.replace("|", ""))
    out = ebook_tables(html)
    assert out == ebook_tables(html)
    ET.fromstring(f"<div>{out}</div>")
    assert ("<table" in out) == (plan([[f"H{c}" for c in range(columns)], [cell.strip()] * columns]) is not None)
