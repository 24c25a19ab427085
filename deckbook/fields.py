"""The one walk over a bank's Markdown: every field, with its owner, role and place in the source.

Validation, rendering, media collection and the Anki notes all iterate `markdown_fields(bank)`;
no other module keeps its own list of which keys hold Markdown. A field added to the model is
added here once, and every consumer sees it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from deckbook.model import Bank, Location


class Role(enum.Enum):
    """What a field is for; the value is the key it is written under in the source."""

    DESCRIPTION = "description"  # book.yaml
    GUIDE = "guide"  # book.yaml: what answers and explanations are for
    INTRO = "intro"  # a chapter's
    QUESTION = "question"
    ANSWER = "answer"
    EXPLANATION = "explanation"
    CLOZE = "cloze"
    DEFINITION = "definition"  # a glossary term's


BOOK_OWNER = "book"


def chapter_owner(chapter_id: str) -> str:
    """Owner key of a chapter's fields (question and term ids never contain ':')."""
    return f"chapter:{chapter_id}"


FieldKey = tuple[str, Role]  # (owner, role): question id, term id, "book" or "chapter:<id>"


@dataclass(frozen=True)
class Field:
    """One Markdown text of the bank.

    `inline` says how it is rendered: a question is a card's front and a book heading, so it is
    inline Markdown (no paragraphs); everything else is blocks. `one_line` says how it is
    checked: a question written on one line must stay inline; one written over several lines
    is checked as blocks (and the check reports what an inline rendering would lose).
    """

    owner: str
    role: Role
    text: str
    label: str  # how messages name the owner: "question 'net-vpc'", "book"
    loc: Location  # the owner's location; the text's own line comes from the source index

    @property
    def key(self) -> FieldKey:
        return (self.owner, self.role)

    @property
    def inline(self) -> bool:
        return self.role is Role.QUESTION

    @property
    def one_line(self) -> bool:
        return self.role is Role.QUESTION and "\n" not in self.text.strip()


def markdown_fields(bank: Bank) -> Iterator[Field]:
    """Every non-empty Markdown field, in book order (book, chapters with their questions, terms)."""
    book = bank.book
    if book.description_md:
        yield Field(BOOK_OWNER, Role.DESCRIPTION, book.description_md, "book", book.loc)
    if book.guide_md:
        yield Field(BOOK_OWNER, Role.GUIDE, book.guide_md, "book", book.loc)
    for chapter in bank.chapters:
        if chapter.intro_md:
            yield Field(chapter_owner(chapter.id), Role.INTRO, chapter.intro_md, f"chapter '{chapter.id}'", chapter.loc)
        for q in chapter.questions:
            label = f"question '{q.id}'"
            for role, text in (
                (Role.QUESTION, q.question_md),
                (Role.ANSWER, q.answer_md),
                (Role.EXPLANATION, q.explanation_md),
                (Role.CLOZE, q.cloze_md),
            ):
                if text:
                    yield Field(q.id, role, text, label, q.loc)
    for term in bank.terms:
        yield Field(term.id, Role.DEFINITION, term.definition_md, f"term '{term.id}'", term.loc)
