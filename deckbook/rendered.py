"""Markdown → HTML, once per build, for every output; the one place HTML is marked safe.

Renderers receive `BankHtml` and never call the Markdown parser themselves, so the deck, the
book and the e-book show exactly the same text. Images keep the neutral ``media/<file>`` source
that each renderer maps to its own layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from deckbook import markup
from deckbook.model import Bank


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


def render_bank(bank: Bank) -> BankHtml:
    """Render every Markdown field of a validated bank."""
    questions = {
        q.id: QuestionHtml(
            question=Markup(markup.render_inline(q.question_md)),
            answer=Markup(markup.render(q.answer_md)),
            explanation=Markup(markup.render(q.explanation_md)) if q.explanation_md else None,
            cloze=Markup(markup.render(q.cloze_md)) if q.cloze_md else None,
        )
        for q in bank.questions
    }
    return BankHtml(
        questions=questions,
        terms={t.id: Markup(markup.render(t.definition_md)) for t in bank.terms},
        intros={c.id: Markup(markup.render(c.intro_md)) for c in bank.chapters if c.intro_md},
        description=Markup(markup.render(bank.book.description_md)) if bank.book.description_md else None,
        titles={c.id: Markup.escape(c.title) for c in bank.chapters},
    )
