"""A failing or interrupted build leaves the previous good outputs exactly as they were."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from deckbook import renderers
from deckbook.renderers.base import RenderContext


class HalfWrittenRenderer:
    """A renderer that writes part of a file over an existing output's name, then fails."""

    name: ClassVar[str] = "broken"
    error: ClassVar[type[BaseException]] = RuntimeError

    def units(self, ctx: RenderContext) -> list[str]:
        return ["only"]

    def after(self, ctx: RenderContext, unit: str) -> list[tuple[str, str]]:
        return []

    def inputs(self, ctx: RenderContext, unit: str) -> str:
        return "always"

    def render(self, ctx: RenderContext, unit: str) -> list[Path]:
        (ctx.out_dir / "minimal-test.apkg").write_bytes(b"PK\x03\x04 half a zip")
        raise self.error("disk full")


class InterruptedRenderer(HalfWrittenRenderer):
    error = KeyboardInterrupt


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("renderer", "code", "message"), [(HalfWrittenRenderer, 3, "internal error: RuntimeError: disk full"), (InterruptedRenderer, 130, "interrupted")])
def test_failure_mid_build_keeps_previous_outputs(minimal: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch, renderer, code: int, message: str) -> None:
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
    assert not [p for p in out.iterdir() if p.name.startswith(".deckbook-staging")], "staging folder cleaned up"
