"""The one Markdown configuration: CommonMark + GFM tables, code highlighted by Pygments.

Text is parsed with HTML parsing enabled, so that `analyse()` can see raw HTML, headings, links
and images and report them before anything is rendered; `deckbook.prepared` parses each field
once and gives the same tokens to both. `render()` never passes raw HTML through: it renders sanitised copies of those tokens
in which HTML is escaped text, and links and images outside the allow-list are dropped, so hostile
input cannot reach an output even if validation were skipped. Output is well-formed XHTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

MEDIA_PREFIX = "media/"  # Markdown refers to images as media/<file>; renderers rewrite the prefix
IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
_SAFE_LINK = re.compile(r"^(https://|mailto:)", re.IGNORECASE)
_FORMATTER = HtmlFormatter(nowrap=True)
_ALIGN = re.compile(r"^text-align:(left|right|center)$")


def link_allowed(url: str) -> bool:
    """Links may only leave the book for https: pages or mail."""
    return bool(_SAFE_LINK.match(url.strip()))


def image_allowed(src: str) -> bool:
    """Images must be files directly under media/, of a type every reader displays."""
    if not src.startswith(MEDIA_PREFIX):
        return False
    name = src[len(MEDIA_PREFIX) :]
    return bool(name) and "/" not in name and "\\" not in name and not name.startswith(".") and _suffix(name) in IMAGE_TYPES


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _highlight(code: str, lang: str, _attrs: str) -> str:
    """Fenced code → Pygments spans with short CSS classes; same look in every output."""
    lexer = language_lexer(lang)
    if lexer is None:
        return ""  # markdown-it escapes it and wraps it itself
    body = pygments_highlight(code, lexer, _FORMATTER)
    name = lang.split(maxsplit=1)[0].lower()
    return f'<pre class="highlight"><code class="language-{name}">{body}</code></pre>\n'


@cache
def language_lexer(lang: str) -> Any:
    name = (lang or "").split()[0].lower() if lang and lang.strip() else ""
    if not name:
        return None
    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def _tables_without_inline_style(state: Any) -> None:
    """GFM alignment arrives as style="text-align:…"; e-readers want classes, not inline styles."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open"):
            style = token.attrGet("style")
            if style is not None:
                match = _ALIGN.match(str(style))
                token.attrs.pop("style", None)
                if match:
                    token.attrSet("class", f"align-{match.group(1)}")


def _sanitised(tokens: list[Token]) -> list[Token]:
    """Copies of `tokens` that are safe to render: raw HTML becomes escaped text, links whose
    target is not https:/mailto: lose the link, images not under media/ become their alt text.
    Validation reports all of these as errors; this is the defence behind it."""
    out = []
    for token in tokens:
        if token.type in ("html_block", "html_inline"):
            out.append(token.copy(content=escapeHtml(token.content)))
        elif token.children:
            out.append(token.copy(children=_safe_children(token.children)))
        else:
            out.append(token)
    return out


def _safe_children(children: list[Token]) -> list[Token]:
    out: list[Token] = []
    skip_close = 0
    for token in children:
        if token.type == "html_inline":
            out.append(token.copy(content=escapeHtml(token.content)))
        elif token.type == "image" and not image_allowed(str(token.attrGet("src") or "")):
            out.append(_text(token, token.content))
        elif token.type == "link_open" and not link_allowed(str(token.attrGet("href") or "")):
            skip_close += 1
        elif token.type == "link_close" and skip_close:
            skip_close -= 1
        else:
            out.append(token)
    return out


def _text(like: Token, content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    token.level = like.level
    return token


def _make() -> MarkdownIt:
    """HTML parsing is on so that validation can see (and report) raw HTML; rendering never
    passes it through (see _sanitised). Every link is parsed, and judged later."""
    md = MarkdownIt("commonmark", {"html": True, "xhtmlOut": True, "highlight": _highlight, "maxNesting": 20})
    md.enable(["table", "strikethrough"])
    md.core.ruler.push("tables_without_inline_style", _tables_without_inline_style)
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


_MD = _make()  # configuration only: parsing keeps no state between calls (markdown-it-py's env is per call)


def parse(text: str) -> list[Token]:
    """Block-level tokens (HTML parsing on, so that analysis sees it)."""
    return _MD.parse(text)


def render_tokens(tokens: list[Token]) -> str:
    """Tokens from `parse` or `parse_inline` → XHTML, through the sanitiser (never raw HTML)."""
    return str(_MD.renderer.render(_sanitised(tokens), _MD.options, {}))


def parse_inline(text: str) -> list[Token]:
    return _MD.parseInline(text)


def render(text: str) -> str:
    """Block Markdown → HTML (well-formed XHTML fragments)."""
    return render_tokens(parse(text))


def render_inline(text: str) -> str:
    """One line of inline Markdown → HTML without a <p> wrapper (question fronts, titles)."""
    return render_tokens(parse_inline(text))


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


def analyse(text: str, *, inline: bool = False, tokens: list[Token] | None = None) -> Analysis:
    """Report findings, images and card-size measures of `text` (its block `tokens` if already parsed)."""
    findings: list[Finding] = []
    shown: list[str] = []
    words = items = 0
    tokens = parse(text) if tokens is None else tokens
    previous = None
    for token, line in _walk(tokens):
        findings.extend(_check_token(token, line))
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
    if inline:
        blocks = [t for t in tokens if t.nesting == 1 and t.level == 0]
        if len(blocks) > 1 or any(t.type != "paragraph_open" for t in blocks):
            findings.append(Finding(0, "must be one line of inline Markdown (no lists, code blocks or paragraphs)"))
    return Analysis(tuple(findings), tuple(shown), words, items)


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
    kind = token.type
    if kind in ("html_block", "html_inline"):
        tag = token.content.strip().splitlines()[0][:40] if token.content.strip() else "html"
        if tag.startswith("</"):
            return []  # the opening tag is reported already
        return [Finding(line, f"raw HTML is not allowed ({tag}); write Markdown instead")]
    if kind == "heading_open":
        return [Finding(line, "headings are not allowed here; use a bold lead-in or a list")]
    if kind == "link_open":
        href = str(token.attrGet("href") or "")
        if not link_allowed(href):
            return [Finding(line, f"link target '{_clip(href)}' is not allowed; use an https: or mailto: link")]
    if kind == "image":
        src = str(token.attrGet("src") or "")
        findings = []
        if not image_allowed(src):
            findings.append(
                Finding(
                    line, f"image '{_clip(src)}' must be a .svg, .png, .jpg or .gif file directly in source/media/, written as media/<file>"
                )
            )
        if not token.content.strip():
            findings.append(Finding(line, f"image '{_clip(src)}' has no alt text; describe it in ![…]"))
        return findings
    if kind == "fence":
        lang = token.info.strip()
        if not lang:
            return [Finding(line, "fenced code block has no language; write ```json, ```bash, ```text…", is_error=False)]
        if language_lexer(lang) is None:
            return [Finding(line, f"code language '{lang.split()[0]}' is unknown to Pygments; it will not be highlighted", is_error=False)]
    if kind == "code_block":
        return [Finding(line, "indented code block; use a fenced block with a language", is_error=False)]
    return []


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "…"


def pygments_css(selectors: list[str], style: str) -> str:
    """Class-based CSS for highlighted code under `selectors`, in the given Pygments style.

    Only token colours are kept: Pygments' global rules (``pre { line-height }``, line-number
    cells), its block background and its comments would fight each output's own stylesheet
    (and ``--`` inside a CSS comment breaks some e-readers).
    """
    out = []
    defs = str(HtmlFormatter(style=style).get_style_defs(selectors))  # type: ignore[no-untyped-call]
    for raw in defs.splitlines():
        rule = re.sub(r"\s*/\*.*?\*/", "", raw).strip()
        if not rule or rule.startswith(("pre ", "td.linenos", "span.linenos")) or ".hll" in rule:
            continue
        colours = re.sub(r"background(-color)?:[^;}]*;?\s*", "", rule)
        if not re.search(r"\{\s*\}", colours):
            out.append(re.sub(r"\s+", " ", colours))
    return "\n".join(out) + "\n"
