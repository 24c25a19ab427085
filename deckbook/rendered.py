"""The bank's HTML, for every output; the one place Markdown's HTML is marked safe.

Renderers receive `BankHtml` and never call the Markdown parser themselves, so the deck, the
book and the e-book show exactly the same text. Images keep the neutral ``media/<file>`` source
that each renderer maps to its own layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from deckbook.fields import BOOK_OWNER, Role, chapter_owner
from deckbook.model import Bank
from deckbook.prepared import Prepared


@dataclass(frozen=True)
class QuestionHtml:
    question: Markup  # inline HTML
    answer: Markup
    explanation: Markup | None
    cloze: Markup | None  # still holds the {{c1::…}} markers; only the deck uses it


@dataclass(frozen=True)
class BankHtml:
    questions: dict[str, QuestionHtml]
    terms: dict[str, Markup]
    intros: dict[str, Markup]
    description: Markup | None
    titles: dict[str, Markup]  # chapter titles, escaped


def render_bank(bank: Bank, prepared: Prepared) -> BankHtml:
    """The HTML of every Markdown field of `bank`, as `prepared` holds it."""

    def html(owner: str, role: Role) -> Markup | None:
        got = prepared.html((owner, role))
        return None if got is None else Markup(got)

    def required(owner: str, role: Role) -> Markup:
        return Markup(prepared[(owner, role)].html)

    questions = {
        q.id: QuestionHtml(
            question=required(q.id, Role.QUESTION),
            answer=required(q.id, Role.ANSWER),
            explanation=html(q.id, Role.EXPLANATION),
            cloze=html(q.id, Role.CLOZE),
        )
        for q in bank.questions
    }
    intros = {c.id: got for c in bank.chapters if (got := html(chapter_owner(c.id), Role.INTRO)) is not None}
    return BankHtml(
        questions=questions,
        terms={t.id: required(t.id, Role.DEFINITION) for t in bank.terms},
        intros=intros,
        description=html(BOOK_OWNER, Role.DESCRIPTION),
        titles={c.id: Markup.escape(c.title) for c in bank.chapters},
    )
