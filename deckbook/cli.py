"""Command line: the only module that prints. main(argv) -> exit status (0 ok, 1 content, 2 usage)."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from deckbook import incremental, renderers
from deckbook.options import PAPERS, AnkiOptions, DeckFilter, FlashcardOptions, Options

if TYPE_CHECKING:  # the modules that load, check and render the bank are imported when a command needs them,
    from deckbook import pipeline  # so that `build.py` with nothing to do answers at once
    from deckbook.problems import Problem

COMMANDS = ("check", "lock", "init", "diff", "import", "serve")
ALIASES = {"html": "web"}  # a target's other name: `build.py html` builds the web edition
EPILOG = """\
commands:
  (none)            build every output: the Anki decks, the PDF handbooks, the flashcards, the EPUB
                    and the web edition
  anki pdf flashcards epub web
                    build only these outputs (html is another name for web)
  check             validate the source and report every problem; writes nothing
  lock              refresh the ledger (source/deckbook.lock) without building anything
  init DIR          start a new bank in DIR (a small, valid example; --language sets its language)
  diff              what importing this release does to a learner of the last one (--json for CI)
  import FILE --into DIR
                    a bank from an existing deck: an Anki package (.apkg, .colpkg), a CSV/TSV file
                    or Anki's "Notes in Plain Text", or Obsidian_to_Anki Markdown; learners' review
                    history survives (README: "Bring an existing deck")
  serve             the web edition and a card preview on http://127.0.0.1:8000/, rebuilt and
                    reloaded on every save (--port N); Ctrl-C stops it

examples:
  uv run build.py                               everything, into output/
  uv run build.py check --strict --locked       what CI runs
  uv run build.py anki --level advanced --level expert
  uv run build.py pdf --paper letter

exit status: 0 success, 1 problems in the source (nothing written), 2 bad command line,
3 internal error (a bug in deckbook; previous outputs untouched), 130 interrupted.
Problems are printed as path:line: error|warning: message, every one of them in one run.
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="build.py",
        description="Turn one question bank (YAML + Markdown in source/) into Anki decks, a PDF handbook, flashcards, "
        "an EPUB and a web edition.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    targets = ", ".join((*renderers.names(), *ALIASES))
    p.add_argument("what", nargs="*", metavar="COMMAND|TARGET", help=f"a command ({', '.join(COMMANDS)}) or outputs to build: {targets}")
    p.add_argument("--source", type=Path, default=Path("source"), help="the bank's folder (default: source)")
    p.add_argument("--out", type=Path, default=Path("output"), help="where outputs go (default: output)")
    p.add_argument(
        "--templates", type=Path, metavar="DIR", help="your own templates: files here replace the built-in ones of the same path"
    )
    p.add_argument("--paper", choices=PAPERS, action="append", help="PDF paper size; repeat for both (default: a4 and letter)")
    p.add_argument(
        "--language", default="en", metavar="TAG", help="with init or import: the new bank's language, e.g. de, fr, ja (default: en)"
    )
    imp = p.add_argument_group("import (build.py import FILE --into DIR)")
    imp.add_argument("--into", type=Path, metavar="DIR", help="the new bank's folder (created; never overwritten unless --force)")
    imp.add_argument("--force", action="store_true", help="replace DIR even if it holds files")
    imp.add_argument(
        "--collection",
        type=Path,
        metavar="FILE",
        help="for CSV and Markdown: an Anki package or collection holding the notes (keeps learners' history)",
    )
    p.add_argument("--json", action="store_true", help="with diff: print JSON")
    p.add_argument("--port", type=int, default=8000, metavar="N", help="with serve: the port on 127.0.0.1 (default: 8000)")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--locked", action="store_true", help="with check: fail when the ledger is out of date")
    deck = p.add_argument_group("focused Anki deck (same notes and GUIDs as the full deck)")
    deck.add_argument("--level", action="append", default=[], metavar="ID", help="only questions of this level id (repeatable)")
    deck.add_argument("--chapter", action="append", default=[], metavar="ID", help="only questions of this chapter (repeatable)")
    deck.add_argument("--tag", action="append", default=[], metavar="TAG", help="only questions with this tag (repeatable)")
    deck.add_argument("--no-level-decks", action="store_true", help="do not also write one deck per level")
    p.add_argument(
        "--card-offset",
        metavar="X,Y",
        type=card_offset,
        default=(0.0, 0.0),
        help="flashcard backs: shift in mm for duplex printers that misalign (e.g. 1.5,-1)",
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=default_jobs(),
        metavar="N",
        help=f"worker processes for independent outputs (default: {default_jobs()}, the usable cores)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    p.add_argument("--debug", action="store_true", help="on an internal error, print the traceback")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    cli = parser()
    try:
        args = cli.parse_args(argv)
        if args.what[:1] != ["init"]:
            args.what = [ALIASES.get(w, w) for w in args.what]
    except SystemExit as stop:  # --help (0) or a usage error argparse has already printed (2)
        return stop.code if isinstance(stop.code, int) else 2
    err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False, markup=False)
    out = Console(highlight=False, soft_wrap=True, emoji=False, markup=False)
    usage = _usage_error(args)
    if usage:
        cli.print_usage(sys.stderr)
        err.print(f"build.py: error: {usage}", markup=False)
        return 2
    command = args.what[0] if args.what and args.what[0] in COMMANDS else None
    try:
        return _run(command, args, out, err)
    except KeyboardInterrupt:
        err.print("build.py: interrupted — the previous outputs are untouched", markup=False)
        return 130
    except Exception as exc:  # a bug in deckbook, not in the bank: say so, keep the old outputs
        if args.debug:
            traceback.print_exc()
        err.print(f"build.py: internal error: {type(exc).__name__}: {exc}", markup=False)
        err.print("this is a bug in deckbook, not in your bank; the previous outputs are untouched (--debug shows where)", markup=False)
        return 3


def _run(command: str | None, args: argparse.Namespace, out: Console, err: Console) -> int:
    """One command, or a build; its exit status (exceptions are `main`'s to report)."""
    if command in ("init", "import"):
        return {"init": _init, "import": _import}[command](Path(args.what[1]), args, out, err)
    if command in ("diff", "serve"):
        return {"diff": _diff, "serve": _serve}[command](args, out, err)
    if command == "check":
        from deckbook import pipeline

        outcome = pipeline.check(args.source, strict=args.strict, locked=args.locked, templates=args.templates, jobs=args.jobs)
        _report(err, outcome.problems, "check", outcome.ok)
        if outcome.ok and not args.quiet:
            out.print(f"{args.source}: ok", markup=False)
        return 0 if outcome.ok else 1
    return _build(command, args, out, err)


def _build(command: str | None, args: argparse.Namespace, out: Console, err: Console) -> int:
    targets = tuple(dict.fromkeys(args.what)) or tuple(renderers.names())
    papers = tuple(dict.fromkeys(args.paper)) if args.paper else PAPERS
    options = Options(
        papers=papers,
        anki=AnkiOptions(DeckFilter(tuple(args.level), tuple(args.chapter), tuple(args.tag)), level_decks=not args.no_level_decks),
        flashcards=FlashcardOptions(papers, args.card_offset),
    )
    if command != "lock" and incremental.up_to_date(args.out, args.source, args.templates, targets, options, args.strict):
        if not args.quiet:
            out.print(f"{args.out}: up to date (nothing changed since the last build)", markup=False)
        return 0
    from deckbook import pipeline

    request = pipeline.Request(
        args.source, args.out, targets, options, strict=args.strict, lock_only=command == "lock", templates=args.templates, jobs=args.jobs
    )
    start = time.perf_counter()
    with out.status("building…") if not args.quiet and out.is_terminal else _Null() as status:

        def progress(target: str) -> None:
            if status is not None:
                status.update(f"rendering {target}…")

        outcome = pipeline.build(request, progress)
    _report(err, outcome.problems, "build", outcome.ok)
    if not outcome.ok:
        return 1
    if not args.quiet:
        _print_outcome(out, outcome, args, start, command)
    return 0


def _print_outcome(out: Console, outcome: pipeline.Outcome, args: argparse.Namespace, start: float, command: str | None) -> None:
    if outcome.up_to_date:
        out.print(f"{args.out}: up to date (nothing changed since the last build)", markup=False)
        return
    if outcome.ledger_note:
        out.print(outcome.ledger_note, markup=False)
    for note in outcome.notes:
        out.print(note, markup=False)
    for w in outcome.written:
        verb = "wrote" if w.changed else "same "
        out.print(f"{verb} {w.path}  {_size(w.size)}  {w.seconds:.1f} s  ({w.target})", markup=False)
    if outcome.skipped:
        out.print(f"unchanged: {', '.join(outcome.skipped)}", markup=False)
    if command != "lock":
        out.print(f"done in {time.perf_counter() - start:.1f} s", markup=False)


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def default_jobs() -> int:
    """One worker per usable core, at most 4 (each handbook layout holds ~1 GB)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def _init(folder: Path, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`init DIR`: write the starter bank, then its ledger, and say how to build it."""
    from deckbook.scaffold import Refused, create_bank

    try:
        created = create_bank(folder, args.language, args.templates)
    except Refused as refused:
        err.print(f"build.py: error: {refused}", markup=False)
        return 1
    from deckbook import pipeline

    lock = pipeline.build(pipeline.Request(folder, args.out, (), lock_only=True, templates=args.templates))
    _report(err, lock.problems, "init", lock.ok)
    if not lock.ok:
        return 1
    if not args.quiet:
        for path in created.files:
            out.print(f"wrote {path}", markup=False)
        out.print(f"wrote {folder / 'deckbook.lock'}", markup=False)
        out.print(f"next: uv run build.py --source {folder}    (then open {args.out}/)", markup=False)
    return 0


def _diff(args: argparse.Namespace, out: Console, err: Console) -> int:
    """`diff`: the release report, as text or JSON; exit 0 whatever it finds (1 if the bank is broken)."""
    import json

    from deckbook import pipeline, releasediff

    report = pipeline.diff(args.source, args.out, args.templates)
    if isinstance(report, tuple):
        _report(err, list(report), "diff", False)
        return 1
    if args.json:
        out.print(json.dumps(report.as_json(), indent=1, ensure_ascii=False), markup=False, highlight=False)
        return 0
    for line in releasediff.lines(report):
        out.print(line, markup=False)
    return 0


def _import(source: Path, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`import FILE --into DIR`: the importers do the work (deckbook.importers); this prints."""
    from deckbook.importers import Refused, import_file

    try:
        summary = import_file(source, args.into, force=args.force, collection=args.collection, language=args.language)
    except Refused as refused:
        _report(err, refused.problems, "import", ok=False)
        err.print(f"{args.into} was not written", markup=False)
        return 1
    if not args.quiet:
        for line in summary.lines():
            out.print(line, markup=False)
    return 0


def _serve(args: argparse.Namespace, out: Console, err: Console) -> int:
    """`serve`: the live preview, until Ctrl-C (exit 0); 1 when the port is taken."""
    from deckbook.web.serve import ServeOptions, serve

    options = ServeOptions(args.source, args.port, args.templates, args.out)
    return serve(options, lambda line: out.print(line, markup=False), lambda line: err.print(line, markup=False))


def _usage_error(args: argparse.Namespace) -> str | None:
    what = list(args.what)
    if what[:1] == ["init"]:
        return None if len(what) == 2 else "init takes one folder: build.py init DIR [--language de]"
    if what[:1] == ["import"]:
        if len(what) != 2 or args.into is None:
            return "import takes one file and a folder: build.py import FILE --into DIR [--force] [--collection FILE]"
        return None
    if args.into is not None or args.force or args.collection is not None:
        return "--into, --force and --collection only apply to import"
    commands = [w for w in what if w in COMMANDS]
    unknown = [w for w in what if w not in COMMANDS and w not in renderers.names()]
    if unknown:
        return f"unknown command or target '{unknown[0]}' (choose from {', '.join((*COMMANDS, *renderers.names(), *ALIASES))})"
    if commands and len(what) > 1:
        return f"'{commands[0]}' takes no targets"
    if args.port != 8000 and commands != ["serve"]:
        return "--port only applies to serve"
    if not 0 <= args.port <= 65535:
        return f"--port must be between 0 and 65535; got {args.port}"
    if args.json and commands != ["diff"]:
        return "--json only applies to diff"
    if args.locked and commands != ["check"]:
        return "--locked only applies to check"
    if args.jobs < 1:
        return f"--jobs must be at least 1; got {args.jobs}"
    if args.templates is not None and not args.templates.is_dir():
        return f"--templates: no folder at {args.templates}"
    return None


def card_offset(text: str) -> tuple[float, float]:
    """argparse type for --card-offset: 'X,Y' in mm, each within ±20."""
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        x = y = float("inf")
    if not (abs(x) <= 20 and abs(y) <= 20):
        raise argparse.ArgumentTypeError(f"expects two numbers in mm (at most 20) like 1.5,-1; got '{text}'")
    return (x, y)


def _report(console: Console, problems: Sequence[Problem], what: str, ok: bool) -> None:
    from deckbook.problems import Severity, count

    for p in problems:
        style = "bold red" if p.severity is Severity.ERROR else "yellow"
        console.print(str(p), style=style, markup=False)
    errors, warnings = count(problems)
    if not ok:
        tail = " — nothing was written" if what == "build" else ""
        console.print(f"{what} failed: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}{tail}", markup=False)
    elif warnings:
        console.print(f"{warnings} warning{'s' * (warnings != 1)}", markup=False)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"
