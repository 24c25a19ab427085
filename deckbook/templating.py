"""The one Jinja environment: templates/ on disk, StrictUndefined, autoescaping everywhere."""

from __future__ import annotations

from pathlib import Path

import jinja2

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def make_env(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """A missing variable is an error, not an empty string; every value is escaped unless Markup."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env
