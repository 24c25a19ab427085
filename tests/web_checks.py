"""Checks on a built web edition that no validator makes: links and fragments, nothing remote."""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from tests.book_checks import TOOLS_DIR

VNU_JAR = TOOLS_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = TOOLS_DIR / "node_modules" / "axe-core" / "axe.min.js"
EXTERNAL = ("https:", "mailto:")


class _Page(HTMLParser):
    """Every id in a page and every URL it refers to (links, stylesheets, scripts, images, forms)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []  # (tag.attribute, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if value is not None and (name in ("href", "src", "action") or (tag == "object" and name == "data")):
                self.refs.append((f"{tag}.{name}", value))


def read_site(site: Path) -> dict[str, _Page]:
    pages = {}
    for path in sorted(site.rglob("*.html")):
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        pages[path.relative_to(site).as_posix()] = page
    return pages


def link_problems(site: Path) -> list[str]:
    """Every local URL must name a file of the site and, with a fragment, an id in it; outside
    links may only be https: or mailto: pages (never a resource the page loads)."""
    pages = read_site(site)
    problems = []
    for name, page in pages.items():
        for where, url in page.refs:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//"):
                if not url.startswith(EXTERNAL) or where not in ("a.href",):
                    problems.append(f"{name}: {where}={url}: not a relative link")
                continue
            if url.startswith("/"):
                problems.append(f"{name}: {where}={url}: absolute path (breaks on file:// and in a subfolder)")
                continue
            target = (PurePosixPath(name).parent / unquote(parts.path)).as_posix() if parts.path else name
            target = str(PurePosixPath(*[p for p in PurePosixPath(target).parts if p != "."]))
            if not (site / target).is_file():
                problems.append(f"{name}: {where}={url}: no file {target}")
                continue
            if parts.fragment and (target not in pages or unquote(parts.fragment) not in pages[target].ids):
                problems.append(f"{name}: {where}={url}: no id '{parts.fragment}' in {target}")
    return problems


def vnu_errors(*folders: Path) -> list[str]:
    """The Nu HTML Checker's errors over every HTML file in `folders`."""
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--skip-non-html", "--format", "gnu", *map(str, folders)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
