"""Every fixed word the outputs print, in the book's language: gettext catalogues read with Babel.

The catalogues are ``templates/locale/<language>.po`` (the template ``messages.pot`` is
extracted from the templates with `uv run python -m deckbook.i18n extract`). A `--templates`
folder may override a catalogue like any template. English is the source language: it needs
no catalogue. `book.yaml`'s `language` (a BCP 47 tag) picks the catalogue — exactly, else by its
language and script (``pt-BR`` → ``pt``, ``zh-CN`` → ``zh-Hans``) — and an unsupported language
falls back to English, with a warning from validation.

`Messages` is what templates and code use: ``gettext``/``ngettext`` (plural forms from the
catalogue), and dates and months formatted for the locale by Babel.
"""

from __future__ import annotations

import functools
import gettext
import io
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from markupsafe import Markup

from deckbook.templating import TEMPLATES_DIR

SOURCE_LANGUAGE = "en"
CATALOGUE_DIR = "locale"  # under templates/
CATALOGUES = ("de", "es", "fr", "it", "ja", "nl", "pt", "zh-Hans")  # beside English, the source
_SCRIPTS = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-sg": "zh-Hans", "zh-hans": "zh-Hans"}


_FONTCONFIG_LANGS = {"zh-hans": "zh-CN", "zh-hant": "zh-TW", "zh": "zh-CN"}


def print_language(tag: str) -> str:
    """`tag` as Pango and fontconfig understand it when they choose fonts: script subtags become
    the region whose glyph shapes they stand for (zh-Hans → zh-CN, zh-Hant → zh-TW)."""
    return _FONTCONFIG_LANGS.get(tag.lower(), tag)


def catalogue_for(language: str, available: Iterable[str] = CATALOGUES) -> str | None:
    """The catalogue serving `language`: 'en' for English, None when there is none."""
    tag = language.strip().lower()
    if tag.split("-")[0] == SOURCE_LANGUAGE:
        return SOURCE_LANGUAGE
    by_lower = {a.lower(): a for a in available}
    for candidate in (tag, _SCRIPTS.get(tag, ""), _SCRIPTS.get("-".join(tag.split("-")[:2]), ""), tag.split("-")[0]):
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    return None


@dataclass(frozen=True)
class Messages:
    """The labels of one language. `language` is the catalogue used ('en' when falling back)."""

    language: str
    locale: Locale
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def list(self, items: Iterable[str]) -> str:
        """'A, B and C' / 'A, B und C' / 'A、B、C'."""
        return format_list(list(items), locale=self.locale)

    def markup_list(self, items: Iterable[Markup]) -> Markup:
        """`list` of HTML pieces (links, slots): the joining words are the locale's, escaped."""
        pieces = [Markup(item) for item in items]
        marks = [f"\ue010{i}\ue011" for i in range(len(pieces))]
        joined = Markup.escape(_list_of_marks(self.locale, len(marks))) if marks else Markup("")
        for mark, piece in zip(marks, pieces, strict=True):
            joined = Markup(str(joined).replace(mark, str(piece)))
        return joined

    @property
    def space(self) -> str:
        """Between two sentences or after a run-in heading: nothing in Chinese and Japanese."""
        return "" if self.language in ("ja", "zh-Hans") else " "

    def pgettext(self, context: str, message: str) -> str:
        return self.translations.pgettext(context, message)

    def number(self, value: float) -> str:
        """1.5 as the locale writes it: 1.5, 1,5."""
        return format_decimal(value, locale=self.locale)

    def date(self, epoch: int) -> str:
        """A build date as the locale writes it: 1 December 2026, 1. Dezember 2026, 2026年12月1日."""
        return format_date(datetime.fromtimestamp(epoch, tz=UTC).date(), format="long", locale=self.locale)

    def month(self, year_month: str) -> str:
        """'2026-11' as the locale writes a month: November 2026, novembre 2026, 2026年11月."""
        year, month = (int(part) for part in year_month.split("-"))
        return format_skeleton("yMMMM", date(year, month, 1), locale=self.locale)


@functools.lru_cache(maxsize=256)
def _list_of_marks(locale: Locale, n: int) -> str:
    """The locale's list of `n` placeholders (what `markup_list` fills), worked out once."""
    return format_list([f"\ue010{i}\ue011" for i in range(n)], locale=locale)


def _locale(language: str, catalogue: str) -> Locale:
    """The book's own locale for dates and lists (en-GB writes 1 December 2026), else the catalogue's."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, LookupError, UnknownLocaleError):
        return Locale.parse(catalogue.replace("-", "_"))


def messages(language: str, env: jinja2.Environment) -> Messages:
    """The messages for a book in `language`, read through `env`'s loader (so overrides apply)."""
    name = catalogue_for(language) or SOURCE_LANGUAGE
    locale = _locale(language, name)
    if name == SOURCE_LANGUAGE:
        return Messages(name, locale, gettext.NullTranslations())
    assert env.loader is not None
    text = env.loader.get_source(env, f"{CATALOGUE_DIR}/{name}.po")[0]
    catalog = read_po(io.StringIO(text), locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Messages(name, locale, Translations(buf))


def install(env: jinja2.Environment, msgs: Messages) -> None:
    """Give `env`'s templates `_()`, `gettext()` and `ngettext()` in the book's language, and
    `messages` (dates, months, lists)."""
    env.install_gettext_translations(msgs.translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals["messages"] = msgs
    env.globals["print_language"] = print_language


def extract(target: str) -> int:
    """Write the message template (``.pot``) from every template, for translators."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import write_po

    catalog = Catalog(project="deckbook", charset="utf-8")
    jinja = {"extensions": "jinja2.ext.i18n", "trimmed": "false"}
    cards = {  # Anki card templates use [[ ]] and [% %]: {{ }} is Anki's own syntax
        **jinja,
        "variable_start_string": "[[",
        "variable_end_string": "]]",
        "block_start_string": "[%",
        "block_end_string": "%]",
        "comment_start_string": "[#",
        "comment_end_string": "#]",
    }
    sources = [
        (
            TEMPLATES_DIR,
            [("anki/*.front.html.jinja", "jinja2"), ("anki/*.back.html.jinja", "jinja2"), ("**.jinja", "jinja2")],
            {"anki/*.front.html.jinja": cards, "anki/*.back.html.jinja": cards, "**.jinja": jinja},
        ),
        (Path(__file__).parent, [("**.py", "python")], {}),
    ]
    for root, method_map, options in sources:
        for filename, lineno, message, comments, context in extract_from_dir(
            str(root), method_map, options_map=options, comment_tags=("Translators:",)
        ):
            catalog.add(message, None, [(f"{root.name}/{filename}", lineno)], auto_comments=comments, context=context)
    with open(target, "wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True, omit_header=False)
    return 0


if __name__ == "__main__":  # uv run python -m deckbook.i18n extract
    if sys.argv[1:] == ["extract"]:
        raise SystemExit(extract(str(TEMPLATES_DIR / CATALOGUE_DIR / "messages.pot")))
    raise SystemExit("usage: python -m deckbook.i18n extract")


_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def catalogue_problems(po_text: str, pot_text: str) -> list[str]:
    """What a translator must fix in a catalogue: messages of the template missing or untranslated,
    placeholders (``%(name)s``) lost or invented, plural forms incomplete."""
    template = read_po(io.StringIO(pot_text))
    catalogue = read_po(io.StringIO(po_text))
    problems = []
    plurals = catalogue.num_plurals
    for message in template:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        got = catalogue.get(message.id)
        if got is None or not got.string or (isinstance(got.string, tuple) and not all(got.string)):
            problems.append(f"untranslated: {key!r}")
            continue
        sources = [message.id] if isinstance(message.id, str) else list(message.id)
        wanted = set().union(*(_PLACEHOLDER.findall(s) for s in sources))
        strings = [got.string] if isinstance(got.string, str) else list(got.string)
        if isinstance(message.id, tuple) and len(strings) != plurals:
            problems.append(f"{key!r}: {len(strings)} plural forms, the language has {plurals}")
        for s in strings:
            found = set(_PLACEHOLDER.findall(s))
            if found - wanted or (wanted - found and not (isinstance(message.id, tuple) and found <= wanted)):
                problems.append(f"{key!r}: placeholders {sorted(found)} in {s!r}, expected {sorted(wanted)}")
    return problems
