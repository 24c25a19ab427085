"""The one Jinja environment: templates/ on disk, StrictUndefined, autoescaping everywhere.

A user may point `--templates DIR` at a folder of their own: any file there (same relative path,
e.g. ``anki/card.css`` or ``handbook/print.css``) replaces the built-in one; everything else
falls back to ours. Stylesheets are read through the same loader, so overrides apply to them too.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def make_env(overrides: Path | None = None) -> jinja2.Environment:
    """A missing variable is an error, not an empty string; every value is escaped unless Markup.
    The i18n extension is loaded; `deckbook.i18n.install` gives it the book's language."""
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(TEMPLATES_DIR))]
    if overrides is not None:
        loaders.insert(0, jinja2.FileSystemLoader(str(overrides)))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )


def source_of(env: jinja2.Environment, name: str) -> str:
    """The text of a template file (stylesheets, Anki card templates) as the loader finds it."""
    assert env.loader is not None
    return str(env.loader.get_source(env, name)[0])


def card_env(env: jinja2.Environment) -> jinja2.Environment:
    """An environment for Anki card templates: the same loader and language as `env`, but with
    [[ … ]] and [% … %] as its own syntax, because {{ … }} belongs to Anki's field syntax."""
    cards = env.overlay(
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
    )
    return cards
