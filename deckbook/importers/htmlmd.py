"""An Anki field's HTML → the bank's Markdown, keeping every word.

`convert(html, media)` returns `Converted`: Markdown in deckbook's dialect (CommonMark, tables,
~~strikethrough~~, ``$…$`` / ``$$…$$`` math) with no raw HTML, and the *losses*: everything it
could not express, in words, for the import summary. Nothing is dropped silently.

What becomes what:

- ``<b>``/``<strong>``, ``<i>``/``<em>``, ``<s>``/``<del>``, ``<code>``, ``<a href=https:…>``,
  ``<img>`` (files in the package's media), ``<ul>``/``<ol>``, ``<table>``, ``<pre>``,
  ``<blockquote>``: their Markdown. Anki's lines (``<div>``, ``<br>``) become hard line breaks
  (a trailing backslash); an empty line or ``<p>`` starts a paragraph;
- ``<sub>``/``<sup>``: Unicode sub- and superscript characters (H₂O, x², 10ᵗʰ); text with no
  such characters is written ``_(…)`` / ``^(…)`` and reported;
- MathJax ``\\(…\\)`` and ``\\[…\\]``: ``$…$`` and ``$$…$$``; a formula deckbook cannot typeset
  stays as literal ``\\(…\\)`` text (Anki still typesets it on the card) and is reported;
- cloze deletions ``{{c1::answer::hint}}`` and sounds ``[sound:x.mp3]`` stay as written;
- styling (colours, fonts, sizes, underline, highlight), headings (bold text), links to http:
  pages (their text) and images deckbook cannot show are reported.

The result is checked with deckbook's own Markdown analysis and parser: if it holds an error, or
its rendering lost a word, the field is converted again as plain text with its line breaks (and
the loss says so). Every word therefore survives, whatever the HTML.
"""

from __future__ import annotations

import functools
import html as htmllib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from deckbook import analysis, markup, mathtex, mdext
from deckbook.importers.htmltree import BLOCKS, DROPPED, Node, parse
from deckbook.slots import RESERVED, fill

Media = Callable[[str], str | None]  # a file name as the field refers to it → its name in the bank's media/, or None

LINES = frozenset(
    [
        "div",
        "section",
        "article",
        "header",
        "footer",
        "nav",
        "aside",
        "main",
        "center",
        "figure",
        "figcaption",
        "address",
        "li",
        "dt",
        "dd",
        "details",
        "summary",
    ]
)
_SUP = dict(
    zip(
        "0123456789+-=()nitahbcdefgjklmoprsuvwxyzABDEGHIJKLMNOPRTUVW",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵗᵃʰᵇᶜᵈᵉᶠᵍʲᵏˡᵐᵒᵖʳˢᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ",
        strict=True,
    )
)
_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))
_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_SOUND = re.compile(r"\[sound:([^\]]+)\]")
BREAK = "\\\n"  # a hard line break in Markdown


@dataclass(frozen=True)
class Converted:
    """A field as Markdown, and what the conversion could not keep (empty when nothing was lost)."""

    markdown: str
    losses: tuple[str, ...]


def convert(html: str, media: Media) -> Converted:
    """`html` as Markdown (see the module docstring), verified; plain text when that fails."""
    html = html.replace("\t", "    ")
    writer = _Writer(media)
    md = writer.document(parse(html))
    problem = verify(md, writer.text_out())
    if problem is None:
        return Converted(md, tuple(dict.fromkeys(writer.losses)))
    plain = _Writer(media, plain=True)
    md = plain.document(parse(html))
    losses = (*writer.losses, *plain.losses, f"formatting could not be kept as Markdown ({problem}); kept as plain text")
    return Converted(md, tuple(dict.fromkeys(losses)))


def verify(md: str, expected: str) -> str | None:
    """What is wrong with `md`: an error deckbook's analysis finds, or words its rendering lacks."""
    found = analysis.analyse(md)
    errors = [f.message for f in found.findings if f.is_error]
    if errors:
        return errors[0]
    rendered, formulas = markup.render_field(markup.parse(md))
    text = fill(rendered, {mdext.MATH: lambda i: f" {formulas[int(i)][0]} ", mdext.FURIGANA: lambda v: v.replace(mdext.READING_SEP, "")})
    shown = htmllib.unescape(re.sub(r"<[^>]*>", " ", text))
    return None if _visible(shown) == _visible(expected) else "its rendering changes the text"


def _visible(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def escape(text: str, *, all_brackets: bool = False) -> str:
    """Literal text as Markdown that deckbook reads back as the same text. A '[' becomes a
    character reference where it could start a link or span (a backslash would start math);
    with `all_brackets`, every '[', '<' and '&' is escaped, whatever follows."""
    out = re.sub(r"([\\*_`~$|])", r"\\\1", text)
    if all_brackets:  # the plain-text fallback: every '<', '&' and '[' (text that follows may come from another node)
        return re.sub(r"([<&])", r"\\\1", out).replace("[", "&#91;")
    out = re.sub(r"<(?=[A-Za-z/!?])", r"\\<", out)
    out = re.sub(r"&(?=#?[A-Za-z0-9]+;)", r"\\&", out)
    return re.sub(r"\[(?=[^\]]*\][(\[{:])", "&#91;", out)


_LINE_START = re.compile(r"^(#{1,6}(?=\s|$)|>|[+-](?=\s|$)|[=-]+\s*$|\d{1,9}(?=[.)](\s|$)))")


def escape_line_start(line: str) -> str:
    """A line that would start a heading, list, quote or underline is escaped at its start."""
    match = _LINE_START.match(line)
    if not match:
        return line
    if match.group(0)[0].isdigit():
        end = match.end()
        return f"{line[:end]}\\{line[end:]}"
    return "\\" + line


@dataclass(frozen=True)
class _Block:
    kind: str  # "para" | "other"
    text: str


class _Writer:
    """Renders one tree to Markdown, collecting losses and the plain text it means to show."""

    SPECIAL: ClassVar[dict[str, Callable[[_Writer, Node], str]]] = {}  # filled below the class

    def __init__(self, media: Media, *, plain: bool = False) -> None:
        self.media = media
        self.plain = plain
        self.losses: list[str] = []
        self.shown: list[str] = []  # the text the Markdown should show, for verification

    def text_out(self) -> str:
        return " ".join(self.shown)

    def lose(self, what: str) -> None:
        self.losses.append(what)

    # --- blocks -----------------------------------------------------------------------------

    def document(self, root: Node) -> str:
        return "\n\n".join(b.text for b in self.flow(root.children)).strip()

    def flow(self, nodes: list[Node]) -> list[_Block]:
        """Block-level layout of `nodes`: paragraphs (lines joined by hard breaks) and blocks."""
        blocks: list[_Block] = []
        buf: list[str] = []

        def line_break() -> None:
            text = "".join(buf)
            if text.strip() and not text.endswith(BREAK):
                buf.append(BREAK)

        def para_break() -> None:
            text = "".join(buf)
            buf.clear()
            blocks.extend(_Block("para", body) for body in _paragraphs(text))

        for node in _merge_siblings(nodes):
            tag = node.tag
            if tag in DROPPED:
                self.dropped(node)
            elif tag == "br":
                buf.append(BREAK)
            elif tag == "#text" or tag not in BLOCKS:
                buf.append(self.inline(node))
            elif tag in LINES:  # Anki's editor writes a line as <div>: a line of the paragraph
                line_break()
                inner = self.flow(node.children)
                if not inner:  # <div><br></div>: an empty line ends the paragraph
                    para_break()
                elif len(inner) == 1 and inner[0].kind == "para":
                    buf.append(inner[0].text)
                    line_break()
                else:
                    para_break()
                    blocks.extend(inner)
            elif tag == "p":
                para_break()
                blocks.extend(self.flow(node.children))
            else:
                para_break()
                blocks.extend(self.block(node))
        para_break()
        return blocks

    def dropped(self, node: Node) -> None:
        if node.text_content().strip():
            self.lose(f"<{node.tag}> removed")

    def block(self, node: Node) -> list[_Block]:
        tag = node.tag
        if self.plain:
            return self.flow(node.children)
        if tag in ("ul", "ol", "dl"):
            return [_Block("other", self.listing(node))] if tag != "dl" else self.flow(node.children)
        if tag == "table":
            return [_Block("other", self.table(node))]
        if tag == "pre":
            return [_Block("other", self.pre(node))]
        if tag == "blockquote":
            quoted = "\n\n".join(b.text for b in self.flow(node.children))
            return [_Block("other", "\n".join(f"> {ln}" if ln else ">" for ln in quoted.split("\n")))] if quoted else []
        if tag == "hr":
            return [_Block("other", "---")]
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            inner = self.flow(node.children)
            if not inner:
                return []
            self.lose("heading written as bold text")
            return [_Block("para", _wrap("**", b.text) if b.kind == "para" else b.text) for b in inner]
        return self.flow(node.children)  # tr, td… outside a table

    def listing(self, node: Node) -> str:
        ordered = node.tag == "ol"
        try:
            number = int(node.attrs.get("start", "1"))
        except ValueError:
            number = 1
        items = []
        for child in node.children:
            if child.tag == "#text" and not child.text.strip():
                continue
            inner = self.flow(child.children if child.tag == "li" else [child])
            if not inner:
                continue
            marker = f"{number}." if ordered else "-"
            number += 1
            pad = " " * (len(marker) + 1)
            parts = []
            for i, b in enumerate(inner):
                lines = b.text.split("\n")
                first = f"{marker} {lines[0]}" if i == 0 else f"{pad}{lines[0]}"
                parts.append("\n".join([first, *(f"{pad}{ln}" if ln else "" for ln in lines[1:])]))
            loose = len(inner) > 1 and any(b.kind == "para" for b in inner[1:])
            items.append(("\n\n" if loose else "\n").join(parts))
        return "\n".join(items)

    def table(self, node: Node) -> str:
        rows = _own_rows(node)
        cells = [[c for c in r.children if c.tag in ("td", "th")] for r in rows]
        width = max((len(r) for r in cells), default=0)
        if width == 0:
            return ""
        grid = []
        for row in cells:
            texts = []
            for cell in row:
                if cell.attrs.get("colspan", "1") not in ("", "1") or cell.attrs.get("rowspan", "1") not in ("", "1"):
                    self.lose("merged table cells written as single cells")
                inner = [b.text for b in self.flow(cell.children)]
                text = " ".join(inner)
                if "\n" in text:
                    self.lose("line breaks and lists in a table cell written on one line")
                    text = re.sub(r"\\?\n\s*", " ", text)
                texts.append(text.strip())
            grid.append(texts + [""] * (width - len(texts)))
        head, *body = grid
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in body]
        return "\n".join(lines)

    def pre(self, node: Node) -> str:
        code = node.text_content().strip("\n")
        self.shown.append(code)
        classes = (node.attrs.get("class", "") + " " + " ".join(c.attrs.get("class", "") for c in node.children)).split()
        lang = next((c.removeprefix("language-").removeprefix("lang-") for c in classes if c.startswith(("language-", "lang-"))), "")
        lang = lang if lang and markup.language_lexer(lang) is not None else "text"
        fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", code)), default=0))
        return f"{fence}{lang}\n{code}\n{fence}"

    # --- inline -----------------------------------------------------------------------------

    def inline(self, node: Node) -> str:
        tag = node.tag
        if tag == "#text":
            return self.text(node.text)
        if tag in DROPPED:
            self.dropped(node)
            return ""
        special = self.SPECIAL.get(tag)
        if special is not None:
            return special(self, node)
        if any(d.tag in BLOCKS for d in _all_descendants(node)):  # an inline element around lines
            if node.attrs or tag in FORMATS:
                self.lose(f"<{tag}> around several lines dropped")
            return BREAK.join(b.text for b in self.flow(node.children))
        inner = "".join(self.inline(c) for c in _merge_siblings(node.children))
        if self.plain:
            href = node.attrs.get("href", "").strip() if tag == "a" else ""
            return f"{inner} {self.escaped(f'({href})')}" if href and href not in inner else inner
        if tag in FORMATS:
            return self.format(tag, node, inner)
        if tag == "mark":
            self.lose("highlight dropped")
        return self.styled(node, inner)

    def format(self, tag: str, node: Node, inner: str) -> str:
        if tag in ("u", "ins"):
            self.lose("underline dropped")
            return inner
        if tag == "a":
            return self.link(node, inner)
        return _wrap(FORMATS[tag], inner)

    def styled(self, node: Node, inner: str) -> str:
        style = node.attrs.get("style", "").lower()
        if re.search(r"font-weight\s*:\s*(bold|[6-9]00)", style):
            inner = _wrap("**", inner)
        if re.search(r"font-style\s*:\s*italic", style):
            inner = _wrap("*", inner)
        if "line-through" in style:
            inner = _wrap("~~", inner)
        kept = re.sub(r"(font-weight|font-style|text-decoration(-line)?)\s*:[^;]*;?", "", style).strip(" ;")
        if kept or node.attrs.get("color") or node.attrs.get("face") or node.attrs.get("size"):
            what = sorted(
                {m.split(":")[0].strip() for m in kept.split(";") if m.strip()}
                | {a for a in ("color", "face", "size") if node.attrs.get(a)}
            )
            self.lose(f"styling dropped ({', '.join(what)})")
        return inner

    def text(self, text: str) -> str:
        text = re.sub(r"[ \t\r\n\f\v\xa0]+", " ", text)
        if any(c in text for c in RESERVED):
            self.lose("private-use characters deckbook reserves replaced by U+FFFD")
            text = "".join("\ufffd" if c in RESERVED else c for c in text)
        out = []
        last = 0
        for m in _MATH.finditer(text):
            out.append(self.literal(text[last : m.start()]))
            out.append(self.math(m.group(1) if m.group(1) is not None else m.group(2), m.group(2) is not None, m.group(0)))
            last = m.end()
        out.append(self.literal(text[last:]))
        return "".join(out)

    def literal(self, text: str) -> str:
        if not text:
            return ""
        pieces = []
        last = 0
        for m in _SOUND.finditer(text):
            pieces.append(self.escaped(text[last : m.start()]))
            name = self.media(m.group(1))
            if name is None:
                self.lose(f"sound {m.group(1)} is not in the package; kept as text")
                pieces.append(self.escaped(m.group(0)))
            else:
                self.shown.append(f"[sound:{name}]")
                pieces.append(f"[sound:{name}]")
            last = m.end()
        pieces.append(self.escaped(text[last:]))
        return "".join(pieces)

    def escaped(self, text: str) -> str:
        self.shown.append(text)
        return escape(text, all_brackets=self.plain)

    def math(self, tex: str, display: bool, source: str) -> str:
        tex = re.sub(r"\s+", " ", tex).strip()
        wrong = _math_problem(tex) if tex else "is empty"
        if self.plain or wrong is not None or "$" in tex:
            if wrong is not None:
                self.lose(f"math {source[:40]} kept as text: it {wrong}")
            return self.escaped(source)
        self.shown.append(tex)
        return f"$${tex}$$" if display else f"${tex}$"

    def code(self, text: str) -> str:
        text = re.sub(r"\s+", " ", text)
        if not text.strip():
            return self.text(text)
        self.shown.append(text)
        ticks = "`" * (1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
        pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")) else ""
        return f"{ticks}{pad}{text}{pad}{ticks}"

    def link(self, node: Node, inner: str) -> str:
        href = node.attrs.get("href", "").strip()
        if not inner.strip():
            if not href:
                return inner
            inner = self.escaped(href)  # a link without text shows its address
        if markup.link_allowed(href):
            return _wrap("", re.sub(r"(\\\n\s*)+", BREAK, inner), link=href)  # link text is inline: no empty line in it
        if href:
            self.lose(f"link to {href[:80]} kept as its text (deckbook links only to https: and mailto:)")
        return inner

    def image(self, node: Node) -> str:
        src = node.attrs.get("src", "").strip()
        shown = src.split("?")[0].rsplit(".", 1)
        name = self.media(src) if src and len(shown) == 2 and f".{shown[1].lower()}" in markup.IMAGE_TYPES else None
        if name is None:
            self.lose(f"image {src[:80] or '(no source)'} dropped: not a .svg, .png, .jpg or .gif file in the package")
            return ""
        alt = (node.attrs.get("alt") or node.attrs.get("title") or "").strip()
        if not alt:
            alt = re.sub(r"[-_]+", " ", name.rsplit(".", 1)[0]).strip() or "image"
            self.lose(f"image {src[:80]} has no alt text; its file name stands in")
        return f"![{escape(alt, all_brackets=True).replace(']', '&#93;')}](media/{name})"

    def script(self, node: Node, tag: str) -> str:
        text = re.sub(r"\s+", " ", node.text_content()).strip()
        table = _SUP if tag == "sup" else _SUB
        if text and all(c in table for c in text):
            mapped = "".join(table[c] for c in text)
            self.shown.append(mapped)
            return mapped
        if not text:
            return ""
        mark = "^" if tag == "sup" else "_"
        self.lose(f"{'superscript' if tag == 'sup' else 'subscript'} '{text[:30]}' written as {mark}(…)")
        return self.escaped(f"{mark}({text})")

    def ruby(self, node: Node) -> str:
        base = "".join(c.text_content() for c in node.children if c.tag not in ("rt", "rp"))
        reading = "".join(c.text_content() for c in node.children if c.tag == "rt")
        self.lose("ruby reading written in parentheses")
        return self.escaped(f"{base}({reading})" if reading else base)


def _code(writer: _Writer, node: Node) -> str:
    return writer.text(node.text_content()) if writer.plain else writer.code(node.text_content())


def _script(writer: _Writer, node: Node) -> str:
    return writer.script(node, node.tag)


_Writer.SPECIAL = {
    "br": lambda _w, _n: BREAK,
    "img": _Writer.image,
    "code": _code,
    "kbd": _code,
    "samp": _code,
    "tt": _code,
    "sub": _script,
    "sup": _script,
    "ruby": _Writer.ruby,
    "rt": lambda _w, _n: "",
    "rp": lambda _w, _n: "",
}
FORMATS = {
    "b": "**",
    "strong": "**",
    "i": "*",
    "em": "*",
    "cite": "*",
    "dfn": "*",
    "var": "*",
    "s": "~~",
    "del": "~~",
    "strike": "~~",
    "u": "",
    "ins": "",
    "a": "",
}


def _paragraphs(text: str) -> list[str]:
    """Inline Markdown with hard breaks → paragraphs: two breaks in a row end one; each line is
    trimmed and escaped where it would start a block; trailing breaks are dropped."""
    out = []
    for para in re.split(r"\\\n[ ]*\\\n", text):
        lines = [escape_line_start(ln.strip()) for ln in para.split("\n")]
        body = "\n".join(ln for ln in lines if ln and ln != "\\").strip()
        while _ends_with_break(body):
            body = body[:-1].rstrip()
        if body:
            out.append(body)
    return out


def _ends_with_break(text: str) -> bool:
    """A trailing backslash that is a hard break (an odd number of them), not an escaped one."""
    run = len(text) - len(text.rstrip("\\"))
    return run % 2 == 1


@functools.lru_cache(maxsize=4096)
def _math_problem(tex: str) -> str | None:
    """`mathtex.problem`, remembered: a deck repeats its formulas, and drawing one to check it is slow."""
    return mathtex.problem(tex)


def _wrap(delimiter: str, inner: str, *, link: str | None = None) -> str:
    """Emphasis (or, with `link`, a link) around `inner`, its surrounding spaces and line breaks kept outside."""
    core = inner.strip(" ")
    while core.endswith(BREAK):
        core = core[: -len(BREAK)].rstrip(" ")
    while core.startswith(BREAK):
        core = core[len(BREAK) :].lstrip(" ")
    if not core:
        return inner
    start = inner.index(core)
    if link is not None:
        safe = link.replace("<", "%3C").replace(">", "%3E")
        target = f"<{safe}>" if re.search(r"[\s()]", safe) else safe
        return f"{inner[:start]}[{core}]({target}){inner[start + len(core) :]}"
    return f"{inner[:start]}{delimiter}{core}{delimiter}{inner[start + len(core) :]}"


_SAME = {"strong": "b", "em": "i", "del": "s", "strike": "s"}


def _merge_siblings(nodes: list[Node]) -> list[Node]:
    """<b>a</b><b>b</b> → <b>ab</b>: adjacent emphasis would otherwise read as '**a****b**'."""
    out: list[Node] = []
    for node in nodes:
        kind = _SAME.get(node.tag, node.tag)
        if out and kind in ("b", "i", "s") and _SAME.get(out[-1].tag, out[-1].tag) == kind and not node.attrs and not out[-1].attrs:
            out[-1] = Node(out[-1].tag, {}, [*out[-1].children, *node.children])
        else:
            out.append(node)
    return out


def _own_rows(table: Node) -> list[Node]:
    """The rows of `table` itself (in thead, tbody, tfoot or directly), not those of a table inside a cell."""
    rows = []
    for child in table.children:
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(_own_rows(child))
    return rows


def _all_descendants(node: Node) -> list[Node]:
    out = []
    for child in node.children:
        out.append(child)
        out.extend(_all_descendants(child))
    return out
