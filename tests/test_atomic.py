"""A failing or interrupted build leaves the previous good outputs exactly as they were."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from deckbook import renderers
from deckbook.renderers.base import Produced, RenderContext, Renderer, Runtime, Unit
from tests.conftest import Cli


class BrokenRenderer(Renderer[str]):
    """A renderer whose unit fails while the deck and the e-book of the same build succeed."""

    name: ClassVar[str] = "broken"
    error: ClassVar[type[BaseException]] = RuntimeError

    def job(self, ctx: RenderContext, unit: Unit) -> str:
        return "always"

    def produce(self, job: str, runtime: Runtime) -> Produced:
        raise self.error("disk full")


class InterruptedRenderer(BrokenRenderer):
    error = KeyboardInterrupt


def snapshot(folder: Path) -> dict[str, bytes]:
    """Outputs and the record of the last build (the cache's derived data, e.g. page maps, may grow)."""
    files = [p for p in folder.rglob("*") if p.is_file() and (p.parent == folder or p.name == "manifest.json")]
    return {str(p.relative_to(folder)): p.read_bytes() for p in files}


@pytest.mark.parametrize(
    ("renderer", "code", "message"),
    [(BrokenRenderer, 3, "internal error: RuntimeError: disk full"), (InterruptedRenderer, 130, "interrupted")],
)
def test_failure_mid_build_keeps_previous_outputs(
    minimal: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, renderer: type[BrokenRenderer], code: int, message: str
) -> None:
    out = tmp_path / "out"
    assert cli("anki", "epub", "--source", minimal, "--out", out, "-q").code == 0
    before = snapshot(out)
    ledger_before = (minimal / "deckbook.lock").read_bytes()
    # an edit, so the failed build would have changed the deck and the ledger
    chapter = minimal / "chapters" / "basics.yaml"
    chapter.write_text(chapter.read_text().replace("eleven nines) durability", "eleven nines) of durability"))

    renderers.register("broken", renderer)
    try:
        run = cli("anki", "broken", "epub", "--source", minimal, "--out", out, "--jobs", "1")
    finally:
        renderers.unregister("broken")

    assert run.code == code
    assert message in run.err
    assert snapshot(out) == before, "outputs must be untouched"
    assert (minimal / "deckbook.lock").read_bytes() == ledger_before, "the ledger is only written after a successful build"
    assert not [p for p in out.rglob("*") if p.name.startswith(".") and p.is_file() and p.parent == out], "no temporary files left"
