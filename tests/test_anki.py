"""The Anki decks, checked with the real Anki engine: import, update in place, no duplicates."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml
from anki.consts import CARD_TYPE_REV, QUEUE_TYPE_REV

from deckbook.load import load_bank
from tests.anki_engine import import_apkg, open_collection
from tests.conftest import ROOT, Cli

INLINE_COLOUR = re.compile(r"style=\"[^\"]*colou?r", re.IGNORECASE)


def build(cli: Cli, source: Path, out: Path, *extra: str | Path) -> Path:
    run = cli("anki", "--source", source, "--out", out, "-q", *extra)
    assert run.code == 0, run.err
    return out / "minimal-test.apkg"


def expected_counts(source: Path) -> dict[str, int]:
    bank = load_bank(source).bank
    assert bank is not None
    clozes = sum(1 for q in bank.questions if q.cloze_md)
    return {
        "notes": len(bank.questions) + clozes + len(bank.terms),
        "cards": len(bank.questions) + clozes + 2 * len(bank.terms),
    }


def test_import_counts_decks_tags_and_note_types(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    apkg = build(cli, minimal, tmp_path / "out")
    col = open_collection(tmp_path / "col")
    log = import_apkg(col, apkg)
    want = expected_counts(minimal)
    assert (log.new, log.updated, log.conflicting) == (want["notes"], 0, 0)
    assert col.note_count() == want["notes"]
    assert col.card_count() == want["cards"]
    per_type = Counter(col.get_note(nid).note_type()["name"] for nid in col.find_notes(""))  # type: ignore[index]
    assert per_type == {"Minimal · Q&A (deckbook)": 3, "Minimal · Cloze (deckbook)": 1, "Minimal · Term (deckbook)": 1}
    decks = {d.name for d in col.decks.all_names_and_ids()} - {"Default"}
    assert decks == {"Minimal", "Minimal::01 Basics & Storage", "Minimal::02 Advanced topics", "Minimal::Glossary"}
    assert len(col.find_cards('"deck:Minimal::01 Basics & Storage"')) == 3  # two Q&A cards + one cloze card
    assert set(col.tags.all()) == {
        "minimal-test::chapter::advanced-topics",
        "minimal-test::chapter::basics",
        "minimal-test::glossary",
        "minimal-test::kind::concept",
        "minimal-test::kind::design",
        "minimal-test::kind::scenario",
        "minimal-test::level::advanced",
        "minimal-test::level::basic",
        "minimal-test::level::intermediate",
        "minimal-test::service::s3",
        "minimal-test::service::snowball-edge",
        "minimal-test::tag::durability",
    }
    for nid in col.find_notes(""):
        assert col.get_note(nid).cards(), "every note must yield at least one card"
    col.close()


def test_reimporting_the_same_build_changes_nothing(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    apkg = build(cli, minimal, tmp_path / "out")
    col = open_collection(tmp_path / "col")
    import_apkg(col, apkg)
    rebuilt = build(cli, minimal, tmp_path / "out2")
    assert rebuilt.read_bytes() == apkg.read_bytes(), "same source and ledger must give the same bytes"
    log = import_apkg(col, rebuilt)
    assert (log.new, log.updated, log.conflicting) == (0, 0, 0)
    col.close()


def _set_answer(source: Path, qid: str, text: str) -> None:
    path = next(p for p in (source / "chapters").glob("*.yaml") if f"id: {qid}" in p.read_text())
    data = path.read_text()
    doc = yaml.safe_load(data)
    old = next(q["answer"] for q in doc["questions"] if q["id"] == qid)
    first = old.strip().splitlines()[0]
    path.write_text(data.replace(first, text, 1))


def test_one_edited_answer_updates_exactly_one_note_and_keeps_its_schedule(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    col = open_collection(tmp_path / "col")
    import_apkg(col, build(cli, minimal, tmp_path / "v1"))
    [cid] = col.find_cards("Id:adv-policy")
    card = col.get_card(cid)
    card.type, card.queue = CARD_TYPE_REV, QUEUE_TYPE_REV  # a reviewed card
    card.ivl, card.due, card.reps = 12, col.sched.today + 12, 3
    col.update_card(card)
    notes_before = col.note_count()

    _set_answer(minimal, "adv-policy", "An explicit Deny unless aws:SourceVpce equals the endpoint id.")
    log = import_apkg(col, build(cli, minimal, tmp_path / "v2"))

    assert (log.new, log.updated, log.conflicting) == (0, 1, 0)
    assert col.note_count() == notes_before
    after = col.get_card(cid)
    assert (after.type, after.queue, after.ivl, after.due, after.reps) == (2, 2, 12, col.sched.today + 12, 3)
    assert "unless aws:SourceVpce equals" in after.note()["Answer"]
    col.close()


def test_user_edits_on_unchanged_notes_survive_an_update(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    col = open_collection(tmp_path / "col")
    import_apkg(col, build(cli, minimal, tmp_path / "v1"))
    [nid] = col.find_notes("Id:bas-transfer")
    note = col.get_note(nid)
    note["Answer"] += "<p>my own mnemonic</p>"
    col.update_note(note)
    _set_answer(minimal, "adv-policy", "A different answer.")
    log = import_apkg(col, build(cli, minimal, tmp_path / "v2"))
    assert (log.new, log.updated) == (0, 1)
    assert "my own mnemonic" in col.get_note(nid)["Answer"]
    col.close()


def test_template_or_css_change_updates_note_types_without_conflicts(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    col = open_collection(tmp_path / "col")
    import_apkg(col, build(cli, minimal, tmp_path / "v1"))
    overrides = tmp_path / "my-templates" / "anki"
    overrides.mkdir(parents=True)
    css = (ROOT / "templates" / "anki" / "card.css").read_text() + "\n.db-question { letter-spacing: 0.01em; }\n"
    (overrides / "card.css").write_text(css)
    shutil.copyfile(ROOT / "templates" / "anki" / "qa.back.html.jinja", overrides / "qa.back.html.jinja")
    with (overrides / "qa.back.html.jinja").open("a") as fh:
        fh.write('<div class="db-footer">changed template</div>\n')

    log = import_apkg(col, build(cli, minimal, tmp_path / "v2", "--templates", tmp_path / "my-templates"))

    assert log.conflicting == 0 and log.new == 0
    names = [m["name"] for m in col.models.all() if "(deckbook)" in m["name"]]
    assert sorted(names) == ["Minimal · Cloze (deckbook)", "Minimal · Q&A (deckbook)", "Minimal · Term (deckbook)"]
    qa = next(m for m in col.models.all() if m["name"] == "Minimal · Q&A (deckbook)")
    assert "letter-spacing: 0.01em" in qa["css"]
    assert "changed template" in qa["tmpls"][0]["afmt"]
    col.close()


def test_media_is_bundled_and_card_html_is_safe(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    col = open_collection(tmp_path / "col")
    import_apkg(col, build(cli, minimal, tmp_path / "out"))
    check = col.media.check()
    assert list(check.missing) == [] and list(check.unused) == []
    media = [p.name for p in Path(col.media.dir()).iterdir()]
    assert len(media) == 1 and re.fullmatch(r"azs-[0-9a-f]{10}\.svg", media[0]), media
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        for html in (card.question(), card.answer()):
            assert "<script" not in html.lower()
            assert "http://" not in html
            assert not INLINE_COLOUR.search(html)
    col.close()


def test_focused_deck_has_just_those_cards_and_shares_guids(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    focused = tmp_path / "focused"
    run = cli("anki", "--source", minimal, "--out", focused, "--level", "advanced", "-q")
    assert run.code == 0, run.err
    [apkg] = list(focused.glob("*.apkg"))
    assert apkg.name == "minimal-test--level-advanced.apkg"
    col = open_collection(tmp_path / "col")
    assert import_apkg(col, apkg).new == 1
    assert {col.get_note(n)["Id"] for n in col.find_notes("")} == {"adv-policy"}
    full = import_apkg(col, build(cli, minimal, tmp_path / "full"))
    assert full.new == 4 and full.conflicting == 0  # the advanced note is recognised, not duplicated
    assert len(col.find_notes("Id:adv-policy")) == 1
    col.close()


def test_default_build_writes_one_deck_per_level(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    build(cli, minimal, tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").glob("*.apkg"))
    assert names == [
        "minimal-test--level-advanced.apkg",
        "minimal-test--level-basic.apkg",
        "minimal-test--level-intermediate.apkg",
        "minimal-test.apkg",
    ]


@pytest.mark.parametrize("key", ["qa", "cloze", "term"])
def test_note_type_ids_are_stable(key: str) -> None:
    """Field and template ids (and the shipped bank's field names) are part of the published format:
    changing one forks learners' note types."""
    from deckbook.renderers import anki_notes

    shipped = load_bank(ROOT / "source").bank
    assert shipped is not None
    nt = {t.key: t for t in anki_notes.note_types(shipped)}[key]
    golden = yaml.safe_load((ROOT / "tests" / "golden" / "notetypes.yaml").read_text())[key]
    assert [[f.name, f.id] for f in nt.fields][: len(golden["fields"])] == golden["fields"]
    assert [[t.name, t.id] for t in nt.templates] == golden["templates"]
    assert anki_notes.stable_id("cloud-interview", "notetype", key) == golden["model_id_cloud_interview"]


def test_ledger_is_written_beside_the_source(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    build(cli, minimal, tmp_path / "out")
    ledger = (minimal / "deckbook.lock").read_text()
    assert '"bas-durability::cloze"' in ledger and '"notetype::qa"' in ledger
    assert cli("check", "--locked", "--source", minimal).code == 0
    _set_answer(minimal, "bas-transfer", "Use DataSync over the network.")
    stale = cli("check", "--locked", "--source", minimal)
    assert stale.code == 1
    assert "ledger is stale (1 changed: bas-transfer)" in stale.err


def test_removed_question_is_reported_then_retired_and_never_reused(minimal: Path, tmp_path: Path, cli: Cli) -> None:
    build(cli, minimal, tmp_path / "out")
    path = minimal / "chapters" / "basics.yaml"
    text = path.read_text()
    removed = text[text.index("  - id: bas-transfer") :]
    path.write_text(text.replace(removed, ""))
    check = cli("check", "--source", minimal)
    assert check.code == 0
    assert "'bas-transfer' was published before and is no longer in the source" in check.err
    build(cli, minimal, tmp_path / "out2")
    assert '"bas-transfer": ' in (minimal / "deckbook.lock").read_text().split('"retired"')[1]
    path.write_text(text)  # bring the id back
    reused = cli("check", "--source", minimal)
    assert reused.code == 1
    assert "id 'bas-transfer' was removed from an earlier release; ids are never reused" in reused.err
