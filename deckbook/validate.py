"""Bank → problems: every rule that needs more than one file, plus Markdown and card-size lint.

A renderer must never meet content it cannot handle: whatever could break an output (a dangling
reference, raw HTML, a cloze without a deletion, a missing image) is an error here, found before
anything is written.

Freshness (`deckbook.freshness`) is lint, so warnings: a question that lists a registry entry in
its `index:` whose status is closed-to-new-customers or retired must acknowledge that status
(`acknowledges: {entry-id: status}`) after saying so in its text — an explicit key rather than a
keyword search, because only the author can tell, in any language, whether a text says so; and a
chapter whose `reviewed:` month is more than 12 calendar months before the build month
(SOURCE_DATE_EPOCH, else today) is due for review.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from deckbook import analysis, fonts, i18n
from deckbook.buildtime import build_date
from deckbook.fields import Role, chapter_owner
from deckbook.freshness import freshness_problems
from deckbook.load import MEDIA_DIR, SourceIndex
from deckbook.model import Bank, Level, Location, Status
from deckbook.prepared import Prepared
from deckbook.problems import Problem, error, warning
from deckbook.slots import RESERVED

MAX_ANSWER_WORDS = 100  # "≤ ~90 words": the card back must fit a phone screen
MAX_ANSWER_ITEMS = 7
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)\}\}", re.DOTALL)


def validate_bank(
    bank: Bank, index: SourceIndex, prepared: Prepared, languages: Iterable[str] = i18n.CATALOGUES, *, today: dt.date | None = None
) -> list[Problem]:
    """All semantic problems of `bank`, in no particular order (the caller sorts). `prepared`
    holds the analysis of every Markdown field (`deckbook.prepared`); `languages` are the message
    catalogues available beside English; `today` is the date freshness is judged as of (default:
    the build date, `buildtime.build_date()`)."""
    problems: list[Problem] = []
    problems += _unique_ids(bank)
    problems += _id_forms(bank)
    problems += _references(bank, index)
    problems += _index(bank, index)
    problems += _markdown(bank, index, prepared)
    problems += _clozes(bank, index)
    problems += _study_order(bank)
    problems += _retirements(bank)
    problems += _language(bank, languages)
    problems += _fonts(bank)
    problems += _glyphs(bank, index, prepared)
    problems += freshness_problems(bank, index, today or build_date())
    return problems


def _unique_ids(bank: Bank) -> Iterator[Problem]:
    first: dict[str, Location] = {}
    for what, item_id, loc in _all_ids(bank):
        if item_id in first:
            yield error(loc, f"duplicate {what} id '{item_id}' (first at {first[item_id]})")
        else:
            first[item_id] = loc


def _all_ids(bank: Bank) -> Iterator[tuple[str, str, Location]]:
    for q in bank.questions:
        yield "question", q.id, q.loc
    for t in bank.terms:
        yield "term", t.id, t.loc


def _references(bank: Bank, index: SourceIndex) -> Iterator[Problem]:
    questions = bank.question_by_id
    for owner, what, see, loc in [(q.id, "question", q.see, q.loc) for q in bank.questions] + [
        (t.id, "term", t.see, t.loc) for t in bank.terms
    ]:
        for ref in see:
            if ref == owner:
                yield error(loc, f"{what} '{owner}': 'see' refers to itself")
            elif ref in bank.term_by_id:
                yield error(loc, f"{what} '{owner}': 'see' must name questions; '{ref}' is a glossary term")
            elif ref not in questions and ref not in index.known_ids and not index.unreadable:
                yield error(loc, f"{what} '{owner}': 'see' refers to unknown question '{ref}'")
    seen: dict[str, Location] = {}
    noun = bank.book.index.noun or "index entry"
    for e in bank.entries:
        if e.id in seen:
            yield error(e.loc, f"duplicate {noun} id '{e.id}' (first at {seen[e.id]})")
        seen.setdefault(e.id, e.loc)


def _index(bank: Bank, index: SourceIndex) -> Iterator[Problem]:
    """Questions name registry entries that exist; entries that are no longer current say so."""
    known = bank.entry_by_id
    noun = bank.book.index.noun or "index entry"
    registry = bank.book.index.file
    for q in [] if index.unreadable else bank.questions:  # an unreadable file may hold the registry
        for eid in q.index:
            if eid in known:
                continue
            if not bank.entries:
                yield error(q.loc, f"question '{q.id}': 'index' names '{eid}' but the bank has no {registry}; create it or remove 'index'")
            else:
                close = difflib.get_close_matches(eid, list(known), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; add it to {registry}"
                yield error(q.loc, f"question '{q.id}': unknown {noun} '{eid}'{hint}")
    for e in bank.entries:
        if e.status is not Status.ACTIVE and not e.note:
            yield warning(e.loc, f"{noun} '{e.id}' is {e.status.value}; add a 'note' saying since when and what to use instead")


def _id_forms(bank: Bank) -> Iterator[Problem]:
    """Ids are permanent keys: one spelling only (NFC, lowercase), so 'Café' and 'café' can never
    be two notes. Tags likewise; a bad tag gets the slug it should be."""
    for what, item_id, loc in _all_ids(bank):
        if item_id != unicodedata.normalize("NFC", item_id).lower():
            yield error(loc, f"{what} id '{item_id}' must be lowercase and NFC-normalised; write '{slug(item_id)}'")
    for q in bank.questions:
        for tag in q.tags:
            if tag != slug(tag):
                yield error(q.loc, f"question '{q.id}': tag '{tag}' is not a slug; write '{slug(tag)}'")
    for what, owner, text, loc, _ in _plain_texts(bank):
        bad = sorted(c for c in RESERVED if c in text)  # `in` on the whole text: a scan in C, not a Python loop
        if bad:
            yield error(loc, f"{what} '{owner}' contains U+{ord(bad[0]):04X}, a private-use character deckbook reserves; remove it")


def slug(text: str) -> str:
    """'Café au lait!' → 'café-au-lait': NFC, lowercase, letters and digits of any script, single hyphens."""
    text = unicodedata.normalize("NFC", text).lower()
    words = ["".join(c for c in w if c.isalnum()) for w in re.split(r"[\W_]+", text)]
    return "-".join(w for w in words if w) or "x"


Place = tuple[str, str, tuple[int, ...]]  # a text's place in the source index: owner, key, list item


def _plain_texts(bank: Bank, *, markdown: bool = True) -> Iterator[tuple[str, str, str, Location, Place]]:
    """Every text of the bank that is not Markdown (and, with `markdown`, the Markdown fields' raw
    text): (what, owner, text, the owner's location, the text's `Place`)."""
    book = bank.book
    for key, value in (("title", book.title), ("subtitle", book.subtitle or ""), ("author", book.author)):
        yield "book", book.title, value, book.loc, ("book", key, ())
    for i, lv in enumerate(book.levels):
        yield "book", book.title, lv.label + (lv.meaning or ""), book.loc, ("book", "levels", (i,))
    for c in bank.chapters:
        yield "chapter", c.id, c.title, c.loc, (chapter_owner(c.id), "title", ())
        if markdown:
            for q in c.questions:
                texts = {"question": q.question_md, "answer": q.answer_md, "explanation": q.explanation_md, "cloze": q.cloze_md}
                for role, raw in texts.items():
                    yield "question", q.id, raw or "", q.loc, (q.id, role, ())
    for t in bank.terms:
        yield "term", t.id, t.term + (t.definition_md if markdown else ""), t.loc, (t.id, "term", ())
    for e in bank.entries:
        yield "index entry", e.id, e.name + (e.note or ""), e.loc, (e.id, "name", ())


def _markdown(bank: Bank, index: SourceIndex, prepared: Prepared) -> Iterator[Problem]:
    # Notes imported from Anki (`anki:`) are kept as learners have them: their deck has no intro
    # (an intro would overwrite the deck's description) and their note type no explanation field.
    # `build.py import` lists them in its summary instead.
    for c in bank.chapters:
        if not c.intro_md and c.anki_deck is None:
            yield warning(c.loc, f"chapter '{c.id}' has no intro")
    for q in bank.questions:
        if not q.explanation_md and q.anki is None:
            yield warning(q.loc, f"question '{q.id}' has no explanation")
    media = bank.source_dir / MEDIA_DIR
    for f, result in prepared:
        key = f.role.value
        found = result.analysis
        for finding in found.findings:
            where = index.text_loc(f.owner, key, finding.line) or f.loc
            make = error if finding.is_error else warning
            yield make(where, f"{f.label}: '{key}': {finding.message}")
        for name in found.images:
            yield from _image(media / name, name, f.label, key, index.text_loc(f.owner, key) or f.loc, bank)
        if f.role is Role.ANSWER:
            yield from _card_size(f.owner, found, index.text_loc(f.owner, key) or f.loc)


def _retirements(bank: Bank) -> Iterator[Problem]:
    """book.yaml `retired:` names removed ids and the questions that now stand in for them."""
    for old, new in bank.book.replaced:
        if old in bank.question_by_id or old in bank.term_by_id:
            yield error(bank.book.loc, f"retired: '{old}' is still in the bank; remove it from its chapter or from 'retired'")
        if new not in bank.question_by_id:
            yield error(bank.book.loc, f"retired: '{old}' is replaced by '{new}', which is not a question of the bank")


def _language(bank: Bank, languages: Iterable[str]) -> Iterator[Problem]:
    language = bank.book.language
    if i18n.catalogue_for(language, languages) is None:
        known = ", ".join(["en", *sorted(languages)])
        yield warning(bank.book.loc, f"language '{language}' has no message catalogue; labels print in English (catalogues: {known})")


def _fonts(bank: Bank) -> Iterator[Problem]:
    """book.yaml `fonts:` name font files in the bank that fontTools can read."""
    for role in ("body", "headings", "code"):
        for name in getattr(bank.book.fonts, role):
            path = bank.source_dir / name
            if not path.is_file() or not path.resolve().is_relative_to(bank.source_dir.resolve()):
                yield error(bank.book.loc, f"fonts: {role}: {name} not found in the bank's folder")
            elif not fonts.file_coverage(path):
                yield error(bank.book.loc, f"fonts: {role}: {name} is not a font file deckbook can read (TrueType or OpenType)")


def _glyphs(bank: Bank, index: SourceIndex, prepared: Prepared) -> Iterator[Problem]:
    """Every printed character has a glyph in some font the build can use; otherwise the book
    would show an empty box where it is."""
    bank_fonts = [bank.source_dir / n for role in ("body", "headings", "code") for n in getattr(bank.book.fonts, role)]
    covered = fonts.coverage(p for p in bank_fonts if p.is_file())
    hint = "install a font that has them (e.g. fonts-noto-cjk for Chinese, Japanese and Korean) or name one in book.yaml 'fonts:'"
    for f, result in prepared:
        missing = fonts.uncovered(result.analysis.chars, covered)
        if missing:
            where = index.text_loc(f.owner, f.role.value) or f.loc
            yield warning(where, f"{f.label}: '{f.role.value}': no font can draw {fonts.describe(missing)}; {hint}")
    for what, owner, text, loc, (source_owner, key, item) in _plain_texts(bank, markdown=False):
        missing = fonts.uncovered(text, covered)
        if missing:
            where = index.key_loc(source_owner, key, *item) or loc
            yield warning(where, f"{what} '{owner}': '{key}': no font can draw {fonts.describe(missing)}; {hint}")


def _image(path: Path, name: str, label: str, key: str, loc: Location, bank: Bank) -> Iterator[Problem]:
    real_media = (bank.source_dir / MEDIA_DIR).resolve()
    if path.is_symlink() or not path.resolve().is_relative_to(real_media):
        yield error(loc, f"{label}: '{key}': image media/{name} is a link; copy the file into source/media/")
    elif not path.is_file():
        yield error(loc, f"{label}: '{key}': image media/{name} not found in source/media/")
    else:
        try:
            with path.open("rb"):
                pass
        except OSError:
            yield error(loc, f"{label}: '{key}': image media/{name} cannot be read")


def _card_size(qid: str, found: analysis.Analysis, where: Location) -> Iterator[Problem]:
    if found.words > MAX_ANSWER_WORDS:
        yield warning(where, f"question '{qid}': answer has {found.words} words; keep it under ~90 and move depth to the explanation")
    if found.items > MAX_ANSWER_ITEMS:
        yield warning(where, f"question '{qid}': answer has {found.items} bullets; keep it to {MAX_ANSWER_ITEMS} or fewer")


def _clozes(bank: Bank, index: SourceIndex) -> Iterator[Problem]:
    for q in bank.questions:
        if q.cloze_md is None:
            continue
        where = index.text_loc(q.id, "cloze") or q.loc
        deletions = _CLOZE.findall(q.cloze_md)
        if not deletions:
            yield error(where, f"question '{q.id}': cloze has no deletion; mark one like {{{{c1::answer}}}}")
            continue
        rest = _CLOZE.sub("", q.cloze_md)
        if "{{" in rest or "}}" in rest or any("{{" in body or "}}" in body for _, body in deletions):
            yield error(where, f"question '{q.id}': cloze has unbalanced '{{{{' or '}}}}'; a deletion cannot contain braces")
        numbers = sorted({int(n) for n, _ in deletions})
        if numbers[0] < 1 or numbers != list(range(1, numbers[-1] + 1)):
            yield warning(where, f"question '{q.id}': cloze numbers should run c1, c2, … without gaps (found {numbers})")


def _study_order(bank: Bank) -> Iterator[Problem]:
    """Questions run in the declared order of levels within a chapter: the deck's new-card order follows it."""
    levels = bank.book.levels
    if not levels:
        return
    order = f"from {levels[0].id} to {levels[-1].id}"
    for c in bank.chapters:
        highest: tuple[str, Level] | None = None
        for q in c.questions:
            if q.level is None:
                continue
            if highest is not None and q.level.rank < highest[1].rank:
                before = f"'{highest[0]}' ({highest[1].id})"
                yield warning(q.loc, f"question '{q.id}' ({q.level.id}) comes after {before}; order questions {order}")
            if highest is None or q.level.rank >= highest[1].rank:
                highest = (q.id, q.level)
