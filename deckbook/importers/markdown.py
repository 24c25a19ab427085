"""Markdown flashcards in Obsidian_to_Anki's format → `Harvest`.

The format (github.com/ObsidianToAnki/Obsidian_to_Anki, default settings)::

    TARGET DECK
    Geography::Europe            (or "TARGET DECK: Geography::Europe"; default deck: Default)

    FILE TAGS
    geography europe             (or "FILE TAGS: geography europe")

    START
    Basic                        ← the note type
    What is the capital of **France**?
    Back: Paris                  ← "Field:" at the start of a line starts that field
    Tags: capital
    <!--ID: 1700000000123-->     ← written by the plugin once the note is in Anki
    END

    STARTI [Basic] Front text Back: back text ENDI      ← an inline note, on one line

A line ``DELETE`` right before a note's ID marks it for deletion: it is skipped (and reported).
Field names come from the note type: Basic, Basic (and reversed card), Basic (type in the
answer): Front, Back; Basic (optional reversed card): Front, Back, Add Reverse; Cloze: Text,
Back Extra; any other note type needs ``--collection``. Fields are Obsidian Markdown: CommonMark
with tables, ``$…$`` math, ``![[image.png]]`` embeds, ``[[wiki links]]`` (their text is kept,
reported) and ``==highlights==`` (reported). They are turned into HTML as the plugin would send it
to Anki, then converted like any Anki field, so every import path shares one converter.

Notes carry Anki *note ids*, not GUIDs: with ``--collection`` (a package or collection holding
them) a note found by its id keeps its GUID, note type, deck and tags, and its modification time
when its text is unchanged. Without it the notes are new deckbook notes.

Bad input — a START without END, an END without START, a note without a note type, a note type
whose fields are unknown, an ID that is not a number — is refused with ``file:line``.
"""

from __future__ import annotations

import glob
import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from deckbook.importers import htmltree
from deckbook.importers.harvest import Harvest, SourceNote, refuse
from deckbook.importers.text import STOCK_FIELDS, decode

_ID = re.compile(r"^(?:<!--)?\s*ID:\s*(\S+?)\s*(?:-->)?\s*$")
_INLINE = re.compile(r"STARTI\s*\[([^\]]+)\]\s*(.*?)\s*ENDI")
_EMBED = re.compile(r"!\[\[([^\]|]+)(?:\|[^\]]*)?\]\]")
_WIKI = re.compile(r"(?<!!)\[\[([^\]|]+)(?:\|([^\]]*))?\]\]")
_HIGHLIGHT = re.compile(r"==(?=\S)(.+?)(?<=\S)==")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass
class _Card:
    line: int
    notetype: str
    body: list[str] = field(default_factory=list)  # the lines after the note type
    deleted: bool = False
    inline: bool = False  # STARTI … ENDI: fields start at "Name:" words, not lines


def read_markdown(path: Path, shown: str, known: Harvest | None) -> Harvest:
    """The cards of an Obsidian_to_Anki Markdown file; `known` is the --collection harvest."""
    lines = decode(path.read_bytes(), shown).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    deck, file_tags, cards = _scan(lines, shown)
    if not cards:
        raise refuse(shown, "holds no flashcards (no START … END blocks or STARTI … ENDI lines)")
    md = _renderer()
    notes = []
    for card in cards:
        names = _field_names(card, known, shown)
        nid, tags, body = _trailer(card, shown)
        if card.deleted:
            continue
        if card.inline:  # "STARTI [Basic] front Back: back ENDI": a field starts at its "Name:" word
            starts = re.compile(r"(?:^|\s)(" + "|".join(re.escape(n) for n in names) + r"):(?=\s|$)")
            body = [piece for line in body for piece in starts.sub(lambda m: f"\n{m.group(1)}:", line).split("\n")]
        fields, losses = _fields(body, names, md)
        label = f"{path.name}:{card.line}"
        match = known.by_nid(nid) if known is not None and nid is not None else None
        if match is not None and len(match.fields) == len(fields):
            same = htmltree.same_text(fields, match.fields)
            note = SourceNote(
                label,
                match.notetype,
                match.field_names,
                fields,
                match.tags,
                match.deck,
                match.guid,
                match.mtime if same else None,
                nid,
                losses,
            )
        else:
            note = SourceNote(label, card.notetype, names, fields, (*file_tags, *tags), deck, None, None, nid, losses)
        notes.append(note)
    remarks = _remarks(notes, cards, known)
    media = VaultMedia(_vault(path), dict(known.media) if known is not None else {})
    notetypes = dict(known.notetypes) if known else {}
    return Harvest(path, path.stem, tuple(notes), notetypes, dict(known.decks) if known else {}, media, remarks)


class VaultMedia(Mapping[str, Path]):
    """Files an Obsidian note embeds, found by name anywhere in its vault (the nearest folder
    above it holding `.obsidian`, else its own folder) when first asked for; `known` first."""

    def __init__(self, root: Path, known: dict[str, Path]) -> None:
        self.root = root
        self.known = known
        self.found: dict[str, Path | None] = {}

    def __getitem__(self, name: str) -> Path:
        if name in self.known:
            return self.known[name]
        if name not in self.found:
            direct = self.root / name
            safe = "/" not in name and "\\" not in name and not name.startswith(".")
            hits = (
                [direct]
                if safe and direct.is_file()
                else sorted(p for p in self.root.rglob(glob.escape(name)) if p.is_file())
                if safe
                else []
            )
            self.found[name] = next((p for p in hits if ".obsidian" not in p.parts), None)
        got = self.found[name]
        if got is None:
            raise KeyError(name)
        return got

    def __iter__(self) -> Iterator[str]:
        return iter(self.known)

    def __len__(self) -> int:
        return len(self.known)


def _vault(path: Path) -> Path:
    for folder in path.resolve().parents:
        if (folder / ".obsidian").is_dir():
            return folder
    return path.resolve().parent


def _scan(lines: list[str], shown: str) -> tuple[str, tuple[str, ...], list[_Card]]:
    """The file's target deck, file tags and cards, refusing broken cards with their line."""
    deck = "Default"
    tags: tuple[str, ...] = ()
    cards: list[_Card] = []
    card: _Card | None = None
    fence = False
    i = 0
    while i < len(lines):
        line, number = lines[i].rstrip(), i + 1
        if card is not None:
            card = _card_line(card, line, number, cards, shown)
        elif _FENCE.match(line) or fence:
            fence = fence != bool(_FENCE.match(line))  # cards inside code blocks are examples, not cards
        elif line.strip() == "START":
            card = _start(lines, i, shown)
            i += 1
        elif line.strip() == "END":
            raise refuse(shown, "END without a START before it", number)
        elif line.startswith(("TARGET DECK", "FILE TAGS")):
            value = _value(lines, i, line[:11] if line.startswith("TARGET DECK") else "FILE TAGS", shown)
            if line.startswith("TARGET DECK"):
                deck = value or deck
            else:
                tags = tuple(value.split())
            i += 0 if ":" in line else 1
        elif "STARTI" in line:
            found = list(_INLINE.finditer(line))
            if not found:
                raise refuse(shown, "STARTI without ENDI on the same line (an inline card is one line: STARTI [Basic] … ENDI)", number)
            cards.extend(_inline(m, number) for m in found)
        i += 1
    if card is not None:
        raise refuse(shown, "START without END: this card never ends", card.line)
    return deck, tags, cards


def _start(lines: list[str], i: int, shown: str) -> _Card:
    kind = lines[i + 1].strip() if i + 1 < len(lines) else ""
    if not kind or kind in ("END", "START"):
        raise refuse(shown, "START must be followed by a line naming the note type (e.g. Basic)", i + 1)
    return _Card(i + 1, kind)


def _card_line(card: _Card, line: str, number: int, cards: list[_Card], shown: str) -> _Card | None:
    """One line inside a card: END closes it (returns None), anything else is its text."""
    if line.strip() == "END":
        cards.append(card)
        return None
    if line.strip() == "START":
        raise refuse(shown, f"START inside the card that starts at line {card.line}; close it with END first", number)
    card.body.append(line)
    return card


def _value(lines: list[str], i: int, key: str, shown: str) -> str:
    line = lines[i]
    if ":" in line:
        return line.split(":", 1)[1].strip()
    value = lines[i + 1].strip() if i + 1 < len(lines) else ""
    if not value:
        raise refuse(shown, f"{key} must be followed by a line with its value", i + 1)
    return value


def _inline(match: re.Match[str], number: int) -> _Card:
    text = match.group(2)
    id_match = re.search(r"(?:<!--)?ID:\s*(\S+?)(?:-->)?\s*$", text)
    body = [text[: id_match.start()].strip()] if id_match else [text]
    tail = [f"ID: {id_match.group(1)}"] if id_match else []
    tags = re.search(r"\s*Tags:\s*(.*)$", body[0])
    if tags:
        body = [body[0][: tags.start()], f"Tags: {tags.group(1)}"]
    return _Card(number, match.group(1).strip(), [*body, *tail], inline=True)


def _field_names(card: _Card, known: Harvest | None, shown: str) -> tuple[str, ...]:
    if known is not None and card.notetype in known.notetypes:
        return tuple(f.name for f in known.notetypes[card.notetype].fields)
    if card.notetype in STOCK_FIELDS:
        return STOCK_FIELDS[card.notetype]
    raise refuse(
        shown,
        f"unknown note type '{card.notetype}': its field names are unknown; import with --collection (a package or collection that has it)",
        card.line + 1,
    )


def _trailer(card: _Card, shown: str) -> tuple[int | None, tuple[str, ...], list[str]]:
    """A card's ID and Tags lines (last, in the plugin's order) and the rest of its body."""
    body = list(card.body)
    while body and not body[-1].strip():
        body.pop()
    nid = None
    if body and _ID.match(body[-1].strip()):
        value = _ID.match(body[-1].strip())
        assert value is not None
        if not value.group(1).isdigit():
            raise refuse(
                shown, f"note ID '{value.group(1)}' is not a number (the plugin writes <!--ID: 1700000000000-->)", card.line + 1 + len(body)
            )
        nid = int(value.group(1))
        body.pop()
        if body and body[-1].strip() == "DELETE":
            card.deleted = True
            body.pop()
    tags: tuple[str, ...] = ()
    if body and body[-1].startswith("Tags:"):
        tags = tuple(body.pop()[5:].split())
    return nid, tags, body


def _fields(body: list[str], names: tuple[str, ...], md: MarkdownIt) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The card's fields as HTML (as the plugin sends them), and what could not be kept."""
    texts = {name: [] for name in names}  # type: dict[str, list[str]]
    current = names[0]
    for line in body:
        text = line
        for name in names:
            if line.startswith(f"{name}:"):
                current, text = name, line[len(name) + 1 :]
                break
        texts[current].append(text)
    losses: list[str] = []
    fields = []
    for name in names:
        text = "\n".join(texts[name]).strip()
        if _WIKI.search(text):
            losses.append("[[wiki links]] written as their text")
            text = _WIKI.sub(lambda m: m.group(2) or m.group(1), text)
        text = _EMBED.sub(lambda m: f"![]({m.group(1).replace(' ', '%20')})", text)  # no alt text: the converter names it
        text = _HIGHLIGHT.sub(r"<mark>\1</mark>", text)
        fields.append(md.render(text).strip() if text else "")
    return tuple(fields), tuple(dict.fromkeys(losses))


def _renderer() -> MarkdownIt:
    """Obsidian's Markdown → HTML with MathJax delimiters, as Obsidian_to_Anki sends fields to Anki."""
    md = MarkdownIt("commonmark", {"html": True})
    md.enable(["table", "strikethrough"])
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)

    def math(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        display = token.type != "math_inline"
        body = html.escape(token.content.strip(), quote=False)
        return f"\\[{body}\\]" if display else f"\\({body}\\)"

    for name in ("math_inline", "math_inline_double", "math_block", "math_block_eqno"):
        md.add_render_rule(name, math)
    return md


def _remarks(notes: list[SourceNote], cards: list[_Card], known: Harvest | None) -> tuple[str, ...]:
    out = []
    deleted = sum(1 for c in cards if c.deleted)
    if deleted:
        out.append(f"{deleted} card{'s' * (deleted != 1)} marked DELETE skipped")
    with_ids = [n for n in notes if n.nid is not None]
    if with_ids and known is None:
        out.append(
            "the cards carry Anki note ids but not their GUIDs or note types, so learners' history cannot be kept: they are new "
            "deckbook notes; import again with --collection (an .apkg, .colpkg or collection.anki2 holding them) to keep it"
        )
    elif known is not None:
        missing = [n for n in with_ids if n.guid is None]
        if missing:
            out.append(f"{len(missing)} note ids are not in the collection given with --collection: those notes are new")
    return tuple(out)
