"""Benchmark deckbook on synthetic banks of realistic size (a script, not a test).

    uv run python bench/benchmark.py                 # 100, 300 and 1000 questions
    uv run python bench/benchmark.py --sizes 300     # one size
    uv run python bench/benchmark.py --jobs 1        # single process

A synthetic bank of N questions is made from the shipped bank's own questions (real answers,
explanations, code and tables), repeated under new ids and cut into chapters of 25, with the
shipped glossary and services registry. For every size it times, each in a fresh process (so
interpreter start-up counts) and from a cold output folder unless stated:

  deck            build.py anki
  e-book (warm)   build.py epub, with the A4 page map already cached by a previous PDF build
  e-book (cold)   build.py epub into an empty folder (it must lay out the A4 book for its page list)
  deck+A4+e-book  build.py anki pdf epub --paper a4
  everything      build.py (decks, A4 and Letter handbooks, flashcards, e-book)
  no change       build.py again with nothing changed
  one edit        build.py after changing one answer

and reports wall time and the peak resident memory of the largest single process.

Builds run as a user runs them on a default Python install: with bytecode caching on (the
benchmark unsets PYTHONDONTWRITEBYTECODE for its children and warms the cache once first;
without .pyc files every start recompiles ~250 modules, about 0.3 s) and without `uv run`'s own
start-up (about 0.1 s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "source"
PER_CHAPTER = 25

MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:]).returncode
wall = time.perf_counter() - start
print(f"{code} {wall:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
"""


def synthetic_bank(n: int, dest: Path) -> Path:
    """N questions cut from the shipped bank's real ones, repeated with fresh ids."""
    source = dest / "source"
    (source / "chapters").mkdir(parents=True)
    shutil.copyfile(SHIPPED / "services.yaml", source / "services.yaml")
    pool = []
    for chapter_id in yaml.safe_load((SHIPPED / "book.yaml").read_text())["chapters"]:
        pool += yaml.safe_load((SHIPPED / "chapters" / f"{chapter_id}.yaml").read_text())["questions"]
    questions = []
    for i in range(n):
        q = dict(pool[i % len(pool)])
        if i >= len(pool):  # a repeat: new id and slightly different text, so no cache sees a duplicate
            copy = i // len(pool)
            q["id"] = f"{q['id']}-r{copy}"
            q["question"] = f"{q['question']} (variant {copy})"
            q["answer"] = f"Variant {copy}. {q['answer']}"
            if q.get("explanation"):
                q["explanation"] = f"Variant {copy} of question {i}.\n\n{q['explanation']}"
        q.pop("see", None)
        q.pop("origin", None)
        questions.append(q)
    chapters = []
    levels = ["basic", "intermediate", "advanced", "expert"]
    for c, start in enumerate(range(0, n, PER_CHAPTER), start=1):
        chunk = sorted(questions[start : start + PER_CHAPTER], key=lambda q: levels.index(q["level"]))
        chapter_id = f"part-{c:03d}"
        chapters.append(chapter_id)
        doc = {
            "id": chapter_id,
            "title": f"Synthetic chapter {c}",
            "reviewed": "2026-11",
            "intro": "Questions for the benchmark.",
            "questions": chunk,
        }
        (source / "chapters" / f"{chapter_id}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    terms = yaml.safe_load((SHIPPED / "glossary.yaml").read_text())["terms"]
    for t in terms:
        t.pop("see", None)
        t.pop("origin", None)
    (source / "glossary.yaml").write_text(yaml.safe_dump({"terms": terms}, sort_keys=False, allow_unicode=True))
    book = yaml.safe_load((SHIPPED / "book.yaml").read_text())
    book.update(title=f"Benchmark bank ({n} questions)", namespace=f"bench-{n}", deck=f"Bench {n}", chapters=chapters)
    (source / "book.yaml").write_text(yaml.safe_dump(book, sort_keys=False, allow_unicode=True))
    return source


CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of the largest process of one build.py run."""
    cmd = [sys.executable, "-c", MEASURE, sys.executable, str(ROOT / "build.py"), *args, "-q"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT, env=CHILD_ENV).stdout.split()
    code, wall, rss_kb = int(out[-3]), float(out[-2]), int(out[-1])
    if code != 0:
        raise SystemExit(f"build.py {' '.join(args)} exited {code}")
    return wall, rss_kb // 1024


def bench_size(n: int, jobs: int, work: Path) -> list[tuple[str, float, int]]:
    source = synthetic_bank(n, work / f"bank-{n}")
    subprocess.run([sys.executable, str(ROOT / "build.py"), "lock", "--source", str(source), "-q"], check=True, cwd=ROOT)
    common = ["--source", str(source), "--jobs", str(jobs)]
    rows = []

    def measure(label: str, out: Path, *extra: str, fresh: bool = True) -> None:
        if fresh and out.exists():
            shutil.rmtree(out)
        wall, rss = run([*extra, *common, "--out", str(out)])
        rows.append((label, wall, rss))
        print(f"  {n:5} questions  {label:16} {wall:7.1f} s  {rss:6} MiB", flush=True)

    measure("deck", work / f"o-deck-{n}", "anki")
    measure("deck+A4+e-book", work / f"o-a4-{n}", "anki", "pdf", "epub", "--paper", "a4")
    measure("e-book (warm)", work / f"o-a4-{n}", "epub", fresh=False)
    measure("e-book (cold)", work / f"o-epub-{n}", "epub")
    measure("everything", work / f"o-all-{n}")
    measure("no change", work / f"o-all-{n}", fresh=False)
    chapter = source / "chapters" / "part-001.yaml"
    doc = yaml.safe_load(chapter.read_text())
    doc["questions"][0]["answer"] += "\nOne more sentence for the benchmark.\n"
    chapter.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    measure("one edit", work / f"o-all-{n}", fresh=False)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--jobs", type=int, default=min(len(os.sched_getaffinity(0)), 4))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    machine = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}"
    print(f"deckbook benchmark — {time.strftime('%Y-%m-%d')} — {machine} — --jobs {args.jobs}")
    results: dict[int, list[tuple[str, float, int]]] = {}
    subprocess.run(
        [sys.executable, "-c", "import deckbook.cli; from deckbook import renderers; [renderers.get(n) for n in renderers.names()]"],
        check=True,
        cwd=ROOT,
        env=CHILD_ENV,
    )
    with tempfile.TemporaryDirectory(prefix="deckbook-bench-") as tmp:
        for n in args.sizes:
            results[n] = bench_size(n, args.jobs, Path(tmp))
    labels = [label for label, _, _ in next(iter(results.values()))]
    print("\n| step | " + " | ".join(f"{n} questions" for n in results) + " |")
    print("|---|" + "---|" * len(results))
    for i, label in enumerate(labels):
        cells = [f"{results[n][i][1]:.1f} s, {results[n][i][2]} MiB" for n in results]
        print(f"| {label} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "jobs": args.jobs, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
