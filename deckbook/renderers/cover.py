"""A cover image drawn from the book's metadata (title, subtitle, author, version), as PNG.

PNG rather than SVG because Kobo and Kindle want a raster cover; drawn with the bundled Inter
font so every machine produces the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from deckbook.model import Book
from deckbook.templating import TEMPLATES_DIR

FONTS = TEMPLATES_DIR / "fonts"
SIZE = (1600, 2560)  # the 1:1.6 ratio Kindle and Kobo recommend
INK = (246, 244, 238)
BACKGROUND = (27, 42, 58)
ACCENT = (226, 140, 42)


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / name), size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def cover_png(book: Book) -> bytes:
    """Render the cover; the same metadata always gives the same bytes."""
    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    margin = 150
    width = SIZE[0] - 2 * margin
    draw.rectangle((margin, 420, margin + 220, 440), fill=ACCENT)
    y = 520
    title_font = _font("Inter-Bold.otf", 150)
    for line in _wrap(draw, book.title, title_font, width):
        draw.text((margin, y), line, font=title_font, fill=INK)
        y += 180
    if book.subtitle:
        y += 60
        sub_font = _font("Inter-Regular.otf", 70)
        for line in _wrap(draw, book.subtitle, sub_font, width):
            draw.text((margin, y), line, font=sub_font, fill=(200, 208, 216))
            y += 92
    small = _font("Inter-SemiBold.otf", 60)
    draw.text((margin, SIZE[1] - 420), book.author, font=small, fill=INK)
    draw.text((margin, SIZE[1] - 330), f"Version {book.version}", font=_font("Inter-Regular.otf", 52), fill=(200, 208, 216))
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def write_cover(book: Book, path: Path) -> None:
    path.write_bytes(cover_png(book))
