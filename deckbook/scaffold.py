"""`build.py init DIR`: a small, valid bank to start from, in the book's language.

The bank is written from ``templates/init/`` (so a `--templates` folder can replace it) with the
sample text translated by the same catalogues as the labels. Everything is written into a
staging folder beside DIR and renamed into place only when complete, and a folder that already
holds files is never touched. The new bank's ledger is written by a first `lock`, so it builds
out of the box.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from deckbook import i18n
from deckbook.schemacheck import SCHEMA_DIR
from deckbook.templating import make_env
from deckbook.validate import slug

INIT = "init"
CHAPTER = "first-steps"
FILES = ("book.yaml", "chapters/chapter.yaml", "glossary.yaml", "index.yaml")


@dataclass(frozen=True)
class Created:
    folder: Path
    files: tuple[Path, ...]


class Refused(Exception):
    """DIR exists and is not empty (or cannot be written); the message says what to do."""


def create_bank(folder: Path, language: str = "en", templates: Path | None = None) -> Created:
    """Write a starter bank into `folder` (which must not exist or be empty)."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise Refused(f"{folder} already exists and is not empty; choose a new folder")
    env = make_env(templates).overlay(autoescape=False)
    messages = i18n.messages(language, env)
    i18n.install(env, messages)
    env.filters["slug"] = slug
    env.filters["quote"] = lambda text: json.dumps(str(text), ensure_ascii=False)
    parent = folder.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    values = {
        "schema": os.path.relpath(SCHEMA_DIR.resolve(), folder.resolve()),
        "folder": str(folder),
        "language": language,
        "namespace": slug(folder.name) or "my-deck",
        "chapter": CHAPTER,
        "month": time.strftime("%Y-%m"),
    }
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=parent))
    try:
        written = []
        for name in FILES:
            text = env.get_template(f"{INIT}/{name}.jinja").render(**values)
            target = staging / (f"chapters/{CHAPTER}.yaml" if name == "chapters/chapter.yaml" else name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written.append(folder / target.relative_to(staging))
        (staging / "media").mkdir()
        assert env.loader is not None
        svg = env.loader.get_source(env, f"{INIT}/media/example.svg")[0]
        (staging / "media" / "example.svg").write_text(svg, encoding="utf-8")
        written.append(folder / "media" / "example.svg")
        if folder.exists():
            folder.rmdir()  # empty, checked above
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Created(folder, tuple(written))
