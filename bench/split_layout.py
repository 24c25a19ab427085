"""Experiment: would laying out the handbook in two halves, in two processes, beat one layout?

    uv run python bench/split_layout.py [--source source]

Lays out the whole A4 handbook once (one process), then the first and second halves of the
chapters as two separate documents in two parallel processes, and prints the wall times. The
halves are not stitched back together: the point is the upper bound of what splitting can gain
before paying for stitching (page-number offsets, cross-part links, outline and the tagged-PDF
structure tree, which WeasyPrint cannot merge across processes).
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from deckbook.ledger import Ledger, refresh
from deckbook.pipeline import build_info, check_source
from deckbook.rendered import render_bank
from deckbook.renderers.anki import ledger_contents
from deckbook.renderers.base import Options, RenderContext
from deckbook.renderers.handbook import PageRefs, css_text, handbook_html
from deckbook.templating import make_env

_CTX: dict[str, RenderContext] = {}


def context(source: Path) -> RenderContext:
    bank = check_source(source).bank
    assert bank is not None
    html, env = render_bank(bank), make_env()
    ledger = refresh(Ledger(), ledger_contents(bank, html, env), 1_800_000_000)
    return RenderContext(bank, html, env, Path("/tmp"), ledger, build_info(bank, ledger), Options(), Path("/tmp/split-cache"))


def lay_out(part: str) -> tuple[str, float, int]:
    from deckbook.renderers.pdf import _layout

    ctx = _CTX["ctx"]
    chapters = ctx.bank.chapters
    half = len(chapters) // 2
    if part != "whole":
        keep = chapters[:half] if part == "first" else chapters[half:]
        ids = {q.id for c in keep for q in c.questions}
        keep = tuple(
            dataclasses.replace(c, questions=tuple(dataclasses.replace(q, see=tuple(r for r in q.see if r in ids)) for q in c.questions))
            for c in keep
        )
        terms = () if part == "first" else tuple(dataclasses.replace(t, see=tuple(r for r in t.see if r in ids)) for t in ctx.bank.terms)
        ctx = dataclasses.replace(ctx, bank=dataclasses.replace(ctx.bank, chapters=keep, terms=terms))
    start = time.perf_counter()
    doc = _layout(handbook_html(ctx, "a4", PageRefs()), css_text(ctx.env, "a4"), ctx.bank.source_dir)
    return part, time.perf_counter() - start, len(doc.pages)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("source"))
    args = parser.parse_args()
    _CTX["ctx"] = context(args.source)
    _, whole, pages = lay_out("whole")
    print(f"whole book, one process:    {whole:6.1f} s  ({pages} pages)")
    start = time.perf_counter()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        parts = list(pool.map(lay_out, ["first", "second"]))
    wall = time.perf_counter() - start
    for part, seconds, n in parts:
        print(f"  {part} half alone:          {seconds:6.1f} s  ({n} pages)")
    print(f"two halves, two processes:  {wall:6.1f} s wall  ({100 * (1 - wall / whole):.0f}% less, before stitching)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
