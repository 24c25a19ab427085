"""The bank's index, shared by every output: which questions name each registry entry, how an
entry is named next to a question, and the words around it in the book's language."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from deckbook.i18n import Messages
from deckbook.model import Bank, Book, Entry, Question, Status


@dataclass(frozen=True)
class IndexItem:
    entry: Entry
    questions: tuple[Question, ...]


def bank_index(bank: Bank) -> list[IndexItem]:
    """Entries named by at least one question, sorted by name, each with its questions in book order."""
    named: dict[str, list[Question]] = {}
    for q in bank.questions:
        for eid in q.index:
            named.setdefault(eid, []).append(q)
    items = [IndexItem(bank.entry_by_id[eid], tuple(qs)) for eid, qs in named.items() if eid in bank.entry_by_id]
    return sorted(items, key=lambda i: (i.entry.name.casefold(), i.entry.id))


def index_title(bank: Bank, messages: Messages) -> str:
    """The index's heading: the bank's own (book.yaml `index.title`) or the language's word."""
    return bank.book.index.title or messages.gettext("Index")


def index_label(bank: Bank, messages: Messages) -> str:
    """What the entries beside a question are called: the bank's (`index.label`) or "Index"."""
    return bank.book.index.label or messages.pgettext("label beside a question, naming its index entries", "Index")


def status_label(status: Status, messages: Messages) -> str:
    labels = {
        Status.ACTIVE: messages.gettext("active"),
        Status.CLOSED: messages.gettext("closed to new customers"),
        Status.RETIRED: messages.gettext("retired"),
    }
    return labels[status]


def entry_names(bank: Bank, q: Question, messages: Messages | None = None) -> Markup:
    """The registry entries `q` names, as escaped HTML joined by commas; with `messages`, an
    entry that is no longer current says so ("Thalidomide (retired)")."""
    names = []
    for eid in q.index:
        e = bank.entry_by_id.get(eid)
        if e is None:
            continue
        label = Markup.escape(e.name)
        if messages is not None and e.status is not Status.ACTIVE:
            label += Markup(" (%s)") % status_label(e.status, messages)
        names.append(label)
    return Markup(", ").join(names)


BUNDLED = {"body": "Charis SIL", "headings": "Inter", "code": "Noto Sans Mono"}


def typefaces(book: Book) -> list[str]:
    """The typefaces the handbook is set in, by role: the bank's own fonts or the bundled ones."""
    from deckbook.fonts import family_of

    out: list[str] = []
    for role, bundled in BUNDLED.items():
        files = getattr(book.fonts, role)
        name = family_of(files[0]) if files else bundled
        if name not in out:
            out.append(name)
    return out
