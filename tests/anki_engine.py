"""Helpers around the real Anki engine (the `anki` package from PyPI) for the deck tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest


@dataclass(frozen=True)
class ImportLog:
    new: int
    updated: int
    duplicate: int
    conflicting: int


def import_apkg(col: Collection, path: Path) -> ImportLog:
    """Import with the options a user gets by default in Anki's import dialog."""
    result = col.import_anki_package(ImportAnkiPackageRequest(package_path=str(path), options=ImportAnkiPackageOptions()))
    log = result.log
    return ImportLog(len(log.new), len(log.updated), len(log.duplicate), len(log.conflicting))


def open_collection(folder: Path) -> Collection:
    folder.mkdir(parents=True, exist_ok=True)
    return Collection(str(folder / "collection.anki2"))
