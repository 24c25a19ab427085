"""Benchmark deckbook against its speed anchor, side by side, on this machine (a script, not a test).

    uv run python bench/benchmark.py                  # shipped bank and 1000 questions
    uv run python bench/benchmark.py --sizes 300      # a synthetic bank of 300 questions instead
    uv run python bench/benchmark.py --json out.json  # also write the figures

The **anchor** is what an author gets from the plainest tool chain: pandoc turns the five seed
guides (``../shared/seeds/*.txt``) into standalone HTML, and WeasyPrint (the same version deckbook
pins) lays each out and writes its PDF, once, in one Python process. Its pages per second are the
floor deckbook's A4 handbook is measured against.

For the shipped bank (copied, so its ledger is untouched) and for a synthetic bank of N questions
(the shipped bank's own questions repeated under new ids, 25 to a chapter), each in a fresh
process as a user runs it (`build.py ... -q`, default worker count), it measures:

  A4 from empty      build.py pdf --paper a4 into an empty output folder: pages, seconds, pages/s,
                     and the ratio to the anchor's pages/s
  A4 after an edit   the same folder, one answer changed: seconds, and the share of "from empty"
  e-book from empty  build.py epub into an empty folder (it needs the A4 page map): share of A4
  everything         build.py (every output) into an empty folder
  no change          build.py again, through `uv run`, nothing changed
  one question       build.py (every output) of a one-question bank, from empty

Peak memory is the largest sum of the proportional set size (PSS: resident memory, pages shared
between forked processes counted once in all) of the build's processes, sampled every 250 ms.
Figures depend on the machine (and on whatever else it runs): compare the ratios.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "source"
SEEDS = ROOT.parent / "shared" / "seeds"
PER_CHAPTER = 25
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

ANCHOR = """
import sys, time, weasyprint
start = time.perf_counter()
pages = 0
for html in sys.argv[1:]:
    document = weasyprint.HTML(filename=html).render()
    pages += len(document.pages)
    document.write_pdf(html[:-5] + ".pdf")
print(pages, time.perf_counter() - start)
"""


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mib: int


def measure(cmd: list[str], cwd: Path = ROOT) -> Measured:
    """Wall time and peak summed PSS of `cmd` and every process it starts."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=CHILD_ENV, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _session_rss(proc.pid))
            time.sleep(0.25)  # reading smaps_rollup costs the kernel a page-table walk: not too often

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{err.decode()}")
    return Measured(seconds, peak // (1024 * 1024))


def _session_rss(session: int) -> int:
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[3]) != session:  # field 6 of /proc/PID/stat: the session id
                continue
            rollup = Path(entry.path, "smaps_rollup").read_text()
            total += int(rollup.split("\nPss:", 1)[1].split()[0]) * 1024  # kB
        except (OSError, ValueError, IndexError):
            continue
    return total


def pdf_pages(path: Path) -> int:
    import pikepdf

    with pikepdf.open(io.BytesIO(path.read_bytes())) as pdf:
        return len(pdf.pages)


def anchor(work: Path) -> tuple[int, float]:
    """The anchor's pages and seconds (pandoc included)."""
    folder = work / "anchor"
    folder.mkdir()
    start = time.perf_counter()
    htmls = []
    for seed in sorted(SEEDS.glob("*.txt")):
        html = folder / f"{seed.stem}.html"
        subprocess.run(
            ["pandoc", "-f", "markdown", "-t", "html5", "-s", "--metadata", f"title={seed.stem}", str(seed), "-o", str(html)],
            check=True,
            capture_output=True,
        )
        htmls.append(str(html))
    out = subprocess.run([sys.executable, "-c", ANCHOR, *htmls], check=True, capture_output=True, text=True, env=CHILD_ENV).stdout.split()
    return int(out[0]), time.perf_counter() - start


def synthetic_bank(n: int, dest: Path) -> Path:
    """N questions cut from the shipped bank's real ones, repeated with fresh ids."""
    source = dest / "source"
    (source / "chapters").mkdir(parents=True)
    book = yaml.safe_load((SHIPPED / "book.yaml").read_text(encoding="utf-8"))
    shutil.copyfile(SHIPPED / book["index"]["file"], source / book["index"]["file"])
    pool = []
    for chapter_id in book["chapters"]:
        pool += yaml.safe_load((SHIPPED / "chapters" / f"{chapter_id}.yaml").read_text(encoding="utf-8"))["questions"]
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
    levels = [level["id"] for level in book.get("levels", [])]
    chapters = []
    for c, start in enumerate(range(0, n, PER_CHAPTER), start=1):
        chunk = sorted(questions[start : start + PER_CHAPTER], key=lambda q: levels.index(q["level"]) if q.get("level") in levels else 0)
        chapter_id = f"part-{c:03d}"
        chapters.append(chapter_id)
        doc = {
            "id": chapter_id,
            "title": f"Synthetic chapter {c}",
            "reviewed": "2026-11",
            "intro": "Questions for the benchmark.",
            "questions": chunk,
        }
        (source / "chapters" / f"{chapter_id}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    terms = yaml.safe_load((SHIPPED / "glossary.yaml").read_text(encoding="utf-8"))["terms"]
    for t in terms:
        t.pop("see", None)
        t.pop("origin", None)
    (source / "glossary.yaml").write_text(yaml.safe_dump({"terms": terms}, sort_keys=False, allow_unicode=True), encoding="utf-8")
    book.update(title=f"Benchmark bank ({n} questions)", namespace=f"bench-{n}", deck=f"Bench {n}", chapters=chapters)
    book.pop("retired", None)
    (source / "book.yaml").write_text(yaml.safe_dump(book, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return source


def one_question_bank(dest: Path) -> Path:
    """`build.py init`'s sample bank cut down to its first question."""
    source = dest / "one"
    subprocess.run([sys.executable, str(ROOT / "build.py"), "init", str(source), "-q"], check=True, cwd=ROOT, env=CHILD_ENV)
    for chapter in (source / "chapters").glob("*.yaml"):
        doc = yaml.safe_load(chapter.read_text(encoding="utf-8"))
        doc["questions"] = doc["questions"][:1]
        chapter.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (source / "deckbook.lock").unlink(missing_ok=True)
    return source


def build(*args: str | Path) -> list[str]:
    return [sys.executable, str(ROOT / "build.py"), *map(str, args), "-q"]


def edit_one_answer(source: Path) -> None:
    """One sentence more at the end of the first line of the second chapter's first answer."""
    chapter = sorted((source / "chapters").glob("*.yaml"))[1]
    doc = yaml.safe_load(chapter.read_text(encoding="utf-8"))
    first, _, rest = doc["questions"][0]["answer"].partition("\n")
    doc["questions"][0]["answer"] = f"{first} One more sentence for the benchmark.\n{rest}"
    chapter.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")


def bench_bank(label: str, source: Path, work: Path, anchor_rate: float, rows: list[dict[str, object]]) -> None:
    def row(step: str, m: Measured, **extra: object) -> None:
        rows.append({"bank": label, "step": step, "seconds": round(m.seconds, 1), "peak_mib": m.peak_mib, **extra})
        shown = " ".join(f"{k}={v}" for k, v in extra.items())
        print(f"  {label:16} {step:18} {m.seconds:7.1f} s {m.peak_mib:6} MiB  {shown}", flush=True)

    a4 = work / f"a4-{label}"
    m = measure(build("pdf", "--paper", "a4", "--source", source, "--out", a4))
    pages = pdf_pages(next(a4.glob("*-a4.pdf")))
    rate = pages / m.seconds
    row("A4 from empty", m, pages=pages, pages_per_s=round(rate, 2), vs_anchor=round(rate / anchor_rate, 2))
    edit_one_answer(source)
    e = measure(build("pdf", "--paper", "a4", "--source", source, "--out", a4))
    row("A4 after an edit", e, share=f"{100 * e.seconds / m.seconds:.0f}%")
    b = measure(build("epub", "--source", source, "--out", work / f"epub-{label}"))
    row("e-book from empty", b, share=f"{100 * b.seconds / m.seconds:.0f}%")
    everything = work / f"all-{label}"
    row("everything", measure(build("--source", source, "--out", everything)))
    uv = shutil.which("uv")
    again = (
        [uv, "run", "--project", str(ROOT), "python", str(ROOT / "build.py"), "--source", str(source), "--out", str(everything), "-q"]
        if uv
        else None
    )
    row("no change (uv run)", measure(again or build("--source", source, "--out", everything)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000], help="synthetic bank sizes (default: 1000)")
    parser.add_argument("--no-shipped", action="store_true", help="skip the shipped bank")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    info = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "")
    machine = f"{platform.machine()} {cpu}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}"
    print(f"deckbook benchmark — {time.strftime('%Y-%m-%d %H:%M')} — {machine}", flush=True)
    subprocess.run([*build("check", "--source", SHIPPED)], check=True, cwd=ROOT, env=CHILD_ENV)  # warms the bytecode cache
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="deckbook-bench-") as tmp:
        work = Path(tmp)
        pages, seconds = anchor(work)
        rate = pages / seconds
        rows.append(
            {
                "bank": "anchor (five seed guides)",
                "step": "pandoc → WeasyPrint",
                "seconds": round(seconds, 1),
                "pages": pages,
                "pages_per_s": round(rate, 2),
            }
        )
        print(f"  anchor           pandoc → WeasyPrint {seconds:7.1f} s  pages={pages} pages_per_s={rate:.2f}", flush=True)
        if not args.no_shipped:
            shutil.copytree(SHIPPED, work / "shipped")
            bench_bank("shipped", work / "shipped", work, rate, rows)
        for n in args.sizes:
            bench_bank(f"{n} questions", synthetic_bank(n, work / f"bank-{n}"), work, rate, rows)
        one = one_question_bank(work)
        m = measure(build("--source", one, "--out", work / "one-out"))
        rows.append({"bank": "one question", "step": "everything", "seconds": round(m.seconds, 1), "peak_mib": m.peak_mib})
        print(f"  one question     everything         {m.seconds:7.1f} s {m.peak_mib:6} MiB", flush=True)
    print("\n| bank | step | seconds | peak MiB | notes |\n|---|---|---|---|---|")
    for r in rows:
        notes = ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("bank", "step", "seconds", "peak_mib"))
        print(f"| {r['bank']} | {r['step']} | {r['seconds']} | {r.get('peak_mib', '')} | {notes} |")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "rows": rows}, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
