"""Plain data → YAML as deckbook banks are written by hand: keys in the given order, Markdown in
literal blocks (``|``), lists indented under their key, and a first line naming the JSON Schema
(so editors complete and check the file).

Contract: `dump(data, schema)` returns text that `deckbook.yamlio.read_yaml` reads back to exactly
`data` (strings, integers, booleans, lists and mappings only; no anchors, aliases or tags).
"""

from __future__ import annotations

from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    """Block style everywhere, sequences indented under their key, no aliases."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not any(line != line.rstrip() for line in value.split("\n")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data: Any, schema: str | None = None) -> str:
    """`data` as YAML; `schema` is the path of its JSON Schema relative to the file, if any."""
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=4096, indent=2)
    head = f"# yaml-language-server: $schema={schema}\n" if schema else ""
    return head + str(body)
