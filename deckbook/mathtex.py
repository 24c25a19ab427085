"""TeX math in the bank: checked here, then drawn the way each output needs it.

- print (handbook, flashcards): SVG drawn by ziamath (pure Python, its own STIX Two Math font),
  placed as an image whose alternative text is the TeX (read by PDF/UA screen readers);
- e-book and web: MathML from latex2mathml, with the TeX as ``alttext``;
- Anki: the TeX itself between Anki's ``\\(…\\)`` / ``\\[…\\]`` delimiters, which Anki typesets with
  its bundled MathJax on desktop, AnkiDroid and AnkiMobile, offline.

Both converters accept much that is not valid TeX without complaint, so `problem()` checks
first what a reader would otherwise see as silently wrong output: unbalanced braces or
environments, commands neither converter knows, and anything either converter fails on.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ziamath.zmath import Latex

SIZE = 20.0  # ziamath's drawing size; the SVG is then scaled to the text's own size in em
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")


@dataclass(frozen=True)
class Math:
    """One formula, drawn for every output that needs it."""

    tex: str
    display: bool  # a block (or \[…\]) rather than inline
    svg: str  # for print: an <svg> document
    width: float  # em
    height: float  # em
    depth: float  # em below the baseline
    mathml: str  # a <math> element


@cache
def known_commands() -> frozenset[str]:
    import latex2mathml.commands  # the converters load on first use: a bank without formulas never pays for them
    import latex2mathml.symbols_parser

    names: set[str] = set()
    for name in dir(latex2mathml.commands):
        value = getattr(latex2mathml.commands, name)
        if name.isupper() and isinstance(value, str) and value.startswith("\\"):
            names.add(value)
    names.update(k for k in latex2mathml.symbols_parser.SYMBOLS if k.startswith("\\"))
    names.update(("\\\\", "\\{", "\\}", "\\,", "\\;", "\\:", "\\!", "\\ ", "\\|", "\\$", "\\%", "\\&", "\\#", "\\_"))
    return frozenset(names)


def problem(tex: str) -> str | None:
    """What is wrong with `tex`, in words, or None when every output can draw it."""
    if not tex.strip():
        return "is empty"
    depth = 0
    for m in re.finditer(r"\\.|[{}]", tex):
        token = m.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth < 0:
                return "has a '}' without its '{'"
    if depth:
        return f"has {depth} '{{' without '}}'"
    envs: list[str] = []
    for kind, name in re.findall(r"\\(begin|end)\{([^}]*)\}", tex):
        if kind == "begin":
            envs.append(name)
        elif not envs or envs.pop() != name:
            return f"has \\end{{{name}}} without its \\begin{{{name}}}"
    if envs:
        return f"has \\begin{{{envs[-1]}}} without \\end{{{envs[-1]}}}"
    unknown = sorted({m.group(0) for m in _COMMAND.finditer(tex) if m.group(0) not in known_commands()})
    if unknown:
        return f"uses {', '.join(unknown[:3])}, which is not a known TeX math command"
    import latex2mathml.converter

    try:
        latex2mathml.converter.convert(tex)
        _latex(tex).svg()
    except Exception as exc:  # both converters raise assorted errors on bad input
        return f"cannot be typeset ({type(exc).__name__}); check each command's arguments"
    return None


def draw(tex: str, display: bool) -> Math:
    """Every drawing of a formula that `problem()` accepts."""
    import latex2mathml.converter

    svg = _latex(tex).svg()
    box = re.search(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"', svg)
    assert box is not None, "ziamath draws an SVG with a viewBox"
    _, top, width, height = (float(v) for v in box.groups())
    depth = max(0.0, height + top)  # the baseline is y = 0; what lies below it
    mathml = latex2mathml.converter.convert(tex, display="block" if display else "inline")
    mathml = mathml.replace("<math ", f'<math alttext="{html.escape(tex, quote=True)}" ', 1)
    return Math(tex, display, svg, round(width / SIZE, 3), round(height / SIZE, 3), round(depth / SIZE, 3), mathml)


def _latex(tex: str) -> Latex:
    from ziamath.zmath import Latex

    return Latex(tex, size=SIZE)


def svg_data_uri(math: Math) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(math.svg.encode("utf-8")).decode("ascii")


def for_anki(tex: str, display: bool) -> str:
    """TeX between Anki's delimiters; '}}' is spaced out so that it can never close a cloze."""
    body = re.sub(r"\}\}", "} }", tex)
    while "}}" in body:
        body = body.replace("}}", "} }")
    return f"\\[{body}\\]" if display else f"\\({body}\\)"
