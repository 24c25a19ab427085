"""Findings in one Markdown field, from its tokens: what validation reports, and card-size measures.

Everything here reads the tokens `deckbook.markup.parse` made (HTML parsing on, so raw HTML is
seen) and never renders anything. Messages name the fault and what to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from markdown_it.token import Token

from deckbook import mathtex, mdext
from deckbook.markup import MEDIA_PREFIX, image_allowed, language_lexer, link_allowed, parse
from deckbook.slots import CLOSE, OPEN


@dataclass(frozen=True)
class Finding:
    """Something analyse() found: the 0-based line inside the text and what is wrong."""

    line: int
    message: str
    is_error: bool = True


@dataclass(frozen=True)
class Analysis:
    """Everything validation needs from one Markdown field, from a single parse."""

    findings: tuple[Finding, ...]
    images: tuple[str, ...]  # media/ file names shown (allowed ones only)
    words: int  # words outside code
    items: int  # top-level list items
    chars: str = ""  # every distinct character printed as text (math excluded: it brings its own font)
    languages: tuple[str, ...] = ()  # languages of {lang=…} spans
    furigana: bool = False  # uses base[reading]


def analyse(text: str, *, inline: bool = False, tokens: list[Token] | None = None) -> Analysis:
    """Report findings, images and card-size measures of `text` (its block `tokens` if already parsed)."""
    findings: list[Finding] = []
    shown: list[str] = []
    words = items = 0
    tokens = parse(text) if tokens is None else tokens
    previous = None
    printed: set[str] = set()
    languages: dict[str, None] = {}
    furigana = False
    for token, line in _walk(tokens):
        findings.extend(_check_token(token, line))
        if token.type in ("text", "code_inline", "fence", "code_block", "image"):
            content = _FURIGANA_SLOT.sub(r"\1\2", token.content)
            furigana = furigana or content != token.content
            printed.update(content)
        elif token.type == "span_open":
            languages[str(token.attrGet("lang") or "")] = None
        if token.type == "inline" and previous is not None and previous.type == "th_open" and not token.content.strip():
            findings.append(Finding(line, "a table header cell is empty; name the column (screen readers announce it)", is_error=False))
        previous = token
        if token.type == "image":
            src = str(token.attrGet("src") or "")
            if image_allowed(src):
                shown.append(src[len(MEDIA_PREFIX) :])
        elif token.type == "text":
            words += len(token.content.split())
        elif token.type == "list_item_open" and token.level <= 1:
            items += 1
    findings.extend(_lazy_continuations(text))
    for tex, _, line in mdext.formulas(tokens):
        wrong = mathtex.problem(tex)
        if wrong:
            findings.append(Finding(line, f"math '{_clip(tex)}' {wrong}"))
    if inline:
        blocks = [t for t in tokens if t.nesting == 1 and t.level == 0]
        if len(blocks) > 1 or any(t.type != "paragraph_open" for t in blocks):
            findings.append(Finding(0, "must be one line of inline Markdown (no lists, code blocks or paragraphs)"))
    chars = "".join(sorted(printed - {"\n", "\r", "\t"}))
    return Analysis(tuple(findings), tuple(shown), words, items, chars, tuple(k for k in languages if k), furigana)


_FURIGANA_SLOT = re.compile(f"{OPEN}{mdext.FURIGANA}([^{mdext.READING_SEP}]*){mdext.READING_SEP}([^{CLOSE}]*){CLOSE}")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _lazy_continuations(text: str) -> list[Finding]:
    """An unindented line right after a list item silently joins that item ("lazy continuation"):
    the author almost always meant a new paragraph, which needs a blank line first."""
    findings = []
    in_fence = False
    previous_is_item = False
    for number, line in enumerate(text.splitlines()):
        if _FENCE.match(line):
            in_fence = not in_fence
            previous_is_item = False
            continue
        if in_fence:
            continue
        if not line.strip():
            previous_is_item = False
            continue
        is_item = bool(_LIST_ITEM.match(line))
        if previous_is_item and not is_item and not line[0].isspace() and not line.startswith(("|", ">")):
            findings.append(
                Finding(number, "this line continues the list item above; leave a blank line before a new paragraph", is_error=False)
            )
        previous_is_item = is_item or (previous_is_item and line[0].isspace())
    return findings


def _walk(tokens: list[Token]) -> Iterator[tuple[Token, int]]:
    line = 0
    for token in tokens:
        if token.map:
            line = token.map[0]
        yield token, line
        for child in token.children or []:
            yield child, line


def _check_token(token: Token, line: int) -> list[Finding]:
    check = _CHECKS.get(token.type)
    return [Finding(line, message, is_error) for message, is_error in check(token)] if check else []


def _raw_html(token: Token) -> list[tuple[str, bool]]:
    tag = token.content.strip().splitlines()[0][:40] if token.content.strip() else "html"
    if tag.startswith("</"):
        return []  # the opening tag is reported already
    return [(f"raw HTML is not allowed ({tag}); write Markdown instead", True)]


def _link(token: Token) -> list[tuple[str, bool]]:
    href = str(token.attrGet("href") or "")
    return [] if link_allowed(href) else [(f"link target '{_clip(href)}' is not allowed; use an https: or mailto: link", True)]


def _image(token: Token) -> list[tuple[str, bool]]:
    src = str(token.attrGet("src") or "")
    out = []
    if not image_allowed(src):
        where = "directly in the bank's media/ folder, written as media/<file>"
        out.append((f"image '{_clip(src)}' must be a .svg, .png, .jpg or .gif file {where}", True))
    if not token.content.strip():
        out.append((f"image '{_clip(src)}' has no alt text; describe it in ![…]", True))
    return out


def _span(token: Token) -> list[tuple[str, bool]]:
    wrong = mdext.span_attrs_problem(dict(token.attrs))
    return [(wrong, True)] if wrong else []


def _fence(token: Token) -> list[tuple[str, bool]]:
    lang = token.info.strip()
    if not lang:
        return [("fenced code block has no language; write ```json, ```bash, ```text…", False)]
    if language_lexer(lang) is None:
        return [(f"code language '{lang.split()[0]}' is unknown to Pygments; it will not be highlighted", False)]
    return []


_CHECKS: dict[str, Callable[[Token], list[tuple[str, bool]]]] = {
    "html_block": _raw_html,
    "html_inline": _raw_html,
    "heading_open": lambda _t: [("headings are not allowed here; use a bold lead-in or a list", True)],
    "link_open": _link,
    "image": _image,
    "span_open": _span,
    "fence": _fence,
    "code_block": lambda _t: [("indented code block; use a fenced block with a language", False)],
}


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "…"
