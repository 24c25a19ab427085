"""One tagged PDF from the PDFs of a handbook's parts (pikepdf).

Each part is a complete PDF/UA document from WeasyPrint: pages whose marked content is numbered
per page, a structure tree under one Document element, a ParentTree mapping each page's
`StructParents` (and each link annotation's `StructParent`) to structure elements, named
destinations for every id, an outline. The merge keeps all of it whole:

- pages are appended in order, with an empty page wherever a part must begin on a right-hand page;
- `StructParents`/`StructParent` numbers are renumbered past those of the parts before, one
  ParentTree holds them all, and every part's Document children go under the first part's
  Document element (one document, reading order kept); RoleMaps are united;
- named destinations are united; links a part could not resolve (``deckbook-link:ID``) become
  links to the destination ``ID`` in the whole book;
- outlines are concatenated; the catalogue (language, metadata, PDF/UA identification, viewer
  preferences) is the first part's.

Objects are copied with qpdf's foreign-object copier, which copies each object once per source,
so structure elements keep pointing at the copied pages and annotations.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import warnings
from collections.abc import Sequence
from typing import Any

import pikepdf

from deckbook.renderers.parts import LINK_SCHEME


def merge(parts: Sequence[bytes], first_pages: Sequence[int]) -> bytes:
    """The parts as one PDF; part i begins on page `first_pages[i]` (1-based)."""
    sources = [pikepdf.open(io.BytesIO(data)) for data in parts]
    out = sources[0]
    next_key = _next_key(out)
    doc_elem = _document_element(out)
    for source, first in zip(sources[1:], first_pages[1:], strict=True):
        while len(out.pages) < first - 1:
            out.add_blank_page(page_size=_size(out.pages[-1]))
        _renumber(source, next_key)
        count = _next_key(source)
        with warnings.catch_warnings():  # pikepdf warns that named destinations are not copied: _graft_destinations does
            warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
            out.pages.extend(source.pages)
        _graft_structure(out, source, doc_elem)
        _graft_destinations(out, source)
        _graft_outline(out, source)
        next_key = count
    out.Root.StructTreeRoot.ParentTreeNextKey = next_key
    _resolve_links(out)
    buf = io.BytesIO()
    out.save(buf, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
    for source in sources:
        source.close()
    return buf.getvalue()


def join_pages(pieces: Sequence[bytes]) -> bytes:
    """One PDF of the pages of untagged `pieces` in order, with the first one's metadata and
    outline (later pieces must have none). One piece comes back as it is."""
    if len(pieces) == 1:
        return pieces[0]
    with contextlib.ExitStack() as open_pdfs:  # a copied page's streams are read from its source when `out` is saved
        out = open_pdfs.enter_context(pikepdf.open(io.BytesIO(pieces[0])))
        for data in pieces[1:]:
            out.pages.extend(open_pdfs.enter_context(pikepdf.open(io.BytesIO(data))).pages)
        buf = io.BytesIO()
        out.save(buf, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
        return buf.getvalue()


def _size(page: pikepdf.Page) -> tuple[float, float]:
    box = [float(v) for v in page.mediabox]
    return box[2] - box[0], box[3] - box[1]


def _document_element(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    kids = pdf.Root.StructTreeRoot.K
    found = kids[0] if isinstance(kids, pikepdf.Array) else kids
    assert isinstance(found, pikepdf.Dictionary)
    return found


def _nums(pdf: pikepdf.Pdf) -> pikepdf.Array:
    """The ParentTree's flat /Nums array (WeasyPrint writes the tree without /Kids)."""
    tree = pdf.Root.StructTreeRoot.ParentTree
    if "/Nums" not in tree:
        tree.Nums = pikepdf.Array()
    nums = tree.Nums
    assert isinstance(nums, pikepdf.Array)
    return nums


def _next_key(pdf: pikepdf.Pdf) -> int:
    root = pdf.Root.StructTreeRoot
    if "/ParentTreeNextKey" in root:
        return int(root.ParentTreeNextKey)
    nums = _nums(pdf)
    return max((int(nums[i]) for i in range(0, len(nums), 2)), default=-1) + 1


def _renumber(pdf: pikepdf.Pdf, offset: int) -> None:
    """Shift every StructParents/StructParent key of `pdf` by `offset` (before it is copied)."""
    for page in pdf.pages:
        if "/StructParents" in page.obj:
            page.obj.StructParents = int(page.obj.StructParents) + offset
        for annot in page.obj.get("/Annots", []):
            if "/StructParent" in annot:
                annot.StructParent = int(annot.StructParent) + offset
    nums = _nums(pdf)
    for i in range(0, len(nums), 2):
        nums[i] = int(nums[i]) + offset
    root = pdf.Root.StructTreeRoot
    root.ParentTreeNextKey = _next_key_after(nums, offset)


def _next_key_after(nums: pikepdf.Array, offset: int) -> int:
    return max((int(nums[i]) for i in range(0, len(nums), 2)), default=offset - 1) + 1


def _graft_structure(out: pikepdf.Pdf, source: pikepdf.Pdf, doc_elem: pikepdf.Dictionary) -> None:
    root = source.Root.StructTreeRoot
    theirs = _document_element(source)
    kids, nums = _copy(out, source, pikepdf.Array([theirs.K if "/K" in theirs else pikepdf.Array(), _nums(source)]))
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary):
            kid.P = doc_elem
        doc_elem.K.append(kid)
    _nums(out).extend(nums)
    if "/RoleMap" in root:
        roles = out.Root.StructTreeRoot.get("/RoleMap") or pikepdf.Dictionary()
        for name, value in _copy(out, source, root.RoleMap).items():
            roles[name] = value
        out.Root.StructTreeRoot.RoleMap = roles


def _copy(out: pikepdf.Pdf, source: pikepdf.Pdf, obj: Any) -> Any:
    """`obj` from `source` in `out`, in one pass of qpdf's foreign-object copier: it copies each
    object once per source, so references to already-copied pages and annotations are kept. (A
    direct object is copied inside an indirect holder, which nothing in `out` refers to: it is
    not written.)"""
    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        return out.copy_foreign(obj)
    return out.copy_foreign(source.make_indirect(pikepdf.Array([obj])))[0]


def _graft_destinations(out: pikepdf.Pdf, source: pikepdf.Pdf) -> None:
    if "/Names" not in source.Root or "/Dests" not in source.Root.Names:
        return
    mine = (
        pikepdf.NameTree.new(out) if "/Names" not in out.Root or "/Dests" not in out.Root.Names else pikepdf.NameTree(out.Root.Names.Dests)
    )
    if "/Names" not in out.Root:
        out.Root.Names = pikepdf.Dictionary()
    out.Root.Names.Dests = mine.obj
    theirs = list(pikepdf.NameTree(source.Root.Names.Dests).items())
    copied = _copy(out, source, pikepdf.Array([dest for _, dest in theirs]))
    for (name, _), dest in zip(theirs, copied, strict=True):
        mine[name] = dest


def _graft_outline(out: pikepdf.Pdf, source: pikepdf.Pdf) -> None:
    if "/Outlines" not in source.Root or "/First" not in source.Root.Outlines:
        return
    theirs = _copy(out, source, source.Root.Outlines)
    if "/Outlines" not in out.Root or "/First" not in out.Root.Outlines:
        out.Root.Outlines = theirs
        return
    mine = out.Root.Outlines
    first, last = theirs.First, theirs.Last
    mine.Last.Next = first
    first.Prev = mine.Last
    mine.Last = last
    item = first
    while True:
        item.Parent = mine
        if "/Next" not in item:
            break
        item = item.Next
    mine.Count = int(mine.get("/Count", 0)) + int(theirs.get("/Count", 0))


def _reachable(pdf: pikepdf.Pdf) -> set[tuple[tuple[int, int], int]]:
    """(page object, MCID) of every marked-content sequence the structure tree reaches."""
    found: set[tuple[tuple[int, int], int]] = set()
    stack: list[tuple[Any, Any]] = [(_document_element(pdf), None)]
    while stack:
        elem, page = stack.pop()
        page = elem.get("/Pg", page)
        kids = elem.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
            if isinstance(kid, int) and page is not None:
                found.add((page.objgen, int(kid)))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                found.add((kid.get("/Pg", page).objgen, int(kid.MCID)))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/OBJR":
                stack.append((kid, page))
    return found


def mark_artifacts(data: bytes) -> bytes:
    """One part's PDF with the marked content no structure element reaches made an artifact
    (PDF/UA: running headers and page numbers are pagination artifacts; WeasyPrint tags the
    page-margin boxes as structure elements it never links into the tree). Done on each part,
    in the engine that wrote it, so the merge need not read every page's content."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if not _artifact_orphans(pdf):
            return data
        buf = io.BytesIO()
        pdf.save(buf, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
        return buf.getvalue()


_BDC = re.compile(rb"/[A-Za-z0-9_]+\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC")  # how WeasyPrint (pydyf) opens marked content


def _as_artifact(orphans: set[int], found: re.Match[bytes]) -> bytes:
    return b"/Artifact BMC" if int(found.group(1)) in orphans else found.group(0)


def _artifact_orphans(pdf: pikepdf.Pdf) -> bool:
    """Turn unreached marked content into artifacts; True if any was."""
    reached: dict[tuple[int, int], set[int]] = {}
    for objgen, mcid in _reachable(pdf):
        reached.setdefault(objgen, set()).add(mcid)
    nums = _nums(pdf)
    parents = {int(nums[i]): i + 1 for i in range(0, len(nums), 2)}
    changed = False
    for page in pdf.pages:
        content = page.obj.Contents.read_bytes() if isinstance(page.obj.get("/Contents"), pikepdf.Stream) else None
        if content is None:
            continue
        mine = reached.get(page.obj.objgen, set())
        orphans = {int(m.group(1)) for m in _BDC.finditer(content)} - mine
        if not orphans:
            continue
        rewritten = _BDC.sub(functools.partial(_as_artifact, orphans), content)
        page.obj.Contents = pdf.make_stream(rewritten)
        changed = True
        key = page.obj.get("/StructParents")
        if key is not None and int(key) in parents:
            entries = nums[parents[int(key)]]
            for mcid in orphans:
                if mcid < len(entries):
                    entries[mcid] = pikepdf.Object.parse(b"null")
    return changed


def _resolve_links(pdf: pikepdf.Pdf) -> None:
    """`deckbook-link:ID` actions become links to the book's named destination ID."""
    for page in pdf.pages:
        for annot in page.obj.get("/Annots", []):
            action = annot.get("/A")
            if action is None or action.get("/S") != "/URI":
                continue
            uri = str(action.URI)
            if uri.startswith(LINK_SCHEME):
                del annot["/A"]
                annot.Dest = pikepdf.String(uri[len(LINK_SCHEME) :])
