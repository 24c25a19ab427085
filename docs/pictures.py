"""Regenerate the README's pictures from the current outputs (never by hand).

    uv run python docs/pictures.py [--out output] [--source source]

Run it after `uv run build.py`: it reads the outputs in --out and writes docs/*.png:

- handbook-spread.png: two facing A4 pages around the first question with a table;
- card-light.png, card-night.png: one Q&A card's back as Anki renders it (the real engine
  renders the note; headless Chromium draws it at phone width);
- ebook-page.png: the start of chapter 2 of the e-book in Chromium at 600 × 800, e-reader size;
- web-home.png: the web edition's home page in Chromium at 1280 × 900;
- serve-preview.png: the card preview that `build.py serve` shows (chapter 1's cards at phone
  width), made by the live preview's own rebuild into a temporary folder.

Needs pdftoppm (poppler-utils) and Chromium, both in .ci/apt-packages.txt.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        sys.exit("pictures.py: Chromium is needed (see .ci/apt-packages.txt)")
    return found


def screenshot(page: Path, target: Path, width: int, height: int, work: Path) -> None:
    """Chromium draws `page` in a width × height window and saves it as `target`."""
    subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={work / 'profile'}", f"--window-size={width},{height}",
         f"--screenshot={target}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def pdf_pages(pdf: Path, first: int, last: int, work: Path, dpi: int = 70) -> list[Image.Image]:
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(first), "-l", str(last), "-png", str(pdf), str(work / "pg")], check=True)
    return [Image.open(p).convert("RGB") for p in sorted(work.glob("pg*.png"))]


def spread(out: Path, stem: str, source: Path, work: Path) -> Path:
    """Two facing pages (even left, odd right) around the first question whose text has a table."""
    from deckbook.load import load_bank

    bank = load_bank(source).bank
    assert bank is not None
    anchors = json.loads((out / ".deckbook-cache" / "pages-a4.json").read_text())["anchors"]
    with_table = next(q for q in bank.questions if "|---" in (q.explanation_md or "") + q.answer_md)
    page = anchors[f"q-{with_table.id}"]
    left = page if page % 2 == 0 else page - 1
    pages = pdf_pages(out / f"{stem}-a4.pdf", left, left + 1, work)
    gap = 12
    image = Image.new("RGB", (sum(p.width for p in pages) + gap * 3, max(p.height for p in pages) + gap * 2), (120, 120, 120))
    x = gap
    for p in pages:
        image.paste(p, (x, gap))
        x += p.width + gap
    target = DOCS / "handbook-spread.png"
    image.save(target, optimize=True)
    return target


def cards(out: Path, stem: str, work: Path) -> list[Path]:
    """A Q&A card's back, rendered by the Anki engine, drawn light and night at 390 px."""
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    col = Collection(str(work / "collection.anki2"))
    try:
        col.import_anki_package(ImportAnkiPackageRequest(package_path=str(out / f"{stem}.apkg"), options=ImportAnkiPackageOptions()))
        note_type = next(n for n in col.models.all_names_and_ids() if "Q&A" in n.name)
        card = col.get_card(col.find_cards(f'"note:{note_type.name}"')[3])
        back = card.answer()
    finally:
        col.close()
    targets = []
    for mode, body in (("light", "card"), ("night", "card nightMode night_mode")):
        page = work / f"card-{mode}.html"
        page.write_text(
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>'
            f'<body class="{body}" style="margin:0">{back}</body></html>',
            encoding="utf-8",
        )
        target = DOCS / f"card-{mode}.png"
        screenshot(page, target, 390, 760, work)
        targets.append(target)
    return targets


def ebook_page(out: Path, stem: str, work: Path) -> Path:
    """Chapter 2's first screen in Chromium at 600 × 800 (an e-reader's size), with the e-book's CSS."""
    with zipfile.ZipFile(out / f"{stem}.epub") as zf:
        zf.extractall(work / "epub")
    chapters = sorted((work / "epub" / "EPUB").glob("ch*.xhtml"))
    target = DOCS / "ebook-page.png"
    screenshot(chapters[min(1, len(chapters) - 1)], target, 600, 800, work)
    return target


def web_pictures(out: Path, stem: str, source: Path, work: Path) -> list[Path]:
    """The web edition's home page, and the card preview as `serve` shows it."""
    from deckbook.web import live

    home = DOCS / "web-home.png"
    screenshot(out / f"{stem}-html" / "index.html", home, 1280, 900, work)
    result = live.rebuild(live.Config(source, work / "live"), live.State())
    if not result.ok:
        sys.exit("pictures.py: the bank has problems: " + "; ".join(map(str, result.problems)))
    preview = DOCS / "serve-preview.png"
    first = sorted((work / "live" / "site" / "preview").glob("ch*.html"))[0]
    screenshot(first, preview, 1280, 900, work)
    return [home, preview]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "output")
    parser.add_argument("--source", type=Path, default=ROOT / "source")
    args = parser.parse_args()
    from deckbook.load import load_bank

    bank = load_bank(args.source).bank
    if bank is None:
        sys.exit(f"pictures.py: {args.source} is not a usable bank")
    stem = bank.book.namespace
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for part in ("spread", "cards", "ebook", "web"):
            (work / part).mkdir()
        made = [spread(args.out, stem, args.source, work / "spread"), *cards(args.out, stem, work / "cards")]
        made.append(ebook_page(args.out, stem, work / "ebook"))
        made += web_pictures(args.out, stem, args.source, work / "web")
    for path in made:
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
