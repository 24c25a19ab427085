"""Which characters a build can draw: the bundled faces, the bank's own font files, and every font
fontconfig knows (WeasyPrint falls back to those through Pango, as e-readers and browsers do).

A character none of them covers would print as an empty box; validation reports it with the
field it is in (`uncovered`). Coverage is read once per process: font files' character maps with
fontTools, the system's from ``fc-list`` (only when a character is missing from the files).
"""

from __future__ import annotations

import bisect
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Container, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError

from deckbook.model import Book
from deckbook.templating import TEMPLATES_DIR

BUNDLED_DIR = TEMPLATES_DIR / "fonts"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")


def file_coverage(path: Path) -> frozenset[int]:
    """The code points one font file (its first face) maps to glyphs."""
    return face_coverage(path, 0)


@cache
def face_coverage(path: Path, index: int) -> frozenset[int]:
    """The code points one face of a font file maps to glyphs (memoised per process)."""
    try:
        font = TTFont(str(path), fontNumber=index, lazy=True)
        cmap = font.getBestCmap() or {}
    except (OSError, TTLibError, AssertionError, KeyError):
        return frozenset()
    return frozenset(cmap)


def family_of(path: str | Path) -> str:
    """A font file's family name (typographic family if it has one), else its file stem."""
    try:
        names = TTFont(str(path), fontNumber=0, lazy=True)["name"]
        name = names.getDebugName(16) or names.getDebugName(1)
    except (OSError, TTLibError, KeyError):
        name = None
    return name or Path(path).stem


@cache
def bundled_coverage() -> frozenset[int]:
    covered: set[int] = set()
    for path in sorted(BUNDLED_DIR.iterdir()):
        if path.suffix.lower() in FONT_SUFFIXES:
            covered |= file_coverage(path)
    return frozenset(covered)


@cache
def system_ranges() -> tuple[tuple[int, int], ...]:
    """The code point ranges some installed font covers (fontconfig's view), merged and sorted;
    empty without fc-list."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ()
    try:
        out = subprocess.run([fc_list, "--format", "%{charset}\\n"], capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    ranges: list[tuple[int, int]] = []
    for line in out.splitlines():
        for part in line.split():
            lo, _, hi = part.partition("-")
            try:
                ranges.append((int(lo, 16), int(hi or lo, 16)))
            except ValueError:
                continue
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return tuple(merged)


@dataclass(frozen=True)
class Coverage:
    """Everything a build can draw: the code points of the font files read (bundled faces, the
    bank's fonts), and of the system's fonts — asked only about a character those files lack, so
    that a bank the bundled faces cover never pays for reading fontconfig's whole list."""

    files: frozenset[int]

    def __contains__(self, code: object) -> bool:
        if code in self.files:
            return True
        if not isinstance(code, int):
            return False
        ranges = system_ranges()
        at = bisect.bisect_right(ranges, (code, sys.maxsize)) - 1
        return at >= 0 and ranges[at][0] <= code <= ranges[at][1]


def coverage(bank_fonts: Iterable[Path] = ()) -> Coverage:
    """Everything a build can draw: bundled faces, the bank's fonts and the system's."""
    covered = set(bundled_coverage())
    for path in bank_fonts:
        covered |= file_coverage(path)
    return Coverage(frozenset(covered))


def needs_glyph(char: str) -> bool:
    """Characters that are drawn: not spaces, controls, format marks or private-use slots."""
    return unicodedata.category(char)[0] not in ("Z", "C")


def uncovered(text: str, covered: Container[int]) -> list[str]:
    """The distinct characters of `text` that no font covers, in code point order."""
    return sorted({c for c in text if ord(c) not in covered and needs_glyph(c)})


def describe(chars: list[str], limit: int = 8) -> str:
    """'食 (U+98DF), べ (U+3079)' — what a problem message shows of missing characters."""
    shown = ", ".join(f"{c} (U+{ord(c):04X})" for c in chars[:limit])
    return shown + (f" and {len(chars) - limit} more" if len(chars) > limit else "")


@dataclass(frozen=True)
class Face:
    """One @font-face of a typographic role ("body", "headings", "code")."""

    role: str
    url: str
    weight: int
    style: str  # "normal" or "italic"


BUNDLED_FACES = {
    "body": ("CharisSIL-Regular.ttf", "CharisSIL-Italic.ttf", "CharisSIL-Bold.ttf", "CharisSIL-BoldItalic.ttf"),
    "headings": ("Inter-Regular.otf", "Inter-Italic.otf", "Inter-SemiBold.otf", "Inter-Bold.otf"),
    "code": ("NotoSansMono-Regular.ttf", "NotoSansMono-Bold.ttf"),
}
ROLES = tuple(BUNDLED_FACES)


def weight_and_style(path: Path) -> tuple[int, str]:
    """A font file's weight class and whether it is italic, from its OS/2 and head tables."""
    try:
        font = TTFont(str(path), fontNumber=0, lazy=True)
        weight = int(font["OS/2"].usWeightClass) if "OS/2" in font else 400
        italic = bool(font["OS/2"].fsSelection & 1) if "OS/2" in font else bool(font["head"].macStyle & 2)
    except (OSError, TTLibError, KeyError, AttributeError):
        return 400, "normal"
    return weight, "italic" if italic else "normal"


def faces(book: Book, source_dir: Path, bank_base: str) -> tuple[list[Face], dict[str, bytes]]:
    """The faces of every role — the bank's files where book.yaml names them (served under
    `bank_base`), else the bundled ones — and the bytes of the bank's files, by relative path."""
    out: list[Face] = []
    files: dict[str, bytes] = {}
    for role, bundled in BUNDLED_FACES.items():
        own = getattr(book.fonts, role)
        if own:
            for name in own:
                path = source_dir / name
                weight, style = weight_and_style(path)
                out.append(Face(role, bank_base + name, weight, style))
                files[name] = path.read_bytes()
        else:
            for name in bundled:
                weight, style = weight_and_style(BUNDLED_DIR / name)
                out.append(Face(role, (BUNDLED_DIR / name).as_uri(), weight, style))
    return out, files


def file_for(text: str, language: str | None = None) -> tuple[Path, int] | None:
    """A system font (file and face index) that covers every character of `text`: fontconfig's
    choice, preferring `language`'s shapes (Japanese rather than Chinese kanji), or None."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    charset = " ".join(f"{ord(c):x}" for c in sorted(set(text)) if needs_glyph(c))
    pattern = f":charset={charset}" + (f":lang={language}" if language else "")
    try:
        out = subprocess.run([fc_match, "-f", "%{file}\\n%{index}", pattern], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    file, _, index = out.partition("\n")
    path = Path(file.strip())
    if not path.is_file() or not index.strip().isdigit():
        return None
    found = (path, int(index))
    return found if not uncovered(text, face_coverage(*found)) else None
