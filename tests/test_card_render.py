"""Cards as a phone and a desktop show them: headless Chromium at 360 px and 1024 px, light and night.

Sample cards come from the shipped deck, imported with the real Anki engine, so what is measured is
exactly what Anki renders (card.question()/card.answer(), CSS included). Screenshots are kept in
tests/artifacts/cards/ for a person to look at.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.anki_engine import import_apkg, open_collection
from tests.conftest import ROOT, copy_bank

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
ARTIFACTS = ROOT / "tests" / "artifacts" / "cards"
HARNESS = (ROOT / "tests" / "harness" / "card-check.js").read_text()
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--virtual-time-budget=3000"]  # fmt: skip
SAMPLES = {  # note id → why it is a good test
    "net-s3-vpc-endpoint-policy": "a long JSON policy in a code block",
    "db-choose-rds-aurora-dynamodb": "a wide comparison table",
    "mig-seven-rs": "a cloze note and a table",
    "term-rpo": "a glossary term",
}

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")]


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory, cli_module: Callable[..., int]) -> list[tuple[str, str, str]]:
    root = tmp_path_factory.mktemp("cards")
    source = copy_bank("shipped", root)
    assert cli_module("anki", "--source", str(source), "--out", str(root / "out"), "-q", "--no-level-decks") == 0
    col = open_collection(root / "col")
    import_apkg(col, root / "out" / "cloud-interview.apkg")
    out = []
    for note_id in SAMPLES:
        for cid in col.find_cards(f"Id:{note_id}"):
            card = col.get_card(cid)
            out.append((f"{note_id}-{card.ord}", card.question(), card.answer()))
    col.close()
    assert len(out) >= len(SAMPLES)
    return out


@pytest.fixture(scope="module")
def cli_module() -> Callable[..., int]:
    from deckbook.cli import main

    return lambda *args: main(list(args))


FRAME_HEIGHT = 900


def render_all(faces: list[tuple[str, str]], width: int, night: bool, name: str, tmp: Path) -> dict[str, dict[str, Any]]:
    """Render every card face in its own `width`-px-wide frame (headless windows are at least
    500 px wide), measure each, and save one screenshot of them all."""
    body_class = "card nightMode night_mode" if night else "card"
    frames = []
    for label, card_html in faces:
        inner = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
                 f'</head><body class="{body_class}">{card_html}<script>{HARNESS}</script></body></html>')  # fmt: skip
        frames.append(f'<p style="margin:0;padding:4px;font:12px sans-serif;color:#fff">{html.escape(label)}</p>'
                      f'<iframe data-label="{html.escape(label)}" style="width:{width}px;height:{FRAME_HEIGHT}px;border:0;display:block" '
                      f'srcdoc="{html.escape(inner, quote=True)}"></iframe>')  # fmt: skip
    collect = (
        "<script>window.onload=function(){var r={};document.querySelectorAll('iframe').forEach(function(f){"
        "r[f.dataset.label]=JSON.parse(f.contentDocument.title);});document.title=JSON.stringify(r);};</script>"
    )
    page = tmp / f"{name}.html"
    page.write_text(f'<!DOCTYPE html><html><body style="margin:0;background:#555">{"".join(frames)}{collect}</body></html>')
    height = len(faces) * (FRAME_HEIGHT + 24)
    assert CHROMIUM is not None
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", f"--window-size={max(width, 500)},{height}"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180, check=True).stdout
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run([*common, f"--screenshot={ARTIFACTS / (name + '.png')}", page.as_uri()], capture_output=True, timeout=180, check=True)
    title = re.search(r"<title>(.*?)</title>", dom, re.DOTALL)
    assert title, dom[:500]
    return dict(json.loads(html.unescape(title.group(1))))


@pytest.mark.parametrize("width", [360, 1024])
@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
def test_cards_fit_the_screen_and_stay_readable(cards: list[tuple[str, str, str]], width: int, night: bool, tmp_path: Path) -> None:
    faces = [(f"{name} {side}", h) for name, q, a in cards for side, h in (("front", q), ("back", a))]
    results = render_all(faces, width, night, f"cards-{width}-{'night' if night else 'light'}", tmp_path)
    assert set(results) == {label for label, _ in faces}
    for label, result in results.items():
        assert result["scrollWidth"] <= width, (label, result)
        assert result["overflow"] == [], (label, result["overflow"])
        assert result["contrast"] == [], (label, result["contrast"])
