"""Read one YAML file as untrusted input: plain Python values plus the line of every key.

PyYAML alone is not safe enough for a hand-edited bank: it silently keeps the last of two
duplicate keys, expands aliases (a "billion laughs" file exhausts memory), reads `yes` as a
boolean in keys, and raises exceptions whose text is hard to act on. This module composes the
node tree itself and turns every such case into a `Problem` with a line number; it never raises
for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deckbook.model import Location
from deckbook.problems import Problem, error

try:  # the C parser is ~10x faster; fall back to pure Python where libyaml is missing
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the platform's PyYAML build
    _Loader = yaml.SafeLoader

MAX_FILE_BYTES = 4 * 1024 * 1024  # a 1000-question bank is ~2 MB in all; one file never needs more
MAX_DEPTH = 16  # the format nests 4 levels deep; more is a mistake or an attack
MAX_NODES = 200_000  # bounds the work for any single file

Path_ = tuple[str | int, ...]
_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null")}
_TIMESTAMP = _TAG + "timestamp"
_CONSTRUCT = yaml.constructor.SafeConstructor()  # only its scalar constructors are used


@dataclass
class Lines:
    """Where things are in one file: the line of each key / list item, and where text starts."""

    display: str
    at: dict[Path_, int] = field(default_factory=dict)
    text_start: dict[Path_, int] = field(default_factory=dict)

    def loc(self, path: Path_) -> Location:
        """The line of `path`, or of its nearest ancestor that has one."""
        for n in range(len(path), -1, -1):
            line = self.at.get(path[:n])
            if line is not None:
                return Location(self.display, line)
        return Location(self.display, None)

    def text_loc(self, path: Path_, offset: int) -> Location:
        """The line of the `offset`-th line (0-based) inside the string at `path`."""
        start = self.text_start.get(path)
        if start is None:
            return self.loc(path)
        return Location(self.display, start + offset)


@dataclass(frozen=True)
class YamlDoc:
    """A parsed file: the data (None if unusable) and its line map."""

    data: Any
    lines: Lines


def read_yaml(path: Path, display: str) -> tuple[YamlDoc, list[Problem]]:
    """Parse `path`; report every problem with `display` as the file name. Never raises."""
    lines = Lines(display)
    whole = Location(display)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return YamlDoc(None, lines), [error(whole, f"file is {size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES // 2**20} MiB per file")]
        raw = path.read_bytes()
    except OSError as exc:
        return YamlDoc(None, lines), [error(whole, f"cannot read file: {exc.strerror or exc}")]
    text, problems = _decode(raw, display)
    if text is None:
        return YamlDoc(None, lines), problems
    if not any(ln.strip() and not ln.lstrip().startswith("#") for ln in text.splitlines()):
        return YamlDoc(None, lines), [error(whole, "file is empty; expected a mapping of keys")]
    if "*" in text:  # cheap pre-filter: only files that could hold an alias are scanned for one
        aliases = _aliases(text, display)
        if aliases:
            return YamlDoc(None, lines), aliases
    try:
        node = yaml.compose(text, Loader=_Loader)
        if node is None:
            return YamlDoc(None, lines), [error(whole, "file is empty; expected a mapping of keys")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or "invalid YAML"
        if exc.context:
            start = exc.context_mark
            where = f" that starts at line {start.line + 1}" if start is not None and start.line + 1 != line else ""
            what = f"{what} ({exc.context.removeprefix('while ')}{where})"
        return YamlDoc(None, lines), [error(Location(display, line), f"invalid YAML: {what}")]
    except (yaml.YAMLError, RecursionError) as exc:
        return YamlDoc(None, lines), [error(whole, f"invalid YAML: {type(exc).__name__}")]
    converter = _Converter(lines)
    data = converter.convert(node, ())
    problems.extend(converter.problems)
    if converter.fatal:
        return YamlDoc(None, lines), problems
    if data is None:
        return YamlDoc(None, lines), [*problems, error(Location(display, 1), "file holds no value (null); expected a mapping of keys")]
    return YamlDoc(data, lines), problems


def _aliases(text: str, display: str) -> list[Problem]:
    """Aliases (*name) let a small file expand into a huge value ("billion laughs"): refuse them all."""
    found: list[Problem] = []
    lines_seen: set[int] = set()
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if not isinstance(event, yaml.AliasEvent) or event.start_mark is None:
                continue
            line = event.start_mark.line + 1
            if line not in lines_seen:
                lines_seen.add(line)
                if len(found) < 5:
                    found.append(error(Location(display, line), f"YAML alias '*{event.anchor}' is not allowed; write the value out"))
    except yaml.YAMLError:
        return []  # compose() reports the syntax error with its line
    if len(lines_seen) > len(found):
        found.append(error(Location(display, None), f"{len(lines_seen) - len(found)} more lines with YAML aliases"))
    return found


def _decode(raw: bytes, display: str) -> tuple[str | None, list[Problem]]:
    """Strict UTF-8 without BOM; tabs are not allowed in indentation."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return None, [error(Location(display, 1), "file starts with a byte-order mark (BOM); save it as UTF-8 without BOM")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        return None, [error(Location(display, line), f"file is not valid UTF-8 (byte 0x{byte}); save it as UTF-8")]
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return None, [error(Location(display, line), "file contains a NUL character; is it a binary file?")]
    problems = []
    for number, line_text in enumerate(text.splitlines(), start=1):
        indent = line_text[: len(line_text) - len(line_text.lstrip(" \t"))]
        if "\t" in indent:
            problems.append(error(Location(display, number), "tab character in indentation; YAML needs spaces"))
    return (None if problems else text), problems


class _Converter:
    """Node tree → plain values, recording lines and rejecting aliases, duplicate keys, depth."""

    def __init__(self, lines: Lines) -> None:
        self.lines = lines
        self.problems: list[Problem] = []
        self.fatal = False
        self.seen: set[int] = set()
        self.count = 0

    def convert(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            if not self.fatal:
                self.problems.append(error(self.lines.loc(path), f"file has more than {MAX_NODES} YAML values"))
            self.fatal = True
            return None
        if len(path) > MAX_DEPTH:
            self.problems.append(error(self.lines.loc(path), f"values nested more than {MAX_DEPTH} levels deep"))
            self.fatal = True
            return None
        if id(node) in self.seen:
            line = node.start_mark.line + 1
            self.problems.append(
                error(self.lines.loc(path), f"YAML alias to the anchor at line {line} is not allowed; write the value out")
            )
            self.fatal = True
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.seen.add(id(node))
        if node.tag not in _SCALAR_TAGS | {_TIMESTAMP, _TAG + "map", _TAG + "seq"}:
            self.problems.append(error(self.lines.loc(path), f"YAML tag '{node.tag}' is not allowed"))
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            out = []
            for i, item in enumerate(node.value):
                self.lines.at[(*path, i)] = item.start_mark.line + 1
                out.append(self.convert(item, (*path, i)))
            return out
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(error(Location(self.lines.display, line), "YAML merge keys (<<) are not allowed"))
                self.fatal = True
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(error(Location(self.lines.display, line), "a key must be a plain name"))
                continue
            key = str(key_node.value)
            if key in first:
                self.problems.append(error(Location(self.lines.display, line), f"duplicate key '{key}' (first at line {first[key]})"))
                continue
            first[key] = line
            self.lines.at[(*path, key)] = line
            out[key] = self.convert(value_node, (*path, key))
        return out

    def _scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        start = node.start_mark.line + 1
        self.lines.text_start[path] = start + 1 if node.style in ("|", ">") else start
        if node.tag == _TIMESTAMP:  # `reviewed: 2026-11-01` stays the text the user wrote
            return node.value
        try:
            return _CONSTRUCT.yaml_constructors[node.tag](_CONSTRUCT, node)
        except (yaml.YAMLError, ValueError, OverflowError, KeyError):
            return node.value
