"""Handbook layout with WeasyPrint: exact page numbers, one layout per part, parts in parallel.

The book is cut into parts (`deckbook.renderers.parts`: front matter, each chapter, each section
of the back matter), each beginning on a right-hand page. A part's layout does not depend on the
page numbers it prints — they are laid out as zeros of the right width and written in once known
(`deckbook.renderers.pagepatch`) — so every part is laid out once, in `workers` engines
(`deckbook.renderers.layoutpool`), and kept in its engine until its numbers are known: its first
page (from the page counts of the parts before it) and the page of every anchor it names (a part's
own id, when nothing comes before it, is on its first page: known before the part is laid out).
Then the engine writes the numbers in and draws the part's PDF; the parts are merged into one
tagged PDF (`deckbook.renderers.pdfmerge`) once the engines have stopped (merging while they still
hold their documents would add the merge's memory to theirs: over 1 GiB at 1000 questions).

Two things can send a part back to layout, and both are rare: a number whose digit count was
guessed wrong (a guess comes from the last layout of this paper, else from the part's share of
the book's text), and a *late* part — one printing page ranges ("12–14", the index), whose
content depends on the numbers themselves — which waits until every other part is laid out and
is laid out with its numbers. The run ends when every part's PDF prints exactly the numbers of
the final layout; a number that keeps moving after `MAX_ROUNDS` is a deckbook bug.

Every layout is cached in the store by what it laid out, and every written part by that and the
numbers it printed: an edit to one answer lays out that chapter again (and draws again the parts
whose numbers it moved); an unchanged book is merged from the store without any layout. With
`pdf=False` the run only finds where every anchor lands (the e-book's page list), writing nothing.

Kept documents cost memory (about 1 MB a page): an engine keeps at most `KEEP_PAGES` pages; a
part laid out beyond that is measured only, and laid out again when its numbers are known.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from deckbook.renderers.handbook import PAGES, HandbookJob, fill_html
from deckbook.renderers.layoutpool import Drop, Finish, Layout, Numbers, Pool, Reply, Request, Setup
from deckbook.renderers.parts import first_pages, local_links, split
from deckbook.renderers.pdfmerge import merge
from deckbook.slots import OPEN
from deckbook.store import Store

MAX_ROUNDS = 4
KEEP_PAGES = 200  # per engine (about 1 MB a page)
CHARS_PER_PAGE = 5500  # of part HTML, for a first guess of where an anchor lands (only its digit count matters)


@dataclass(frozen=True)
class Handbook:
    """A laid-out handbook: the PDF (empty without `pdf`), where every anchor landed, how many
    rounds and part layouts it took, and its page count."""

    pdf: bytes
    anchors: dict[str, int]
    tops: tuple[tuple[str, ...], ...]  # per page of the book: the elements that begin on it (none on a blank page)
    rounds: int
    layouts: int
    pages: int


@dataclass(frozen=True)
class _Part:
    name: str
    template: str  # HTML with page-number slots
    asked: frozenset[str]  # the anchors whose pages it prints
    own: frozenset[str]  # those of them it holds itself (a chapter's self-test)
    late: bool  # prints page ranges: laid out with its numbers, once every other part is laid out
    ids: tuple[str, ...]  # the anchors it holds, in order, and where each begins in `template`
    offsets: tuple[int, ...]
    leading: str | None  # an anchor nothing comes before in its body: on the part's first page


@dataclass(frozen=True)
class _Measure:
    """One layout of a part: its page count and where its anchors are (1-based, within the part)."""

    pages: int
    anchors: dict[str, int]
    tops: tuple[tuple[str, ...], ...]  # per page, the elements that begin on it


@dataclass
class _State:
    """What the orchestrator knows of one part during a run (mutable: the run's bookkeeping)."""

    basis: tuple[tuple[str, int], ...] = ()  # what its layout was filled from (digit counts; exact pages for late parts)
    key: str = ""  # the store's name for that layout
    measure: _Measure | None = None
    earlier: _Measure | None = None  # a layout sent back (its digits were wrong): still a good estimate
    kept_by: int | None = None  # the engine keeping its laid-out document
    pending: bool = False  # a request about it is under way
    pdf: bytes | None = None
    printed: Numbers | None = None  # the numbers in `pdf`
    exact: bool = False  # its numbers did not fit the placeholders: lay it out with the numbers themselves


_ID = re.compile(r'\sid="([^"]+)"')


def _parts(job: HandbookJob) -> list[_Part]:
    out = []
    for part in split(job.html):
        found = list(_ID.finditer(part.html))
        _, asked = fill_html(job, part.html, {})
        late = f"{OPEN}{PAGES}" in part.html
        ids = tuple(m.group(1) for m in found)
        own, offsets = frozenset(asked) & set(ids), tuple(m.start() for m in found)
        out.append(_Part(part.name, part.html, frozenset(asked), own, late, ids, offsets, _leading(part.html, found)))
    return out


def _leading(html: str, found: list[re.Match[str]]) -> str | None:
    """The first anchor of a part's body if no text comes before it (a section's own id)."""
    body = re.search(r"<body[^>]*>", html)
    if body is None or not found or found[0].start() < body.end():
        return None
    before = html[body.end() : html.rfind("<", 0, found[0].start())]  # up to the tag that holds it
    return found[0].group(1) if not re.sub(r"<[^>]*>", "", before).strip() else None


class _Run:
    """One layout of a handbook: what each engine does next, decided from what is known."""

    def __init__(self, job: HandbookJob, store: Store, guess: Mapping[str, int], pdf: bool) -> None:
        self.job, self.store, self.guess, self.pdf = job, store, dict(guess), pdf
        self.parts = _parts(job)
        self.states = [_State() for _ in self.parts]
        self.layouts = 0
        self.rounds = 1
        self.used: set[str] = set()
        self.drops: defaultdict[int, list[tuple[int, Drop]]] = defaultdict(list)  # per engine: documents to forget
        self.css = (job.fonts_css, job.css, job.code_css)
        files = [(n, hashlib.sha256(b).hexdigest()) for n, b in job.files]
        self.files_digest = hashlib.sha256(json.dumps(files).encode()).hexdigest()

    # -- what is known ------------------------------------------------------------------------

    def positions(self) -> tuple[list[int], dict[str, int]]:
        """First pages of the parts laid out so far and of the part after them, and where their
        anchors are. A part sent back for its digits counts with its earlier layout meanwhile (its
        page count hardly ever changes; `settle` checks it did not)."""
        seen = []
        for state in self.states:
            measure = state.measure or state.earlier
            if measure is None:
                break
            seen.append(measure)
        starts = first_pages([m.pages for m in seen] + [0])[: len(self.states)]  # and where the next part begins
        anchors = {a: start - 1 + p for start, m in zip(starts, seen, strict=False) for a, p in m.anchors.items()}
        following = self.parts[len(seen)].leading if len(seen) < len(self.parts) else None
        if following is not None:  # the next part's own id is on its first page (the index's, which the contents name)
            anchors[following] = starts[len(seen)]
        return starts, anchors

    def estimate(self, starts: list[int], anchors: Mapping[str, int]) -> dict[str, int]:
        """Where every anchor probably is: known; else as in this run's earlier layout of its part
        (sent back for its digits); else as in the last layout; else from the parts' lengths (the
        parts measured so far give the pages per character)."""
        # the first part (title, contents) is mostly white space: it says little of the pages per character
        measured = [(len(p.template), s.measure.pages) for p, s in zip(self.parts[1:], self.states[1:], strict=True) if s.measure]
        per_char = sum(n for _, n in measured) / sum(c for c, _ in measured) if measured else 1 / CHARS_PER_PAGE
        out: dict[str, int] = {}
        page = 1
        for i, (part, state) in enumerate(zip(self.parts, self.states, strict=True)):
            page = starts[i] if i < len(starts) else page
            seen = state.measure or state.earlier
            if seen is not None:
                out.update({a: page - 1 + p for a, p in seen.anchors.items()})
                length = seen.pages
            else:
                length = max(1, round(len(part.template) * per_char))
                for anchor, offset in zip(part.ids, part.offsets, strict=True):
                    out.setdefault(anchor, page + length * offset // max(1, len(part.template)))
                out.update({a: p for a, p in self.guess.items() if a in part.ids})
            page += length
            page += 1 - page % 2
        return out | dict(anchors)

    def numbers(self, i: int, starts: list[int], anchors: Mapping[str, int]) -> Numbers | None:
        """Part i's real numbers, if they are all known."""
        if i >= len(starts) or not self.parts[i].asked <= anchors.keys():
            return None
        return Numbers(starts[i], {a: anchors[a] for a in sorted(self.parts[i].asked)})

    def basis(self, i: int, values: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
        """What part i's layout depends on, given these pages: each number's digit count (a late
        part's ranges: the pages themselves)."""
        asked = sorted(self.parts[i].asked)
        if self.parts[i].late:
            return tuple((a, values.get(a, 0)) for a in asked)
        return tuple((a, len(str(values[a])) if a in values else 0) for a in asked)

    # -- the store ----------------------------------------------------------------------------

    def _key(self, html: str, first_page: int) -> str:
        text = json.dumps([self.job.engine, self.css, html, first_page, self.files_digest])
        return f"part-{self.job.paper}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"

    def _pdf_name(self, key: str, numbers: Numbers) -> str:
        digest = hashlib.sha256(json.dumps([numbers.first_page, sorted(numbers.values.items())]).encode()).hexdigest()[:16]
        return f"{key}-{digest}"

    def _stored_measure(self, key: str) -> _Measure | None:
        raw = self.store.get(key + ".json")
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            tops = tuple(tuple(str(key) for key in page) for page in data["tops"])
            got = _Measure(int(data["pages"]), {str(k): int(v) for k, v in data["anchors"].items()}, tops)
        except (ValueError, KeyError, TypeError):
            return None
        self.used.add(key)
        return got

    def _stored_pdf(self, i: int, numbers: Numbers) -> bool:
        """Whether the store has part i's PDF with these numbers (then it is taken)."""
        state = self.states[i]
        name = self._pdf_name(state.key, numbers)
        data = self.store.get(name + ".pdf")
        if data is None:
            return False
        state.pdf, state.printed = data, numbers
        self.used.add(name)
        return True

    def record(self, i: int, reply: Reply) -> None:
        """What an engine answered about part i (a layout, a PDF, or that the numbers did not fit)."""
        state = self.states[i]
        state.pending = False
        if reply.unpatched:
            state.kept_by, state.pdf, state.exact = None, None, True
        if reply.pages:
            state.measure = _Measure(reply.pages, dict(reply.anchors), reply.tops)
            data = {"pages": reply.pages, "anchors": dict(sorted(reply.anchors.items())), "tops": reply.tops}
            self.store.put(state.key + ".json", json.dumps(data).encode())
            self.used.add(state.key)
        numbers = reply.numbers
        if reply.pdf is not None and numbers is not None:
            state.pdf, state.printed, state.kept_by = reply.pdf, numbers, None
            name = self._pdf_name(state.key, numbers)
            self.store.put(name + ".pdf", reply.pdf)
            self.used.add(name)

    # -- deciding -------------------------------------------------------------------------------

    def kept_pages(self, worker: int) -> int:
        """How many laid-out pages engine `worker` keeps."""
        return sum(s.measure.pages for s in self.states if s.kept_by == worker and s.measure)

    def next_request(self, worker: int, workers: int) -> tuple[int, Request] | None:
        """What engine `worker` (of `workers`) should do next, for which part; None when nothing
        can be done yet. In order: drop a document it keeps that was laid out with wrong digit
        counts (or whose PDF the store has); lay out a part never laid out — a late part, on the
        critical path, as soon as every other part is laid out and by the engine with the least
        else to write — unless the engine keeps many pages already; write a part it keeps whose
        numbers are known (that frees memory); lay out again and write a part that was not kept."""
        while True:
            starts, anchors = self.positions()
            self._send_back(starts, anchors)
            if self.drops[worker]:
                return self.drops[worker].pop()
            kept = self.kept_pages(worker)
            finish = self._finishable(worker, starts, anchors)
            if finish is not None and (
                self._stored_pdf(*finish)
                or kept >= KEEP_PAGES // 2
                or (self._late_due(starts, anchors) and kept > min(map(self.kept_pages, range(workers))))
            ):
                return self._finish(*finish)
            known = self._known()
            got = self._new_layout(starts, anchors, keep=self.pdf and kept < KEEP_PAGES)
            got = got or (self._finish(*finish) if finish is not None else None) or self._rewrite(starts, anchors)
            if got is not None or self._known() == known:
                return got
            # a layout or PDF taken from the store changed what is known (a late part may be due now): decide again

    def _send_back(self, starts: list[int], anchors: Mapping[str, int]) -> None:
        """Send back for layout every part not yet written whose numbers are all known and whose
        layout was filled with the wrong digit counts (so that it is laid out again at once, and
        a late part waiting for it is not kept waiting). A kept document is dropped by its engine."""
        for i, state in enumerate(self.states):
            if state.measure is None or state.pending or state.pdf is not None or self.numbers(i, starts, anchors) is None:
                continue
            if self.basis(i, anchors) != state.basis:
                if state.kept_by is not None:
                    self.drops[state.kept_by].append((i, Drop(state.key)))
                state.earlier, state.measure, state.kept_by = state.measure, None, None

    def _finishable(self, worker: int, starts: list[int], anchors: Mapping[str, int]) -> tuple[int, Numbers] | None:
        """A part engine `worker` keeps whose numbers are known, and the numbers."""
        for i, state in enumerate(self.states):
            if state.kept_by == worker and not state.pending and state.pdf is None:
                numbers = self.numbers(i, starts, anchors)
                if numbers is not None:
                    return i, numbers
        return None

    def _known(self) -> int:
        return sum((s.measure is not None) + (s.pdf is not None) for s in self.states)

    def _new_layout(self, starts: list[int], anchors: Mapping[str, int], keep: bool) -> tuple[int, Request] | None:
        """The first layout of the next part in book order (a part's page count is what the parts
        after it wait for to be written: to know where they begin); a late part as soon as every
        other part is laid out. Digit counts not known yet are guessed (`estimate`): a wrong
        guess costs the part one more layout, never a wrong number."""
        values = self.estimate(starts, anchors)
        todo = [i for i, s in enumerate(self.states) if s.measure is None and not s.pending and not self.parts[i].late]
        doubtful = [i for i in todo if self._doubtful(i, values, anchors)]
        todo = [i for i in todo if i not in doubtful] + doubtful
        for i in self._late_due(starts, anchors) + todo:
            numbers = self.numbers(i, starts, anchors) if self.pdf else None
            partial = self._partial(i, starts, anchors) if self.pdf and numbers is None else None
            request = self._layout(i, anchors if self.parts[i].late else values, numbers, keep=keep, partial=partial)
            if request is not None:
                return i, request
        return None

    def _doubtful(self, i: int, values: Mapping[str, int], anchors: Mapping[str, int]) -> bool:
        """Whether part i is better laid out a little later: a part before it is being laid out
        (its page count will make the guess of where part i begins firmer), and the page of an
        anchor of its own that it prints is guessed near a change of digit count (9 or 10? 99 or
        100?), where a guess is most often wrong."""
        if not any(s.pending and s.measure is None for s in self.states[:i]):
            return False
        guessed = [values[a] for a in self.parts[i].own if a in values and a not in anchors]
        return any(len(str(int(v * 0.8))) != len(str(int(v * 1.25) + 1)) for v in guessed)

    def _partial(self, i: int, starts: list[int], anchors: Mapping[str, int]) -> Numbers | None:
        """Part i's numbers but for the pages of its own anchors, if those are all that is missing:
        then its layout gives the rest, and the part is written at once instead of kept."""
        others = self.parts[i].asked - self.parts[i].own
        if i >= len(starts) or not others <= anchors.keys():
            return None
        return Numbers(starts[i], {a: anchors[a] for a in sorted(others)})

    def _late_due(self, starts: list[int], anchors: Mapping[str, int]) -> list[int]:
        """The late parts that can be laid out now: every other part is laid out, their numbers are
        known. A part sent back for its digits counts with its earlier layout (its anchors hardly
        ever move; if they do, the late part is sent back in turn)."""
        if not all(s.measure or s.earlier for p, s in zip(self.parts, self.states, strict=True) if not p.late):
            return []
        return [
            i
            for i, s in enumerate(self.states)
            if self.parts[i].late and s.measure is None and not s.pending and self.numbers(i, starts, anchors)
        ]

    def _rewrite(self, starts: list[int], anchors: Mapping[str, int]) -> tuple[int, Request] | None:
        """Lay out again, with its numbers, and write a part whose layout is known but not kept."""
        for i, state in enumerate(self.states):
            if self.pdf and state.pdf is None and not state.pending and state.kept_by is None and state.measure is not None:
                numbers = self.numbers(i, starts, anchors)
                if numbers is not None:
                    request = self._layout(i, anchors, numbers, keep=False)
                    if request is not None:
                        return i, request
        return None

    def _finish(self, i: int, numbers: Numbers) -> tuple[int, Request]:
        """Write the kept part i — or drop it: the store has its PDF (`_stored_pdf` took it)."""
        state = self.states[i]
        if state.pdf is not None:
            state.kept_by = None
            return i, Drop(state.key)
        state.pending = True
        return i, Finish(state.key, numbers)

    def _layout(
        self, i: int, values: Mapping[str, int], numbers: Numbers | None, keep: bool, partial: Numbers | None = None
    ) -> Layout | None:
        """Lay part i out with the numbers `values` (with `numbers`, or `partial` numbers and the
        pages of its own anchors: and write it). None when the store has what that would give (it
        is taken)."""
        state, part = self.states[i], self.parts[i]
        exact = state.exact and numbers is not None
        html, _ = fill_html(self.job, part.template, numbers.values if exact and numbers else values, numbers=exact)
        html = local_links(html)  # the index's ranges link to questions in other parts
        first_page = numbers.first_page if exact and numbers else 1
        state.basis = self.basis(i, values)
        state.key = self._key(html, first_page)
        stored = self._stored_measure(state.key)
        if stored is not None:
            state.measure = stored
            if partial is not None:
                numbers = partial.completed(stored.anchors, part.own)
            if numbers is None or self._stored_pdf(i, numbers):
                return None
            partial = None
        state.pending = True
        keep = keep and numbers is None and partial is None
        own = tuple(sorted(part.own)) if partial is not None else ()
        return Layout(state.key, html, keep=keep, first_page=first_page, numbers=numbers, exact=exact, partial=partial, own=own)

    def settle(self) -> bool:
        """At the end of a round: send back every part whose layout or PDF does not match the
        final numbers. True when none had to be."""
        starts, anchors = self.positions()
        settled = True
        for i, state in enumerate(self.states):
            if state.measure is None:
                return False
            if self.basis(i, anchors) != state.basis:
                state.earlier, state.measure, state.pdf, state.kept_by, settled = state.measure, None, None, None, False
            elif self.pdf and state.printed != self.numbers(i, starts, anchors):
                state.pdf, settled = None, False
        return settled

    def forget_others(self) -> None:
        """Drop this paper's cached parts that this run did not use (older versions of them)."""
        for name in self.store.names(f"part-{self.job.paper}-"):
            if name.rsplit(".", 1)[0] not in self.used:
                self.store.remove(name)


def lay_out(job: HandbookJob, store: Store, guess: Mapping[str, int] | None = None, workers: int = 1, *, pdf: bool = True) -> Handbook:
    """Lay the handbook out (see the module docstring) and, with `pdf`, write it; `guess` is
    where anchors were in the last layout (only the digit counts of its numbers matter)."""
    run = _Run(job, store, guess or {}, pdf)
    with Pool(Setup(run.css, job.files), workers) as pool:
        while True:
            _drive(run, pool)
            if run.settle():
                break
            run.rounds += 1
            if run.rounds > MAX_ROUNDS:
                raise RuntimeError(f"page numbers did not settle after {MAX_ROUNDS} rounds")  # a deckbook bug, not a user error
    starts, anchors = run.positions()
    tops: list[tuple[str, ...]] = []
    for start, state in zip(starts, run.states, strict=False):
        assert state.measure is not None
        tops += [()] * (start - 1 - len(tops)) + list(state.measure.tops)  # a blank page before a part begins nothing
    merged = merge([s.pdf or b"" for s in run.states], starts) if pdf else b""
    run.forget_others()
    return Handbook(merged, anchors, tuple(tops), run.rounds, run.layouts, len(tops))


def _drive(run: _Run, pool: Pool) -> None:
    """Keep every engine busy until nothing more can be done this round."""
    waiting: dict[int, int] = {}  # worker → the part its request is about
    while True:
        for worker in range(pool.size):
            while worker not in waiting:
                nxt = run.next_request(worker, pool.size)
                if nxt is None:
                    break
                i, request = nxt
                if isinstance(request, Drop):
                    pool.send(worker, request)
                    continue
                if isinstance(request, Layout):
                    run.layouts += 1
                    if request.keep:
                        run.states[i].kept_by = worker
                pool.send(worker, request)
                waiting[worker] = i
        if not waiting:
            return
        for worker, reply in pool.replies():
            run.record(waiting.pop(worker), reply)
