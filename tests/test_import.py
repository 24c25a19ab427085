"""`build.py import`: an existing deck becomes a bank whose deck learners' collections recognise.

Every round trip runs the real Anki engine: the "existing deck" is built in a collection (stock
note types, a custom one with four fields, HTML fields, an image, tags, two subdecks), some of its
cards are studied, Anki's own exporter writes the file, deckbook imports it and builds the deck,
and the deck is imported back into the same collection with Anki's default options. Learners'
history survives when that import adds nothing, conflicts with nothing, and leaves every
schedule and review alone — and every word of every field is still in the deck.

Golden bad inputs live in tests/import_cases/<case>/: the input, the expected stderr
(expected.txt) and a README. Refresh with DECKBOOK_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from anki.collection import Collection, DeckIdLimit, ExportAnkiPackageOptions
from anki.decks import DeckId
from anki.scheduler.v3 import CardAnswer, Scheduler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deckbook import analysis, markup, mdext
from deckbook.importers import htmlmd, htmltree
from deckbook.importers.markdown import _renderer
from deckbook.slots import fill
from tests.anki_engine import ImportLog, import_apkg, open_collection
from tests.conftest import ROOT, Cli

CASES = sorted(p for p in (ROOT / "tests" / "import_cases").iterdir() if p.is_dir())
UPDATE = os.environ.get("DECKBOOK_UPDATE_GOLDEN") == "1"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
ROOT_DECK = "Geography"


# --- the existing deck ----------------------------------------------------------------------------


def vocabulary_type(col: Collection) -> dict[str, Any]:
    """A custom note type with four fields and two card templates, as an author would make it."""
    mm = col.models
    nt = mm.new("Vocabulary")
    for name in ("Word", "Meaning", "Example", "Notes"):
        mm.add_field(nt, mm.new_field(name))
    recognise = mm.new_template("Recognise")
    recognise["qfmt"] = '<div class="word">{{Word}}</div>'
    recognise["afmt"] = "{{FrontSide}}<hr id=answer>{{Meaning}}<br>{{Example}}{{#Notes}}<div class=notes>{{Notes}}</div>{{/Notes}}"
    recall = mm.new_template("Recall")
    recall["qfmt"] = "{{Meaning}}"
    recall["afmt"] = "{{FrontSide}}<hr id=answer>{{Word}}"
    mm.add_template(nt, recognise)
    mm.add_template(nt, recall)
    nt["css"] = ".card { font-family: serif; } .word { font-size: 2em; } .nightMode .word { color: #eee; }"
    mm.add(nt)
    got = mm.by_name("Vocabulary")
    assert got is not None
    return dict(got)


def add(col: Collection, notetype: str, deck: str, tags: list[str], **fields: str) -> int:
    model = col.models.by_name(notetype)
    assert model is not None, notetype
    note = col.new_note(model)
    for key, value in fields.items():
        note[key.replace("_", " ")] = value
    note.tags = tags
    did = col.decks.id(deck)
    assert did is not None
    col.add_note(note, did)
    return int(note.id)


def make_existing(col: Collection) -> None:
    """The author's deck: every stock note type, a custom one, HTML of every kind, an image."""
    (Path(col.media.dir()) / "paris.png").write_bytes(PNG)
    (Path(col.media.dir()) / "map of asia.png").write_bytes(PNG)
    (Path(col.media.dir()) / "seoul.mp3").write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00")
    vocabulary_type(col)
    europe, asia = f"{ROOT_DECK}::Europe", f"{ROOT_DECK}::Asia"
    add(
        col,
        "Basic",
        europe,
        ["geo::europe", "capital"],
        Front="What is the capital of <b>France</b>?",
        Back='Paris<br><img src="paris.png">',
    )
    add(
        col,
        "Basic (and reversed card)",
        europe,
        ["Geo_Trivia"],
        Front="The largest country in <i>Europe</i>",
        Back="<div>Russia</div><div>(about 40% of Europe's area)</div>",
    )
    add(
        col,
        "Basic (optional reversed card)",
        asia,
        ["geo::asia"],
        Front="Capital of Japan",
        Back="<ul><li>Tokyo</li><li>since 1868</li></ul>",
        Add_Reverse="y",
    )
    add(col, "Basic (type in the answer)", asia, [], Front="Capital of South Korea?", Back="Seoul [sound:seoul.mp3]")
    add(
        col,
        "Cloze",
        asia,
        ["geo::asia", "cloze"],
        Text="{{c1::Beijing::city}} is the capital of {{c2::China}}.",
        Back_Extra="<ol><li>since 1949</li><li>in the <b>north</b></li></ol>",
    )
    add(
        col,
        "Vocabulary",
        europe,
        ["vocabulary"],
        Word="H<sub>2</sub>O",
        Meaning="water, the formula \\(H_2O\\); 10<sup>3</sup> litres is a cubic metre",
        Example="<table><tr><th>State</th><th>Name</th></tr><tr><td>solid</td><td>ice</td></tr><tr><td>gas</td><td>steam</td></tr></table>",
        Notes=(
            'Say <span style="color: rgb(200, 0, 0);">water</span> slowly; see '
            '<a href="https://en.wikipedia.org/wiki/Water">the article</a>.<br>'
            "<pre>print('water')</pre>Display: \\[E = mc^2\\]"
        ),
    )
    add(
        col,
        "Image Occlusion",
        asia,
        ["maps"],
        Occlusion="{{c1::image-occlusion:rect:left=.1:top=.2:width=.3:height=.1:oi=1}}",
        Image='<img src="map of asia.png">',
        Header="Where is Mongolia?",
    )


def root_deck(col: Collection) -> DeckId:
    did = col.decks.id_for_name(ROOT_DECK)
    assert did is not None
    return did


def study(col: Collection, cards: int) -> None:
    """Answer `cards` cards Good, as a learner would: schedules and review logs change."""
    col.decks.select(root_deck(col))
    sched = col.sched
    assert isinstance(sched, Scheduler)
    for _ in range(cards):
        card = sched.getCard()
        assert card is not None
        states = col._backend.get_scheduling_states(card.id)
        sched.answer_card(sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD))


def export(col: Collection, path: Path, *, legacy: bool = False) -> Path:
    """Anki's own File → Export → Anki Deck Package (with scheduling and media)."""
    options = ExportAnkiPackageOptions(with_scheduling=True, with_deck_configs=False, with_media=True, legacy=legacy)
    col.export_anki_package(out_path=str(path), options=options, limit=DeckIdLimit(deck_id=root_deck(col)))
    return path


@dataclass(frozen=True)
class State:
    """What learners must not lose: notes, cards and their schedules, reviews, note types, decks."""

    notes: int
    cards: dict[int, tuple[object, ...]]
    reviews: int
    notetypes: tuple[str, ...]
    decks: tuple[str, ...]


def state(col: Collection) -> State:
    cards: dict[int, tuple[object, ...]] = {}
    for cid in col.find_cards(""):
        c = col.get_card(cid)
        cards[int(cid)] = (c.nid, c.did, c.ord, c.type, c.queue, c.ivl, c.due, c.reps, c.lapses, c.factor)
    return State(
        notes=col.note_count(),
        cards=cards,
        reviews=int(col.db.scalar("select count() from revlog")) if col.db is not None else -1,
        notetypes=tuple(sorted(m["name"] for m in col.models.all())),
        decks=tuple(sorted(d.name for d in col.decks.all_names_and_ids())),
    )


def words(col: Collection) -> dict[str, list[str]]:
    """Every field's words, by GUID (a sound's file name aside: the deck names media by content)."""
    return {
        col.get_note(n).guid: [htmltree.words(htmltree.plain_text(re.sub(r"\[sound:[^\]]*\]", "", f))) for f in col.get_note(n).fields]
        for n in col.find_notes("")
    }


@pytest.fixture
def existing(tmp_path: Path) -> Collection:
    col = open_collection(tmp_path / "author")
    make_existing(col)
    study(col, 3)
    return col


def import_and_build(cli: Cli, source: Path, tmp_path: Path, *extra: str | Path, strict: bool = True) -> tuple[Path, Path]:
    """Import `source`, check the bank (with --strict: not even a warning), build its deck."""
    bank = tmp_path / "bank"
    run = cli("import", source, "--into", bank, *extra)
    assert run.code == 0, run.err
    check = cli("check", *(["--strict", "--locked"] if strict else []), "--source", bank)  # --locked: the seeded ledger is current
    assert (check.code, check.err if strict else "") == (0, ""), check.err
    return bank, build(cli, bank, tmp_path / "out")


def build(cli: Cli, bank: Path, out: Path) -> Path:
    run = cli("anki", "--source", bank, "--out", out, "-q", "--no-level-decks")
    assert run.code == 0, run.err
    [apkg] = list(out.glob("*.apkg"))
    return apkg


def counts(log: ImportLog) -> tuple[int, int, int, int]:
    return (log.new, log.updated, log.duplicate, log.conflicting)


def built_words(apkg: Path, folder: Path) -> dict[str, list[str]]:
    """The words of every note the built deck holds (read by importing it into a new collection)."""
    fresh = open_collection(folder)
    import_apkg(fresh, apkg)
    got = words(fresh)
    fresh.close()
    return got


# --- packages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True], ids=["anki21b", "anki21-legacy"])
def test_apkg_round_trip_keeps_every_learners_history(existing: Collection, tmp_path: Path, cli: Cli, legacy: bool) -> None:
    apkg = export(existing, tmp_path / "geography.apkg", legacy=legacy)
    before, original = state(existing), words(existing)
    bank, deck = import_and_build(cli, apkg, tmp_path)

    log = import_apkg(existing, deck)

    assert counts(log) == (0, 0, before.notes, 0)  # every note recognised; none new, none conflicting, none changed
    assert state(existing) == before  # schedules, reviews, note types and decks exactly as they were
    assert words(existing) == original
    assert built_words(deck, tmp_path / "fresh") == original  # the deck itself carries every word of every field
    fresh = open_collection(tmp_path / "fresh")  # …and every image and sound it shows
    assert not list(fresh.media.check().missing)
    [seoul] = fresh.find_notes('"Front:Capital of South Korea?"')
    assert re.fullmatch(r"Seoul \[sound:seoul-[0-9a-f]{10}\.mp3\]", fresh.get_note(seoul)["Back"])
    fresh.close()
    anki = yaml.safe_load((bank / "anki.yaml").read_text())
    assert sorted(nt["name"] for nt in anki["notetypes"]) == [
        "Basic",
        "Basic (and reversed card)",
        "Basic (optional reversed card)",
        "Basic (type in the answer)",
        "Cloze",
        "Image Occlusion",
        "Vocabulary",
    ]
    existing.close()


def test_an_edit_reaches_learners_as_an_update_of_the_same_note(existing: Collection, tmp_path: Path, cli: Cli) -> None:
    bank, _ = import_and_build(cli, export(existing, tmp_path / "geography.apkg"), tmp_path)
    before = state(existing)
    chapter = bank / "chapters" / "europe.yaml"
    text = chapter.read_text()
    assert "      Russia\\\n" in text
    chapter.write_text(text.replace("      Russia\\\n", "      Russia, by far\\\n"), encoding="utf-8")

    log = import_apkg(existing, build(cli, bank, tmp_path / "v2"))

    assert counts(log) == (0, 1, before.notes - 1, 0)
    assert state(existing) == before
    [nid] = existing.find_notes('"Front:*largest country*"')
    assert "Russia, by far" in existing.get_note(nid)["Back"]
    existing.close()


def test_every_note_updates_in_place_without_a_conflict(
    existing: Collection, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were every note edited at once, learners' notes would all be updated in place: the fields
    deckbook writes fit their note types, and carry every word."""
    bank, _ = import_and_build(cli, export(existing, tmp_path / "geography.apkg"), tmp_path)
    before, original = state(existing), words(existing)
    (bank / "deckbook.lock").unlink()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(time.time()) + 3600))

    log = import_apkg(existing, build(cli, bank, tmp_path / "all-new"))

    assert counts(log) == (0, before.notes, 0, 0)
    after = state(existing)
    assert (after.cards, after.reviews, after.decks) == (before.cards, before.reviews, before.decks)
    assert after.notetypes == before.notetypes  # updated in place, never forked into "Basic+"
    assert words(existing) == original
    existing.close()


def test_colpkg_round_trip(existing: Collection, tmp_path: Path, cli: Cli) -> None:
    colpkg = tmp_path / "collection.colpkg"
    existing.export_collection_package(str(colpkg), include_media=True, legacy=False)
    col = Collection(str(tmp_path / "author" / "collection.anki2"))
    before = state(col)
    _, deck = import_and_build(cli, colpkg, tmp_path)
    assert counts(import_apkg(col, deck)) == (0, 0, before.notes, 0)
    assert state(col) == before
    col.close()


def test_a_collection_file_itself(existing: Collection, tmp_path: Path, cli: Cli) -> None:
    """collection.anki2 (Anki closed), with a card the learner moved to another deck."""
    [nid] = existing.find_notes('"Front:*largest country*"')
    moved = existing.get_note(nid).cards()[1]
    moved.did = existing.decks.id("Geography::Favourites") or moved.did
    existing.update_card(moved)
    before = state(existing)
    existing.close()
    run = cli("import", tmp_path / "author" / "collection.anki2", "--into", tmp_path / "bank")
    assert run.code == 0, run.err
    assert f"note {nid}: its cards are in 2 decks; its chapter is the first card's deck (Anki never moves cards)" in run.out
    col = Collection(str(tmp_path / "author" / "collection.anki2"))
    assert counts(import_apkg(col, build(cli, tmp_path / "bank", tmp_path / "out"))) == (0, 0, before.notes, 0)
    assert state(col) == before
    col.close()


def test_a_deckbook_deck_in_the_legacy_format_round_trips(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    """deckbook's own packages are genanki's legacy collection.anki2: importing one keeps it too."""
    first = build(cli, minimal, tmp_path / "first")
    col = open_collection(tmp_path / "learner")
    import_apkg(col, first)
    before, original = state(col), words(col)
    _, deck = import_and_build(cli, first, tmp_path)
    assert counts(import_apkg(col, deck)) == (0, 0, before.notes, 0)
    assert state(col) == before
    assert built_words(deck, tmp_path / "fresh") == original
    col.close()


def test_summary_names_what_it_did_and_what_it_could_not_convert(existing: Collection, tmp_path: Path, cli: Cli) -> None:
    apkg = export(existing, tmp_path / "geography.apkg")
    vocab = next(n for n in existing.find_notes("") if existing.get_note(n).note_type()["name"] == "Vocabulary")  # type: ignore[index]
    existing.close()
    run = cli("import", apkg, "--into", tmp_path / "bank")
    assert run.code == 0, run.err
    out = run.out
    assert f"imported {apkg} into {tmp_path / 'bank'}" in out
    assert "notes: 7 (all of them keep their Anki identity: GUID and note type)" in out
    assert "note types: 7 recorded in anki.yaml" in out
    assert "Geography::Asia → chapters/asia.yaml (4 questions)" in out
    assert "Geography::Europe → chapters/europe.yaml (3 questions)" in out
    assert "geo::europe → geo-europe" in out and "Geo_Trivia → geo-trivia" in out
    assert "media: 3 files copied into media/" in out
    assert f"note {vocab}: styling dropped (color)" in out
    assert "image paris.png has no alt text; its file name stands in" in out
    assert "author is 'Unknown'" in out
    assert sorted(p.name for p in (tmp_path / "bank" / "media").iterdir()) == ["map-of-asia.png", "paris.png", "seoul.mp3"]


# --- text and Markdown ----------------------------------------------------------------------------


def export_text(col: Collection, path: Path) -> Path:
    """Anki's own File → Export → Notes in Plain Text, with every column it offers."""
    col.export_note_csv(
        out_path=str(path),
        limit=DeckIdLimit(deck_id=root_deck(col)),
        with_html=True,
        with_tags=True,
        with_deck=True,
        with_notetype=True,
        with_guid=True,
    )
    return path


def test_text_export_with_its_collection_keeps_history(existing: Collection, tmp_path: Path, cli: Cli) -> None:
    notes = export_text(existing, tmp_path / "notes.txt")
    assert notes.read_text().startswith("#separator:tab\n#html:true\n#guid column:1\n#notetype column:2\n#deck column:3\n#tags column:")
    apkg = export(existing, tmp_path / "geography.apkg")
    before, original = state(existing), words(existing)
    _, deck = import_and_build(cli, notes, tmp_path, "--collection", apkg)

    assert counts(import_apkg(existing, deck)) == (0, 0, before.notes, 0)
    assert state(existing) == before
    assert built_words(deck, tmp_path / "fresh") == original
    existing.close()


def test_text_export_alone_becomes_new_notes_and_says_so(existing: Collection, tmp_path: Path, cli: Cli) -> None:
    notes = export_text(existing, tmp_path / "notes.txt")
    existing.close()
    run = cli("import", notes, "--into", tmp_path / "bank")
    assert run.code == 0, run.err
    assert "notes: 7 (new deckbook notes)" in run.out
    assert "learners' history cannot be kept" in run.out and "--collection" in run.out
    assert "question 'capital-of-japan' has no explanation" in run.out  # listed for the author, as for any new question
    assert cli("check", "--source", tmp_path / "bank").code == 0
    strict = cli("check", "--strict", "--source", tmp_path / "bank")
    assert all(line.endswith("has no explanation") for line in strict.lines[:-1]), strict.err
    deck = build(cli, tmp_path / "bank", tmp_path / "out")
    fresh = open_collection(tmp_path / "fresh")
    assert import_apkg(fresh, deck).new >= 7
    text = " ".join(" ".join(fresh.get_note(n).fields) for n in fresh.find_notes(""))
    for word in ("France", "Russia", "Tokyo", "Seoul", "Beijing", "steam", "Mongolia"):
        assert word in text
    fresh.close()


def test_plain_csv_from_a_spreadsheet(tmp_path: Path, cli: Cli) -> None:
    """A spreadsheet's first row of column names (Front/Back, Question/Answer, Tags…) labels the columns."""
    rows = 'Question,Answer,Tags\n"What is 2 + 2?",4,maths\n"Name, with a comma","Yes; ""quoted"" <b>bold</b>",\n'
    (tmp_path / "cards.csv").write_text(rows, encoding="utf-8")
    run = cli("import", tmp_path / "cards.csv", "--into", tmp_path / "bank")
    assert run.code == 0, run.err
    chapter = yaml.safe_load((tmp_path / "bank" / "chapters" / "cards.yaml").read_text())
    got = [(q["question"], q["answer"], q.get("tags")) for q in chapter["questions"]]
    assert got == [("What is 2 + 2?", "4", ["maths"]), ("Name, with a comma", 'Yes; "quoted" **bold**', None)]
    assert cli("check", "--source", tmp_path / "bank").code == 0


OBSIDIAN = """\
TARGET DECK
Geography::Europe

FILE TAGS
geography

<!-- CARD -->
START
Basic
What is the capital of **France**?
Back: Paris, on the Seine
Tags: capital
{id1}
END

START
Basic (and reversed card)
The largest country in *Europe*
Back:
- Russia
- about 40% of the area
{id2}
END

START
Cloze
$E = mc^2$ was published in {{{{c1::1905}}}}.
Back Extra: by *Einstein*
{id3}
END

STARTI [Basic] Highest mountain in the Alps? Back: Mont Blanc Tags: mountains {id4}ENDI
"""


FRANCE = "What is the capital of **France**?"
RUSSIA = "- Russia\n- about 40% of the area"


def test_obsidian_markdown_with_its_collection_keeps_history(tmp_path: Path, cli: Cli) -> None:
    """Obsidian_to_Anki wrote these cards into Anki and their note ids into the file."""
    col = open_collection(tmp_path / "author")
    md = _renderer()
    europe = "Geography::Europe"
    ids = [
        add(col, "Basic", europe, ["geography", "capital"], Front=md.render(FRANCE), Back="Paris, on the Seine"),
        add(
            col, "Basic (and reversed card)", europe, ["geography"], Front="The largest country in <em>Europe</em>", Back=md.render(RUSSIA)
        ),
        add(col, "Cloze", europe, ["geography"], Text="\\(E = mc^2\\) was published in {{c1::1905}}.", Back_Extra="by <em>Einstein</em>"),
        add(col, "Basic", europe, ["geography", "mountains"], Front="Highest mountain in the Alps?", Back="Mont Blanc"),
    ]
    study(col, 2)
    text = OBSIDIAN.format(id1=f"<!--ID: {ids[0]}-->", id2=f"<!--ID: {ids[1]}-->", id3=f"<!--ID: {ids[2]}-->", id4=f"<!--ID: {ids[3]}-->")
    (tmp_path / "vault").mkdir()
    (tmp_path / "vault" / "europe.md").write_text(text, encoding="utf-8")
    apkg = export(col, tmp_path / "geography.apkg")
    before, original = state(col), words(col)

    _, deck = import_and_build(cli, tmp_path / "vault" / "europe.md", tmp_path, "--collection", apkg)

    assert counts(import_apkg(col, deck)) == (0, 0, before.notes, 0)
    assert state(col) == before
    assert built_words(deck, tmp_path / "fresh") == original
    col.close()


def test_obsidian_markdown_alone_becomes_new_notes(tmp_path: Path, cli: Cli) -> None:
    text = OBSIDIAN.format(id1="", id2="", id3="", id4="").replace("on the Seine", "on the Seine ![[paris map.png]]")
    vault = tmp_path / "vault"
    for folder in (".obsidian", "attachments", "notes"):
        (vault / folder).mkdir(parents=True)
    (vault / "attachments" / "paris map.png").write_bytes(PNG)
    (vault / "notes" / "europe.md").write_text(text, encoding="utf-8")
    bank, deck = import_and_build(cli, vault / "notes" / "europe.md", tmp_path, strict=False)  # new questions: explanations to write
    chapter = yaml.safe_load((bank / "chapters" / "europe.yaml").read_text())
    assert chapter["questions"][0]["answer"] == "Paris, on the Seine ![paris map](media/paris-map.png)"
    assert chapter["anki"] == {"deck": "Geography::Europe"}
    assert [q["question"] for q in chapter["questions"]] == [
        "What is the capital of **France**?",
        "The largest country in *Europe*",
        "$E = mc^2$ was published in […].",
        "Highest mountain in the Alps?",
    ]
    assert chapter["questions"][2]["cloze"] == "$E = mc^2$ was published in {{c1::1905}}."
    fresh = open_collection(tmp_path / "fresh")
    log = import_apkg(fresh, deck)
    assert (log.new, log.conflicting) == (5, 0)  # four Q&A notes and the cloze's own note
    fresh.close()


# --- the bank format --------------------------------------------------------------------------------


def test_broken_anki_records_are_reported_with_file_and_line(existing: Collection, tmp_path: Path, cli: Cli) -> None:
    bank, _ = import_and_build(cli, export(existing, tmp_path / "geography.apkg"), tmp_path)
    existing.close()
    asia = bank / "chapters" / "asia.yaml"
    text = asia.read_text()
    text = text.replace("notetype: basic-type-in-the-answer", "notetype: basic-typing", 1)
    text = text.replace("Add Reverse: y", "Add Revers: y", 1)
    asia.write_text(text)
    run = cli("check", "--source", bank)
    assert run.code == 1
    lines = [re.sub(r"^.*?chapters/", "chapters/", ln) for ln in run.lines]
    typing_line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.strip() == "notetype: basic-typing")
    reverse_line = next(i for i, ln in enumerate(text.splitlines(), 1) if "Add Revers:" in ln)
    assert any(
        ln.startswith(f"chapters/asia.yaml:{typing_line}: error: question ") and "note type 'basic-typing' is not in anki.yaml" in ln
        for ln in lines
    ), lines
    assert any(ln.startswith(f"chapters/asia.yaml:{reverse_line}: error: ") and "has no field 'Add Revers'" in ln for ln in lines), lines


# --- HTML → Markdown -------------------------------------------------------------------------------

CONVERSIONS = [
    ("What is the capital of <b>France</b>?", "What is the capital of **France**?", ()),
    ("<i>italic</i>, <em>em</em>, <s>gone</s>", "*italic*, *em*, ~~gone~~", ()),
    ("line one<div>line two</div><div><br></div><div>paragraph</div>", "line one\\\nline two\n\nparagraph", ()),
    ("a<br>b<br><br>c", "a\\\nb\n\nc", ()),
    ("<ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul>", "- one\n- two\n  - nested", ()),
    ("<ol start=3><li>three</li><li>four</li></ol>", "3. three\n4. four", ()),
    ("<table><tr><th>A</th><th>B</th></tr><tr><td>1 | 2</td><td>x</td></tr></table>", "| A | B |\n| --- | --- |\n| 1 \\| 2 | x |", ()),
    ("<pre><code class='language-python'>if x:\n    y()</code></pre>", "```python\nif x:\n    y()\n```", ()),
    ("use <code>a_b*c</code>", "use `a_b*c`", ()),
    ("<a href='https://example.com/a b'>site</a>", "[site](<https://example.com/a b>)", ()),
    (
        "<a href='http://example.com'>site</a>",
        "site",
        ("link to http://example.com kept as its text (deckbook links only to https: and mailto:)",),
    ),
    ("<img src='pic.png' alt='A map'>", "![A map](media/pic.png)", ()),
    ("<img src='pic.webp'>", "", ("image pic.webp dropped: not a .svg, .png, .jpg or .gif file in the package",)),
    ("H<sub>2</sub>O and x<sup>2</sup>, 10<sup>th</sup>", "H₂O and x², 10ᵗʰ", ()),
    ("x<sup>q</sup>", "x^(q)", ("superscript 'q' written as ^(…)",)),
    ("\\(\\frac{a}{b}\\) and \\[x^2\\]", "$\\frac{a}{b}$ and $$x^2$$", ()),
    (
        "\\(\\notacommand\\)",
        "\\\\(\\\\notacommand\\\\)",
        ("math \\(\\notacommand\\) kept as text: it uses \\notacommand, which is not a known TeX math command",),
    ),
    ("{{c1::Paris::city}} is in {{c2::<b>France</b>}}", "{{c1::Paris::city}} is in {{c2::**France**}}", ()),
    ("costs $5 *now* [sound:a.mp3]", "costs \\$5 \\*now\\* [sound:a.mp3]", ()),
    ("[x](y) and <b>&lt;b&gt;</b>", "&#91;x](y) and **\\<b>**", ()),
    ("- not a list<br># not a heading<br>1. not a number", "\\- not a list\\\n\\# not a heading\\\n1\\. not a number", ()),
    (
        "<span style='color: red; font-weight: bold'>red</span> <u>under</u>",
        "**red** under",
        ("styling dropped (color)", "underline dropped"),
    ),
    ("<h2>Title</h2>text", "**Title**\n\ntext", ("heading written as bold text",)),
    ("<blockquote>quoted<br>more</blockquote>", "> quoted\\\n> more", ()),
    ("<ruby>漢字<rt>かんじ</rt></ruby>", "漢字(かんじ)", ("ruby reading written in parentheses",)),
]


@pytest.mark.parametrize(("html", "markdown", "losses"), CONVERSIONS, ids=[c[0][:30] for c in CONVERSIONS])
def test_html_becomes_markdown(html: str, markdown: str, losses: tuple[str, ...]) -> None:
    got = htmlmd.convert(html, lambda name: name if name in ("pic.png", "a.mp3") else None)
    assert (got.markdown, got.losses) == (markdown, losses)


def shown_words(md: str) -> str:
    """The words deckbook's own renderer shows for `md` (formulas as their TeX)."""
    html, formulas = markup.render_field(markup.parse(md))
    text = fill(html, {mdext.MATH: lambda i: f" {formulas[int(i)][0]} ", mdext.FURIGANA: lambda v: v.replace(mdext.READING_SEP, "")})
    return htmltree.words(
        re.sub(r"<[^>]*>", " ", text).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    )


_PIECES = [*"abcXYZ 0129 *_[]()$\\<>&#|~{}:!-+.=`\"'", "\\(x+1\\)", "{{c1::word::hint}}", " - ", "1. ", "[sound:x.mp3]"]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)
_TAGS = ["b", "i", "u", "s", "code", "sub", "sup", "div", "p", "span style='color:red'", "font color=blue", "h3", "blockquote", "pre", "li"]


@st.composite
def html_trees(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["text", "text", "br", "tag", "list", "table", "link"] if depth < 3 else ["text"]))
        if kind == "text":
            parts.append(draw(_TEXT).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        elif kind == "br":
            parts.append("<br>")
        elif kind == "tag":
            tag = draw(st.sampled_from(_TAGS))
            parts.append(f"<{tag}>{draw(html_trees(depth + 1))}</{tag.split()[0]}>")
        elif kind == "list":
            items = "".join(f"<li>{draw(html_trees(depth + 1))}</li>" for _ in range(draw(st.integers(1, 3))))
            parts.append(f"<{draw(st.sampled_from(['ul', 'ol']))}>{items}</ul>")
        elif kind == "table":
            cells = "".join(f"<td>{draw(html_trees(depth + 1))}</td>" for _ in range(2))
            parts.append(f"<table><tr><th>A</th><th>B</th></tr><tr>{cells}</tr></table>")
        else:
            target = draw(st.sampled_from(["a", "b(c)", "d e"]))
            parts.append(
                f"<a href='https://example.com/{target}'>link {draw(html_trees(depth + 1))}</a>"
            )  # (a link without text shows its URL)
    return "".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_trees())
def test_any_field_becomes_valid_markdown_with_every_word(html: str) -> None:
    got = htmlmd.convert(html, lambda _name: None)
    assert not [f.message for f in analysis.analyse(got.markdown).findings if f.is_error]
    shown, original = shown_words(got.markdown), htmltree.words(htmltree.plain_text(html))
    if any("kept as plain text" in loss for loss in got.losses):  # the fallback: every word, in order (links add their URL)
        rest = iter(shown)
        assert all(c in rest for c in original), (shown, original)
    else:
        assert shown == original


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_and_leaves_the_folder_alone(case: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    shutil.copytree(case, work)
    monkeypatch.chdir(work)
    args_file = work / "args"
    args = args_file.read_text().split() if args_file.exists() else [next(p.name for p in work.iterdir() if p.name.startswith("input"))]
    before = sorted((str(p), p.read_bytes() if p.is_file() else b"") for p in work.rglob("*"))

    run = cli("import", *args, "--into", "bank")

    got = "\n".join(run.lines) + "\n"
    if UPDATE:
        (case / "expected.txt").write_text(got)
    assert run.code == 1
    assert got == (case / "expected.txt").read_text()
    assert "Traceback" not in run.err
    assert sorted((str(p), p.read_bytes() if p.is_file() else b"") for p in work.rglob("*")) == before  # nothing written, nothing left


def test_import_usage_errors_exit_2(cli: Cli, tmp_path: Path) -> None:
    assert cli("import", tmp_path / "x.apkg").code == 2
    assert cli("import", "--into", tmp_path / "bank").code == 2
    run = cli("check", "--into", tmp_path / "bank")
    assert run.code == 2 and "--into, --force and --collection only apply to import" in run.err


def test_force_replaces_a_folder_only_once_the_new_bank_is_complete(existing: Collection, tmp_path: Path, cli: Cli) -> None:
    apkg = export(existing, tmp_path / "geography.apkg")
    existing.close()
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "old.txt").write_text("old")
    assert cli("import", apkg, "--into", bank).code == 1
    assert (bank / "old.txt").read_text() == "old"
    run = cli("import", apkg, "--into", bank, "--force")
    assert run.code == 0, run.err
    assert not (bank / "old.txt").exists() and (bank / "book.yaml").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".bank")) == []
