"""Bank → problems: every rule that needs more than one file, plus Markdown and card-size lint.

A renderer must never meet content it cannot handle: whatever could break an output (a dangling
reference, raw HTML, a cloze without a deletion, a missing image) is an error here, found before
anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from deckbook import markup
from deckbook.fields import Role
from deckbook.load import MEDIA_DIR, SourceIndex
from deckbook.model import Bank, Location, Status
from deckbook.prepared import Prepared
from deckbook.problems import Problem, error, warning

MAX_ANSWER_WORDS = 100  # "≤ ~90 words": the card back must fit a phone screen
MAX_ANSWER_ITEMS = 7
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)\}\}", re.DOTALL)


def validate_bank(bank: Bank, index: SourceIndex, prepared: Prepared) -> list[Problem]:
    """All semantic problems of `bank`, in no particular order (the caller sorts). `prepared`
    holds the analysis of every Markdown field (`deckbook.prepared`)."""
    problems: list[Problem] = []
    problems += _unique_ids(bank)
    problems += _references(bank, index)
    problems += _services(bank, index)
    problems += _markdown(bank, index, prepared)
    problems += _clozes(bank, index)
    problems += _study_order(bank)
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
    for s in bank.services:
        if s.id in seen:
            yield error(s.loc, f"duplicate service id '{s.id}' (first at {seen[s.id]})")
        seen.setdefault(s.id, s.loc)


def _services(bank: Bank, index: SourceIndex) -> Iterator[Problem]:
    known = bank.service_by_id
    for q in [] if index.unreadable else bank.questions:  # an unreadable file may hold the registry
        for sid in q.services:
            if sid not in known:
                yield error(q.loc, f"question '{q.id}': unknown service '{sid}'; add it to services.yaml")
    for s in bank.services:
        if s.status is not Status.ACTIVE and not s.note:
            yield warning(s.loc, f"service '{s.id}' is {s.status.value}; add a 'note' saying since when and what to use instead")


def _markdown(bank: Bank, index: SourceIndex, prepared: Prepared) -> Iterator[Problem]:
    for c in bank.chapters:
        if not c.intro_md:
            yield warning(c.loc, f"chapter '{c.id}' has no intro")
    for q in bank.questions:
        if not q.explanation_md:
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


def _card_size(qid: str, found: markup.Analysis, where: Location) -> Iterator[Problem]:
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
    """Questions run from basic to expert within a chapter: the deck's new-card order follows it."""
    for c in bank.chapters:
        highest = None
        for q in c.questions:
            if highest is not None and q.level.rank < highest.level.rank:
                yield warning(
                    q.loc,
                    f"question '{q.id}' ({q.level.value}) comes after '{highest.id}' ({highest.level.value}); "
                    "order questions from basic to expert",
                )
            if highest is None or q.level.rank >= highest.level.rank:
                highest = q
