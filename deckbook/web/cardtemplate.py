"""Anki's card template language, the part deckbook's card templates use, for the card preview.

Contract: `render_card(template, fields, …)` gives the HTML Anki would show for one side of one
card, following Anki's own rules (rslib/src/template.rs and cloze.rs):

- ``{{Field}}`` is the field's HTML as it is; ``{{#Field}}…{{/Field}}`` is shown when the field is
  not empty and ``{{^Field}}…{{/Field}}`` when it is (a field holding only whitespace, <br> or
  <div> tags counts as empty);
- ``{{FrontSide}}`` on the back is the rendered front;
- filters are written before the field and applied right to left: ``{{text:furigana:X}}``
  applies ``furigana`` first. ``cloze`` hides the card's own deletion on the front (``[...]`` or
  ``[hint]``) and highlights it on the back; ``furigana`` turns ``base[reading]`` into <ruby>;
  ``kana`` and ``kanji`` keep one of the two; ``text`` drops the tags;
- an unknown field or filter, or an unbalanced section, raises `TemplateError`, as Anki shows an
  error on the card instead of rendering it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_EMPTY = re.compile(r"^(?:\s|\xa0|</?(?:br|div) ?/?>)*$", re.IGNORECASE)
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
_FURIGANA = re.compile(r" ?([^ >]+?)\[(.+?)\]")
_TAGS = re.compile(r"<[^>]*>")
FRONT_SIDE = "FrontSide"


class TemplateError(ValueError):
    """The template cannot be rendered: Anki would show this message on the card."""


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Replace:
    field: str
    filters: tuple[str, ...]  # in the order they are written (applied last to first)


@dataclass(frozen=True)
class Section:
    field: str
    inverted: bool
    children: tuple[Node, ...]


Node = Text | Replace | Section


def parse(template: str) -> tuple[Node, ...]:
    """The template as a tree of text, replacements and sections."""
    stack: list[tuple[str | None, bool, list[Node]]] = [(None, False, [])]
    pos = 0
    for match in _TAG.finditer(template):
        if match.start() > pos:
            stack[-1][2].append(Text(template[pos : match.start()]))
        pos = match.end()
        tag = match.group(1).strip()
        if tag[:1] in ("#", "^"):
            stack.append((tag[1:].strip(), tag[0] == "^", []))
        elif tag[:1] == "/":
            name = tag[1:].strip()
            open_name, inverted, children = stack.pop() if len(stack) > 1 else (None, False, [])
            if open_name != name:
                raise TemplateError(f"{{{{/{name}}}}} closes {('{{#' + open_name + '}}') if open_name else 'nothing'}")
            stack[-1][2].append(Section(name, inverted, tuple(children)))
        else:
            *filters, field = (part.strip() for part in tag.split(":"))
            stack[-1][2].append(Replace(field, tuple(filters)))
    if len(stack) > 1:
        raise TemplateError(f"{{{{#{stack[-1][0]}}}}} is never closed")
    if pos < len(template):
        stack[0][2].append(Text(template[pos:]))
    return tuple(stack[0][2])


def is_empty(value: str) -> bool:
    """Anki's notion of an empty field: nothing but whitespace, <br> and <div> tags."""
    return bool(_EMPTY.match(value))


def cloze_ordinals(text: str) -> list[int]:
    """The card numbers a cloze field makes: one per distinct cN, in order."""
    return sorted({int(n) for n, _, _ in _CLOZE.findall(text)})


def cloze(text: str, ordinal: int, question: bool) -> str:
    """Anki's cloze filter for card `ordinal`: its deletions hidden (front) or marked (back); the
    other cards' deletions show their text."""

    def sub(match: re.Match[str]) -> str:
        number, answer, hint = int(match.group(1)), match.group(2), match.group(3)
        if number != ordinal:
            return f'<span class="cloze-inactive" data-ordinal="{number}">{answer}</span>'
        if question:
            shown = f"[{hint}]" if hint else "[...]"
            return f'<span class="cloze" data-cloze="{html.escape(answer, quote=True)}" data-ordinal="{number}">{shown}</span>'
        return f'<span class="cloze" data-ordinal="{number}">{answer}</span>'

    return _CLOZE.sub(sub, text)


def furigana(text: str) -> str:
    """``base[reading]`` → <ruby>, as Anki's furigana filter does (``[sound:…]`` stays)."""

    def sub(match: re.Match[str]) -> str:
        if match.group(2).startswith("sound:"):
            return match.group(0)
        return f"<ruby><rb>{match.group(1)}</rb><rt>{match.group(2)}</rt></ruby>"

    return _FURIGANA.sub(sub, text.replace("&nbsp;", " "))


def kana(text: str) -> str:
    return _FURIGANA.sub(lambda m: m.group(0) if m.group(2).startswith("sound:") else m.group(2), text.replace("&nbsp;", " "))


def kanji(text: str) -> str:
    return _FURIGANA.sub(lambda m: m.group(0) if m.group(2).startswith("sound:") else m.group(1), text.replace("&nbsp;", " "))


def strip_tags(text: str) -> str:
    return html.unescape(_TAGS.sub("", text))


@dataclass(frozen=True)
class Side:
    """What one side of one card is rendered with."""

    fields: Mapping[str, str]
    ordinal: int = 1  # the card's number (cloze: which deletion; otherwise the template's position + 1)
    question: bool = True
    front_side: str = ""  # the rendered front, for {{FrontSide}} on the back


def _apply(name: str, value: str, side: Side) -> str:
    if name == "cloze":
        return cloze(value, side.ordinal, side.question)
    simple = {"furigana": furigana, "kana": kana, "kanji": kanji, "text": strip_tags}
    if name not in simple:
        raise TemplateError(f"no filter called '{name}'")
    return simple[name](value)


def _value(node: Replace, side: Side) -> str:
    if node.field == FRONT_SIDE and not node.filters:
        return side.front_side
    if node.field not in side.fields:
        raise TemplateError(f"{{{{{node.field}}}}}: no field called '{node.field}'")
    value = side.fields[node.field]
    for name in reversed(node.filters):
        value = _apply(name, value, side)
    return value


def _render(nodes: Sequence[Node], side: Side) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, Text):
            out.append(node.text)
        elif isinstance(node, Replace):
            out.append(_value(node, side))
        else:
            if node.field not in side.fields and node.field != FRONT_SIDE:
                raise TemplateError(f"{{{{#{node.field}}}}}: no field called '{node.field}'")
            shown = not is_empty(side.fields.get(node.field, side.front_side))
            if shown != node.inverted:
                out.append(_render(node.children, side))
    return "".join(out)


def render_card(template: str, side: Side) -> str:
    """One side of one card: `template` (Anki's syntax) filled from `side`."""
    return _render(parse(template), side)
