"""Where the e-book's page markers go (`deckbook.renderers.pagelist.place`), on small documents."""

from __future__ import annotations

from deckbook.renderers.pagelist import place


def marker(n: int) -> str:
    return f'<span id="page-{n}"/>'


DOCS = {
    "a.xhtml": '<body><section id="q-1"><h2>One</h2><p data-mark="q1.a.1">x</p><p data-mark="q1.a.2">y</p></section>'
    '<section id="q-2"><h2>Two</h2><table data-mark="q2.a.1"><tr><td>z</td></tr></table></section></body>',
}


def test_each_page_marker_goes_first_inside_the_element_that_begins_the_page() -> None:
    got = place(DOCS, [("q-1",), ("q1.a.2",), ("q-2",)], [("q-1",), ("q-1",), ("q-2",)], marker)
    text = got.documents["a.xhtml"]
    assert '<section id="q-1"><span id="page-1"/><h2>' in text
    assert '<p data-mark="q1.a.2"><span id="page-2"/>y' in text
    assert '<section id="q-2"><span id="page-3"/><h2>' in text
    assert got.pages == ((1, "a.xhtml#page-1"), (2, "a.xhtml#page-2"), (3, "a.xhtml#page-3"))


def test_markers_go_before_elements_that_cannot_hold_text() -> None:
    got = place(DOCS, [("q-1",), ("q2.a.1",)], [("q-1",), ("q-2",)], marker)
    assert '<span id="page-2"/><table data-mark="q2.a.1">' in got.documents["a.xhtml"]


def test_a_page_on_which_nothing_begins_shares_the_place_of_the_page_before() -> None:
    """A blank page (or one code block running on) after q-2 began on the page before: its marker
    must not go to the beginning of the section running onto it, which is on the page before."""
    got = place(DOCS, [("q-1",), ("q1.a.2", "q-2"), ()], [("q-1",), ("q-1",), ("q-2",)], marker)
    text = got.documents["a.xhtml"]
    assert '<p data-mark="q1.a.2"><span id="page-2"/><span id="page-3"/>y' in text


def test_an_element_only_print_has_falls_back_to_its_section() -> None:
    got = place(DOCS, [("q-1",), ("print-only", "also-missing")], [("q-1",), ("q-2",)], marker)
    assert '<section id="q-2"><span id="page-2"/><h2>' in got.documents["a.xhtml"]


def test_markers_never_go_back_in_reading_order() -> None:
    got = place(DOCS, [("q-2",), ("q-1",)], [("q-2",), ("q-1",)], marker)
    assert '<section id="q-2"><span id="page-1"/><span id="page-2"/>' in got.documents["a.xhtml"]
