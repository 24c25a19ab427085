"""Incremental builds: skip what has not changed, rewrite nothing that is already right.

Two levels, both recorded in ``<out>/.deckbook-cache/manifest.json`` after a successful build:

- the *input fingerprint* hashes every file that can change an output (the bank, the templates,
  deckbook's own code), the options, the environment that reaches outputs and the build month
  (chapters age into freshness warnings, `deckbook.freshness`). When it matches
  the last build and every output recorded then is still on disk unchanged, the build is
  already up to date: nothing is loaded, nothing is written;
- each unit of work (a deck set, one handbook, one flashcard file, the e-book) has its own
  fingerprint: that of its job (everything its output is made from, see
  `deckbook.renderers.base`) and of deckbook's code and templates. A unit whose fingerprint and
  files are unchanged is skipped (editing a glossary term does not re-lay out the flashcards).

Files are compared by size and modification time (nanoseconds), as `make` and Cargo do.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import deckbook
from deckbook.buildtime import build_month
from deckbook.files import write_atomic
from deckbook.store import CACHE_DIR
from deckbook.templating import TEMPLATES_DIR

MANIFEST = "manifest.json"
CODE_DIR = Path(deckbook.__file__).resolve().parent
ENVIRONMENT = ("SOURCE_DATE_EPOCH", "DECKBOOK_REVISION")


def _files(root: Path) -> Iterable[Path]:
    if root.is_dir():
        yield from sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def digest_files(*roots: Path | None) -> str:
    h = hashlib.sha256()
    for root in roots:
        if root is None:
            continue
        for path in _files(root):
            h.update(str(path.relative_to(root)).encode() + b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


def code_digest(templates: Path | None) -> str:
    """deckbook's own code and the templates in use: a change to either may change any output."""
    return hashlib.sha256((digest_files(CODE_DIR) + digest_files(TEMPLATES_DIR, templates)).encode()).hexdigest()


def input_fingerprint(source: Path, templates: Path | None, options_key: str, revision: str) -> str:
    """Everything that can change an output, without parsing anything."""
    env = "\0".join(os.environ.get(k, "") for k in ENVIRONMENT)
    parts = [digest_files(source), digest_files(TEMPLATES_DIR, templates), digest_files(CODE_DIR), options_key, revision, env]
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


def source_revision(source: Path) -> str:
    """The git commit of the source folder (with +dirty when it has uncommitted edits)."""
    forced = os.environ.get("DECKBOOK_REVISION")
    if forced:
        return forced
    try:
        head = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unversioned"
    return f"{head}+dirty" if dirty else head


def build_inputs(source: Path, templates: Path | None, targets: Iterable[str], options: object, strict: bool) -> str:
    """The fingerprint of everything a build of `targets` reads (see `input_fingerprint`)."""
    key = repr((sorted(targets), options, strict, build_month()))
    return input_fingerprint(source, templates, key, source_revision(source))


def up_to_date(out: Path, source: Path, templates: Path | None, targets: Iterable[str], options: object, strict: bool) -> bool:
    """Whether the last build into `out` had exactly these inputs and its files are all there:
    answered from the manifest and file stamps alone (nothing parsed, nothing heavy imported)."""
    manifest = Manifest.read(out / CACHE_DIR)
    return (
        bool(manifest.inputs)
        and manifest.inputs == build_inputs(source, templates, targets, options, strict)
        and manifest.files_intact(out)
    )


@dataclass(frozen=True)
class FileStamp:
    size: int
    mtime_ns: int

    @staticmethod
    def of(path: Path) -> FileStamp | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return FileStamp(st.st_size, st.st_mtime_ns)


@dataclass
class Manifest:
    """What the last successful build made: its input fingerprint, and each unit's fingerprint and files."""

    inputs: str = ""
    units: dict[str, str] = field(default_factory=dict)  # unit key -> unit fingerprint
    files: dict[str, dict[str, FileStamp]] = field(default_factory=dict)  # unit key -> file name -> stamp
    pending: dict[str, str] = field(default_factory=dict)  # fingerprints of units being produced by this build

    @staticmethod
    def read(cache_dir: Path) -> Manifest:
        try:
            data = json.loads((cache_dir / MANIFEST).read_text(encoding="utf-8"))
            files = {u: {n: FileStamp(**s) for n, s in fs.items()} for u, fs in data["files"].items()}
            return Manifest(str(data["inputs"]), dict(data["units"]), files)
        except (OSError, ValueError, KeyError, TypeError):
            return Manifest()

    def write(self, cache_dir: Path) -> None:
        data = {
            "inputs": self.inputs,
            "units": dict(sorted(self.units.items())),
            "files": {u: {n: vars(s) for n, s in sorted(fs.items())} for u, fs in sorted(self.files.items())},
        }
        write_atomic(cache_dir / MANIFEST, json.dumps(data, indent=1).encode("utf-8"))

    def files_intact(self, out: Path, unit: str | None = None) -> bool:
        """Every file recorded (for one unit, or all) is still there, unchanged."""
        groups = [self.files.get(unit, {})] if unit else list(self.files.values())
        if unit and unit not in self.files:
            return False
        return all(FileStamp.of(out / name) == stamp for group in groups for name, stamp in group.items())

    def is_current(self, unit: str, fingerprint: str, out: Path) -> bool:
        """The unit made files last time from exactly this fingerprint, and they are untouched.
        A unit that makes no files (only derived data) is never current: it decides for itself."""
        return self.units.get(unit) == fingerprint and bool(self.files.get(unit)) and self.files_intact(out, unit)

    def record(self, unit: str, out: Path, names: Iterable[str]) -> None:
        """The unit produced `names` from the fingerprint noted in `pending`."""
        self.units[unit] = self.pending[unit]
        self.files[unit] = {n: s for n in names if (s := FileStamp.of(out / n)) is not None}

    def forget(self, keep: Iterable[str]) -> None:
        """Drop units that this build no longer produces."""
        kept = set(keep)
        for unit in [u for u in self.units if u not in kept]:
            self.units.pop(unit, None)
            self.files.pop(unit, None)
