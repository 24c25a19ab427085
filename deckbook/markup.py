"""The one Markdown configuration: CommonMark + GFM tables, code highlighted by Pygments, and
deckbook's extensions (math, language spans, furigana: `deckbook.mdext`).

Text is parsed with HTML parsing enabled, so that `deckbook.analysis` can see raw HTML, headings,
links and images and report them before anything is rendered; `deckbook.prepared` parses each
field once and gives the same tokens to both. Rendering never passes raw HTML through: it renders sanitised copies of those tokens
in which HTML is escaped text, and links and images outside the allow-list are dropped, so hostile
input cannot reach an output even if validation were skipped. Output is well-formed XHTML.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from deckbook import mdext

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
        elif token.type == "span_open" and (token.attrs.keys() - {"lang"} or mdext.span_attrs_problem(token.attrs)):
            out.append(token.copy(attrs={}))  # only a well-formed lang survives
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
    mdext.use(md)
    md.core.ruler.push("tables_without_inline_style", _tables_without_inline_style)
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


_MD = _make()  # configuration only: parsing keeps no state between calls (markdown-it-py's env is per call)


def parse(text: str) -> list[Token]:
    """Block-level tokens (HTML parsing on, so that analysis sees it)."""
    return _MD.parse(text)


def render_tokens(tokens: list[Token]) -> str:
    """Tokens from `parse` or `parse_inline` → XHTML, through the sanitiser (never raw HTML)."""
    return render_field(tokens)[0]


def render_field(tokens: list[Token]) -> tuple[str, list[tuple[str, bool]]]:
    """XHTML with a slot for each formula and reading, and the formulas (TeX, displayed) in slot order."""
    env: dict[str, Any] = {}
    html = str(_MD.renderer.render(_sanitised(tokens), _MD.options, env))
    return html, list(env.get("math", []))


def parse_inline(text: str) -> list[Token]:
    return _MD.parseInline(text)


def render(text: str) -> str:
    """Block Markdown → HTML (well-formed XHTML fragments)."""
    return render_tokens(parse(text))


def render_inline(text: str) -> str:
    """One line of inline Markdown → HTML without a <p> wrapper (question fronts, titles)."""
    return render_tokens(parse_inline(text))


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
