"""Derived data kept between builds and shared between units: page maps, the Markdown cache.

Everything here can be recomputed from the source; it only saves time. Entries are written
atomically and identified by name; what an entry is valid for is the writer's business (a page
map records the fingerprint of the layout it came from). A damaged entry reads as missing.
"""

from __future__ import annotations

from pathlib import Path

from deckbook.files import write_if_changed

CACHE_DIR = ".deckbook-cache"  # inside the output folder; never part of the outputs


class Store:
    """A folder of named byte strings (``<out>/.deckbook-cache``); safe to share between processes."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"bad store entry name {name!r}")
        return self.root / name

    def get(self, name: str) -> bytes | None:
        try:
            return self.path(name).read_bytes()
        except OSError:
            return None

    def put(self, name: str, data: bytes) -> None:
        write_if_changed(self.path(name), data)

    def names(self, prefix: str) -> list[str]:
        """Entries whose name begins with `prefix`, sorted."""
        try:
            return sorted(p.name for p in self.root.iterdir() if p.name.startswith(prefix))
        except OSError:
            return []

    def remove(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)
