"""Problems found in the source: what a user sees, compiler style, as ``path:line: error: …``."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from deckbook.model import Location


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding. Problems sort by file, then line, so a report reads top to bottom."""

    loc: Location
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {self.severity.value}: {self.message}"


def error(loc: Location, message: str) -> Problem:
    return Problem(loc, Severity.ERROR, message)


def warning(loc: Location, message: str) -> Problem:
    return Problem(loc, Severity.WARNING, message)


def count(problems: Iterable[Problem]) -> tuple[int, int]:
    """Return (errors, warnings)."""
    errors = warnings = 0
    for p in problems:
        if p.severity is Severity.ERROR:
            errors += 1
        else:
            warnings += 1
    return errors, warnings


def sort_key(p: Problem) -> tuple[str, int, str]:
    return (p.loc.path, p.loc.line or 0, p.message)
