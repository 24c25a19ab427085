#!/usr/bin/env python3
"""What a Kindle conversion makes of a deckbook e-book: Calibre's `ebook-convert` to AZW3.

    uv run python tools/kindle-check.py output/cloud-interview.epub [--keep DIR] [-- EXTRA ebook-convert ARGS]

Two parts, one report:

1. **What Calibre will read** (no Calibre needed): the EPUB 2 `<guide>` (Calibre's start point and
   its cover handling), the author's `file-as` (its author sort), the nav document out of the
   spine (Calibre's MOBI output shows a spine document's hidden lists as text), the notes (the
   AZW3 writer drops namespaced attributes such as `epub:type`, so notes need a role or class
   too), the page list, and the headings that Calibre's default chapter detection
   (`--chapter`, h1/h2 containing "chapter", "book", "section" or "part" anywhere, so
   "multipart upload" too) will take for chapter starts and put a page break before.
   A problem here is the e-book's fault: the exit status is 1.
2. **What Calibre made** (when `ebook-convert` is on PATH, or named by $EBOOK_CONVERT): the EPUB
   is converted to AZW3 with Calibre's defaults (plus any EXTRA arguments), the AZW3 is unpacked
   again (`calibre-debug --explode-book`) and the report counts the notes that still carry
   their type, role or class, the page list, the guide's start point, the author sort
   (`ebook-meta`) and the chapter breaks Calibre logged. These are reported, not judged:
   Calibre 6 builds the AZW3's table of contents from the nav alone and writes no page list.

Calibre is not installed in CI (it is large); run this by hand before a release that Kindle
readers will convert. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree as ET

XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
OPF = "{http://www.idpf.org/2007/opf}"
# Calibre's default --chapter expression, as a test on a heading's text (calibre/ebooks/conversion/plumber.py)
CALIBRE_CHAPTER = re.compile(r"\s*((chapter|book|section|part)\s+)|((prolog|prologue|epilogue)(\s+|$))", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """One line of the report; `fault` marks what the e-book itself must fix."""

    topic: str
    text: str
    fault: bool = False

    def __str__(self) -> str:
        return f"{'FAIL' if self.fault else 'ok  '} {self.topic}: {self.text}"


def _text(el: ET.Element) -> str:
    return " ".join("".join(el.itertext()).split())


def read_epub(path: Path) -> tuple[ET.Element, dict[str, ET.Element], str]:
    """(the package document, every XHTML document by its path in the zip, the OPF's folder)."""
    with zipfile.ZipFile(path) as zf:
        container = ET.fromstring(zf.read("META-INF/container.xml"))
        rootfile = next(el for el in container.iter() if el.tag.endswith("rootfile")).get("full-path", "")
        opf = ET.fromstring(zf.read(rootfile))
        docs = {n: ET.fromstring(zf.read(n)) for n in zf.namelist() if n.endswith((".xhtml", ".html"))}
    return opf, docs, str(PurePosixPath(rootfile).parent)


def epub_findings(path: Path) -> list[Finding]:
    """Part 1: what Calibre's EPUB input and AZW3 output will make of this EPUB."""
    opf, docs, base = read_epub(path)
    manifest = {item.get("id"): item for item in opf.iter(f"{OPF}item")}
    spine = [manifest[ref.get("idref")].get("href", "") for ref in opf.iter(f"{OPF}itemref")]
    nav = next((item.get("href", "") for item in manifest.values() if "nav" in (item.get("properties") or "").split()), None)
    out: list[Finding] = []

    guide = {ref.get("type"): ref.get("href") for ref in opf.iter(f"{OPF}reference")}
    out.append(
        Finding(
            "guide", f"start point {guide.get('text')!r}, cover {guide.get('cover')!r}, contents {guide.get('toc')!r}", "text" not in guide
        )
    )

    creators = list(opf.iter("{http://purl.org/dc/elements/1.1/}creator"))
    refines = {(m.get("refines"), m.get("property")): (m.text or "") for m in opf.iter(f"{OPF}meta") if m.get("refines")}
    for creator in creators:
        file_as = refines.get((f"#{creator.get('id')}", "file-as"))
        out.append(Finding("author", f"{creator.text!r} files as {file_as!r}", not file_as))
    if not creators:
        out.append(Finding("author", "no dc:creator", True))

    out.append(
        Finding(
            "nav",
            "the nav document is " + ("in the spine: its hidden lists become text" if nav in spine else "not in the spine"),
            nav in spine,
        )
    )

    out.append(_notes(docs))

    nav_root = docs.get(str(PurePosixPath(base) / nav)) if nav else None
    pages = 0
    if nav_root is not None:
        for el in nav_root.iter(f"{XHTML}nav"):
            if el.get(EPUB_TYPE) == "page-list":
                pages = sum(1 for _ in el.iter(f"{XHTML}a"))
    out.append(Finding("page list", f"{pages} pages in the nav (Calibre 6 does not carry a page list into AZW3)"))

    breaks = _chapter_breaks(docs, spine, base)
    out.append(Finding("chapter breaks", f"{len(breaks)} headings that Calibre's default --chapter takes for chapter starts"))
    out += [Finding("  break", b) for b in breaks]
    return out


def _notes(docs: dict[str, ET.Element]) -> Finding:
    """Notes and their references, and how many carry a role and a class besides epub:type."""
    refs = notes = kept = 0
    for root in docs.values():
        for el in root.iter():
            kind = (el.get(EPUB_TYPE) or "").split()
            classes = (el.get("class") or "").split()
            if "noteref" in kind:
                refs += 1
                kept += bool(el.get("role") == "doc-noteref" and "noteref" in classes and el.get("id"))
            elif "footnote" in kind:
                notes += 1
                kept += bool(el.get("role") == "doc-footnote" and "footnote" in classes)
    text = f"{refs} references, {notes} notes; {kept} also carry a role and a class (kept without epub:type)"
    return Finding("notes", text, kept != refs + notes)


def _chapter_breaks(docs: dict[str, ET.Element], spine: list[str], base: str) -> list[str]:
    """Headings of the spine's documents that Calibre's default chapter detection matches."""
    breaks = []
    for href in spine:
        root = docs.get(str(PurePosixPath(base) / href))
        for el in root.iter() if root is not None else ():
            heading = el.tag in (f"{XHTML}h1", f"{XHTML}h2") and CALIBRE_CHAPTER.search("".join(el.itertext()))
            if heading or el.get("class") == "chapter":
                breaks.append(f"{href}: {_text(el)[:70]}")
    return breaks


def calibre_findings(epub: Path, work: Path, extra: list[str]) -> list[Finding]:
    """Part 2: convert with Calibre and look at what came out."""
    convert = os.environ.get("EBOOK_CONVERT") or shutil.which("ebook-convert")
    if not convert:
        return [Finding("calibre", "ebook-convert not found (install Calibre or set EBOOK_CONVERT): conversion skipped")]
    tools = Path(convert).parent
    azw3 = work / (epub.stem + ".azw3")
    log = subprocess.run([convert, str(epub), str(azw3), *extra], capture_output=True, text=True, timeout=900, check=False)
    if log.returncode != 0:
        return [Finding("calibre", f"ebook-convert failed ({log.returncode}): {log.stderr.strip()[-500:]}", True)]
    version = re.search(r"calibre ([\d.]+)", subprocess.run([convert, "--version"], capture_output=True, text=True, check=False).stdout)
    out = [Finding("calibre", f"converted with Calibre {version.group(1) if version else '?'} to {azw3}")]
    detected = re.findall(r"Detected chapter: (.*)", log.stdout)
    out.append(
        Finding(
            "AZW3 chapter breaks",
            f"Calibre logged {len(detected)} detected chapters" + (" (--chapter-mark none adds no break)" if detected else ""),
        )
    )
    out += [Finding("  detected", d.strip()) for d in detected]

    meta = subprocess.run([str(tools / "ebook-meta"), str(azw3)], capture_output=True, text=True, timeout=120, check=False).stdout
    authors = re.search(r"^Author\(s\)\s*:\s*(.*)$", meta, re.MULTILINE)
    out.append(Finding("AZW3 author", authors.group(1) if authors else "not found in ebook-meta's output"))

    exploded = work / "exploded"
    debug = tools / "calibre-debug"
    done = subprocess.run(
        [str(debug), "--explode-book", str(azw3), str(exploded)], capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        return [*out, Finding("AZW3 contents", f"calibre-debug --explode-book failed: {done.stderr.strip()[-300:]}")]
    text = "\n".join(p.read_text(errors="replace") for p in sorted(exploded.rglob("*")) if p.suffix in (".html", ".xhtml"))
    opf = "\n".join(p.read_text(errors="replace") for p in exploded.rglob("*.opf"))
    ncx = "\n".join(p.read_text(errors="replace") for p in exploded.rglob("*.ncx"))
    typed = len(re.findall(r'type="footnote"', text))
    classed = len(re.findall(r'class="[^"]*\bfootnote\b', text))
    out.append(
        Finding(
            "AZW3 notes",
            f"type footnote {typed}, role doc-footnote {text.count('doc-footnote')}, class footnote {classed}; "
            f"noteref role {text.count('doc-noteref')}",
        )
    )
    out.append(Finding("AZW3 page list", f"{ncx.count('<pageTarget')} page targets in the NCX, {text.count('page-list')} page-list navs"))
    start = re.search(r'<reference[^>]*type="text"[^>]*>', opf)
    out.append(Finding("AZW3 start point", start.group(0) if start else "no guide reference of type text"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("epub", type=Path)
    parser.add_argument("--keep", type=Path, help="keep the AZW3 and its unpacked files in this folder")
    parser.add_argument("extra", nargs="*", help="arguments passed on to ebook-convert (after --)")
    args = parser.parse_args(argv)
    findings = epub_findings(args.epub)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        findings += calibre_findings(args.epub, args.keep, args.extra)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            findings += calibre_findings(args.epub, Path(tmp), args.extra)
    for finding in findings:
        print(finding)
    return 1 if any(f.fault for f in findings) else 0


if __name__ == "__main__":
    sys.exit(main())
