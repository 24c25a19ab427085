"""Incremental builds: skip what has not changed, rewrite nothing that is already right.

Two levels, both recorded in ``<out>/.deckbook-cache/manifest.json`` after a successful build:

- the *input fingerprint* hashes every file that can change an output (the bank, the templates,
  deckbook's own code), the options and the environment that reaches outputs. When it matches
  the last build and every output recorded then is still on disk unchanged, the build is
  already up to date: nothing is loaded, nothing is written;
- each unit of work (a deck set, one handbook, one flashcard file, the e-book) has its own
  fingerprint of just the inputs it depends on; a unit whose fingerprint and files are
  unchanged is skipped (editing a glossary term does not re-lay out the flashcards).

Files are compared by size and modification time (nanoseconds), as `make` and Cargo do.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import deckbook
from deckbook.templating import TEMPLATES_DIR

MANIFEST = "manifest.json"
CACHE_DIR = ".deckbook-cache"  # inside the output folder; never part of the outputs
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


def input_fingerprint(source: Path, templates: Path | None, options_key: str, revision: str) -> str:
    """Everything that can change an output, without parsing anything."""
    env = "\0".join(os.environ.get(k, "") for k in ENVIRONMENT)
    parts = [digest_files(source), digest_files(TEMPLATES_DIR, templates), digest_files(CODE_DIR), options_key, revision, env]
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


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
    inputs: str = ""
    units: dict[str, str] = field(default_factory=dict)  # unit key -> unit fingerprint
    files: dict[str, dict[str, FileStamp]] = field(default_factory=dict)  # unit key -> file name -> stamp

    @staticmethod
    def read(cache_dir: Path) -> Manifest:
        try:
            data = json.loads((cache_dir / MANIFEST).read_text(encoding="utf-8"))
            files = {u: {n: FileStamp(**s) for n, s in fs.items()} for u, fs in data["files"].items()}
            return Manifest(str(data["inputs"]), dict(data["units"]), files)
        except (OSError, ValueError, KeyError, TypeError):
            return Manifest()

    def write(self, cache_dir: Path) -> None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        data = {
            "inputs": self.inputs,
            "units": dict(sorted(self.units.items())),
            "files": {u: {n: vars(s) for n, s in sorted(fs.items())} for u, fs in sorted(self.files.items())},
        }
        tmp = cache_dir / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, cache_dir / MANIFEST)

    def files_intact(self, out: Path, unit: str | None = None) -> bool:
        """Every file recorded (for one unit, or all) is still there, unchanged."""
        groups = [self.files.get(unit, {})] if unit else list(self.files.values())
        if unit and unit not in self.files:
            return False
        return all(FileStamp.of(out / name) == stamp for group in groups for name, stamp in group.items())

    def record(self, unit: str, fingerprint: str, out: Path, names: Iterable[str]) -> None:
        self.units[unit] = fingerprint
        self.files[unit] = {n: s for n in names if (s := FileStamp.of(out / n)) is not None}

    def forget(self, keep: Mapping[str, object]) -> None:
        """Drop units that this build no longer produces."""
        for unit in [u for u in self.units if u not in keep]:
            self.units.pop(unit, None)
            self.files.pop(unit, None)
