"""'Report a mistake': links from every question to the bank's issue tracker, pre-filled.

`book.yaml`'s `report` is an https URL template; {id}, {version}, {title} and {section} are
replaced by the question's id, the book's version, the question's text and its section number,
each percent-encoded. Without a template there are no links. The handbook prints each link as a
small QR code too, drawn here with segno (locally, as SVG: vector, any size).
"""

from __future__ import annotations

import base64
import io
import urllib.parse

import segno

from deckbook.model import Book, Question


def report_url(book: Book, q: Question, title: str) -> str | None:
    """The pre-filled report link for `q` (`title`: its text, plain), or None without a template."""
    if not book.report:
        return None
    values = {"id": q.id, "version": book.version, "title": title, "section": q.section}
    url = book.report
    for key, value in values.items():
        url = url.replace("{" + key + "}", urllib.parse.quote(value, safe=""))
    return url


def qr_data_uri(url: str) -> str:
    """A QR code of `url` as an SVG data: URI (error correction M, a quiet zone of 2 modules)."""
    buf = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buf, kind="svg", xmldecl=False, svgns=True, nl=False, border=2, scale=1)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def card_url(book: Book) -> str | None:
    """The link on an Anki card: the template filled by Anki itself from the note's fields, so one
    card template serves every note. Anki cannot percent-encode, so {title} is the section and id."""
    if not book.report:
        return None
    url = book.report.replace("{version}", urllib.parse.quote(book.version, safe=""))
    return url.replace("{id}", "{{Id}}").replace("{section}", "{{Section}}").replace("{title}", "{{Section}}%20{{Id}}")
