"""What deckbook adds to CommonMark: math, language spans and furigana, each rendered as a slot.

- Math: ``$…$`` and ``\\(…\\)`` inline, ``$$…$$`` and ``\\[…\\]`` displayed (also inside a
  paragraph). Pandoc's rule keeps prices text: an opening ``$`` must be followed, and a closing
  ``$`` preceded, by a non-space, and a closing ``$`` must not be followed by a digit — so
  "$5 and $10" is text; ``\\$`` is always a literal dollar sign.
- Language spans: ``[食べる]{lang=ja}`` (markdown-it's attribute syntax; ``lang`` is the only
  attribute allowed), so fonts, hyphenation and screen readers use the right language.
- Furigana, in Anki's own syntax: ``日本語[にほんご]`` (a space before the base separates it from
  the text before; the reading is kana).

Math and furigana are drawn differently by each output (SVG, MathML, Anki's delimiters, <ruby>
or Anki's furigana filter), so the HTML holds a slot for each (`deckbook.slots`) and
`deckbook.rendered` fills them per output. The formulas of one rendering are collected in the
renderer's ``env["math"]``, in slot order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.texmath import texmath_plugin

from deckbook.slots import slot

MATH, FURIGANA = "M", "F"  # slot kinds
READING_SEP = "\ue002"  # between a furigana slot's base and reading
INLINE_MATH = ("math_inline",)
DISPLAY_MATH = ("math_inline_double", "math_block", "math_block_eqno", "math_block_label")
MATH_TOKENS = INLINE_MATH + DISPLAY_MATH
_FURIGANA = re.compile(r"(^|\s)([^\s\[\]]+)\[([\u3040-\u30ff]+)\]")  # Anki's rule: a space (consumed) or the start, then base[kana]


def use(md: MarkdownIt) -> None:
    """Install math, language spans and furigana on `md`."""
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True, allow_labels=False)
    md.use(texmath_plugin, delimiters="brackets")
    md.inline.ruler.before("escape", "math_bracket_display", _bracket_display)
    md.use(attrs_plugin, spans=True, after=())
    md.core.ruler.push("furigana", _furigana)
    for name in MATH_TOKENS:
        md.add_render_rule(name, _render_math)


def _bracket_display(state: StateInline, silent: bool) -> bool:
    """\\[…\\] inside a paragraph: displayed math (texmath only knows it as a block of its own)."""
    src, start = state.src, state.pos
    if not src.startswith("\\[", start):
        return False
    end = src.find("\\]", start + 2)
    if end < 0:
        return False
    if not silent:
        token = state.push("math_inline_double", "math", 0)
        token.content = src[start + 2 : end]
        token.markup = "\\["
    state.pos = end + 2
    return True


def _furigana(state: Any) -> None:
    """Text 'base[reading]' becomes a furigana slot (code and math are never touched)."""
    for block in state.tokens:
        for child in block.children or []:
            if child.type == "text" and "[" in child.content:
                child.content = _FURIGANA.sub(lambda m: slot(FURIGANA, f"{m.group(2)}{READING_SEP}{m.group(3)}"), child.content)


def _render_math(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    formulas: list[tuple[str, bool]] = env.setdefault("math", [])
    display = token.type in DISPLAY_MATH
    formulas.append((token.content.strip(), display))
    mark = str(slot(MATH, str(len(formulas) - 1)))
    return f'<p class="math-block">{mark}</p>\n' if token.block else mark


def formulas(tokens: Sequence[Token]) -> list[tuple[str, bool, int]]:
    """(TeX, displayed, 0-based line) of every formula in parsed `tokens`, in order."""
    out = []
    line = 0
    for token in tokens:
        if token.map:
            line = token.map[0]
        if token.type in MATH_TOKENS:
            out.append((token.content.strip(), token.type in DISPLAY_MATH, line))
        for child in token.children or []:
            if child.type in MATH_TOKENS:
                out.append((child.content.strip(), child.type in DISPLAY_MATH, line))
    return out


def span_attrs_problem(attrs: dict[str, Any]) -> str | None:
    """A language span may carry `lang` (a language tag) and nothing else."""
    extra = sorted(k for k in attrs if k != "lang")
    if extra:
        return f"only {{lang=…}} is allowed on a span; remove {', '.join(extra)}"
    lang = str(attrs.get("lang", ""))
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", lang):
        return f"'{lang}' is not a language tag like ja, de or zh-Hans"
    return None
