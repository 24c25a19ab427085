"""HTML as Anki stores a field → a small tree, and the text a reader sees in it.

Contract: `parse` never raises, whatever the markup (unclosed tags, stray end tags, entities);
`plain_text` is the field's text line by line; `words` is what must survive any conversion: its
word characters, compatibility-normalised and case-folded (so H₂O and H2O are the same words).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser

BLOCKS = frozenset(
    [
        "div",
        "p",
        "ul",
        "ol",
        "li",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
        "pre",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "section",
        "article",
        "header",
        "footer",
        "nav",
        "aside",
        "figure",
        "figcaption",
        "center",
        "dl",
        "dt",
        "dd",
        "address",
        "details",
        "summary",
        "main",
    ]
)
VOID = frozenset(["br", "img", "hr", "wbr", "input", "meta", "link", "source", "area", "col", "embed", "param", "track"])
DROPPED = frozenset(("script", "style", "head", "title", "template"))


@dataclass
class Node:
    tag: str  # "#text" for text
    attrs: dict[str, str]
    children: list[Node]
    text: str = ""

    def text_content(self) -> str:
        if self.tag == "#text":
            return self.text
        if self.tag == "br":
            return "\n"
        inner = "".join(c.text_content() for c in self.children)
        return f"\n{inner}\n" if self.tag in BLOCKS else inner


class _Parser(HTMLParser):
    """HTML → a small tree, tolerant of what Anki's editor and pasted pages produce."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("", {}, [])
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, [])
        if tag == "p" and self.stack[-1].tag == "p":  # <p> closes an open <p>
            self.stack.pop()
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}, []))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(Node("#text", {}, [], data))


def parse(html: str) -> Node:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.root


def plain_text(html: str) -> str:
    """The field's text as a reader sees it: tags gone, one line per line."""
    text = parse(html).text_content().replace("\xa0", " ")
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def words(text: str) -> str:
    """The word characters of `text`, compatibility-normalised (H₂O → h2o): what must survive."""
    return "".join(re.findall(r"[^\W_]", unicodedata.normalize("NFKC", text).casefold()))


def same_text(fields: tuple[str, ...] | list[str], others: tuple[str, ...] | list[str]) -> bool:
    """Whether two notes' fields (HTML) show the same words: then the note has not changed."""
    return len(fields) == len(others) and all(words(plain_text(a)) == words(plain_text(b)) for a, b in zip(fields, others, strict=True))
