"""A cover image drawn from the book's metadata (title, subtitle, author, version), as PNG.

PNG rather than SVG because Kobo and Kindle want a raster cover. Text is drawn with the bundled
Inter font when it covers every character (so every machine produces the same bytes), else with
the bank's own heading font, else with the system font fontconfig picks for the book's language
(Japanese titles in a Japanese face, Chinese in a Chinese one).
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from deckbook import fonts
from deckbook.model import Book
from deckbook.templating import TEMPLATES_DIR

FONTS = TEMPLATES_DIR / "fonts"
SIZE = (1600, 2560)  # the 1:1.6 ratio Kindle and Kobo recommend
INK = (246, 244, 238)
BACKGROUND = (27, 42, 58)
ACCENT = (226, 140, 42)


def _font(name: str, size: int, text: str, fallback: tuple[Path, int] | None) -> ImageFont.FreeTypeFont:
    """The bundled face `name` if it has every character of `text`, else `fallback`."""
    path = FONTS / name
    if fallback is None or not fonts.uncovered(text, fonts.file_coverage(path)):
        return ImageFont.truetype(str(path), size)
    return ImageFont.truetype(str(fallback[0]), size, index=fallback[1])


def _fallback(book: Book, source_dir: Path | None) -> tuple[Path, int] | None:
    """A face for text Inter cannot draw: the bank's heading font, else the system's choice."""
    text = " ".join(filter(None, (book.title, book.subtitle, book.author)))
    if not fonts.uncovered(text, fonts.bundled_coverage()):
        return None
    if book.fonts.headings and source_dir is not None:
        return source_dir / book.fonts.headings[0], 0
    return fonts.file_for(text, book.language)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines no wider than `width`: broken at spaces, or between any two characters in text
    written without spaces (Chinese, Japanese)."""
    lines: list[str] = []
    for word in text.split():
        joiner = " " if lines and lines[-1] else ""
        if lines and draw.textlength(f"{lines[-1]}{joiner}{word}", font=font) <= width:
            lines[-1] = f"{lines[-1]}{joiner}{word}"
            continue
        lines.append("")
        for char in word:  # a word too wide for a line (CJK text has no spaces) breaks anywhere
            if lines[-1] and draw.textlength(lines[-1] + char, font=font) > width:
                lines.append("")
            lines[-1] += char
    return lines


def cover_png(book: Book, source_dir: Path | None = None, version_label: str = "Version {version}") -> bytes:
    """Render the cover; the same metadata (and fonts) always give the same bytes."""
    fallback = _fallback(book, source_dir)
    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    margin = 150
    width = SIZE[0] - 2 * margin
    draw.rectangle((margin, 420, margin + 220, 440), fill=ACCENT)
    y = 520
    title_font = _font("Inter-Bold.otf", 150, book.title, fallback)
    for line in _wrap(draw, book.title, title_font, width):
        draw.text((margin, y), line, font=title_font, fill=INK)
        y += 180
    if book.subtitle:
        y += 60
        sub_font = _font("Inter-Regular.otf", 70, book.subtitle, fallback)
        for line in _wrap(draw, book.subtitle, sub_font, width):
            draw.text((margin, y), line, font=sub_font, fill=(200, 208, 216))
            y += 92
    small = _font("Inter-SemiBold.otf", 60, book.author, fallback)
    draw.text((margin, SIZE[1] - 420), book.author, font=small, fill=INK)
    version = version_label.format(version=book.version)
    draw.text((margin, SIZE[1] - 330), version, font=_font("Inter-Regular.otf", 52, version, fallback), fill=(200, 208, 216))
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
