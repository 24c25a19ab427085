"""Check a parsed file against its JSON Schema (in ``schema/``) and word the errors for people.

jsonschema's own messages ("Additional properties are not allowed ('x' was unexpected)") name
neither the line nor the question; here each error is placed on the line of the offending key
and prefixed with the question, term or index entry it belongs to.
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from deckbook.problems import Problem, error
from deckbook.yamlio import Lines, Path_

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
KINDS = ("book", "chapter", "glossary", "index")
_OWNER = {"questions": "question", "terms": "term", "entries": "index entry", "levels": "level", "kinds": "kind"}


@cache
def validator(kind: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def check(kind: str, data: Any, lines: Lines) -> list[Problem]:
    """Every structural problem of `data` against the `kind` schema, one message each."""
    problems = []
    for err in validator(kind).iter_errors(data):
        path: Path_ = tuple(err.absolute_path)
        problems.append(error(_where(err, path, lines), _owner(data, path) + _message(err, path)))
    return problems


def _schema(err: jsonschema.ValidationError) -> dict[str, Any]:
    return dict(err.schema) if isinstance(err.schema, dict) else {}


def _where(err: jsonschema.ValidationError, path: Path_, lines: Lines) -> Any:
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = _schema(err).get("properties", {})
        extra = [k for k in err.instance if k not in allowed]
        if extra:
            return lines.loc((*path, extra[0]))
    return lines.loc(path)


def _owner(data: Any, path: Path_) -> str:
    """ "question 'cell-017': " when the error is inside a question (or term, index entry, level…)."""
    if len(path) >= 2 and path[0] in _OWNER and isinstance(path[1], int):
        try:
            item = data[path[0]][path[1]]
        except (KeyError, IndexError, TypeError):
            return ""
        label = _OWNER[str(path[0])]
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            return f"{label} '{item['id']}': "
        return f"{label} #{path[1] + 1}: "
    return ""


def _key_name(path: Path_) -> str:
    keys = [p for p in path if isinstance(p, str)]
    if path and isinstance(path[-1], int) and keys:
        return f"'{keys[-1]}' item {path[-1] + 1}"
    return f"'{keys[-1]}'" if keys else "the file"


def _message(err: jsonschema.ValidationError, path: Path_) -> str:
    v, schema = err.validator, _schema(err)
    inst: Any = err.instance
    what = _key_name(path)
    if v == "required":
        missing = [k for k in schema.get("required", []) if isinstance(inst, dict) and k not in inst]
        return f"missing required key '{missing[0] if missing else err.message}'"
    if v == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = [k for k in inst if k not in allowed]
        name = extra[0] if extra else "?"
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown key '{name}'{hint} (valid keys: {', '.join(allowed)})"
    if v == "type":
        expected = {"string": "text", "array": "a list", "object": "a mapping of keys", "integer": "a whole number"}
        want = expected.get(str(schema.get("type")), str(schema.get("type")))
        hint = " (quote it)" if schema.get("type") == "string" and isinstance(inst, (bool, int, float)) else ""
        return f"{what} must be {want}, not {_describe(inst)}{hint}"
    if v == "enum":
        return f"{what} must be one of {', '.join(map(str, schema['enum']))}; got {_short(inst)}"
    if v == "pattern" and "\\S" in schema["pattern"]:
        return f"{what} must be one line of text"
    if v == "pattern":
        return f"{what} {_short(inst)} is not well-formed ({_pattern_hint(path, schema['pattern'])})"
    if v == "maxLength":
        return f"{what} is {len(inst)} characters long; the limit is {schema['maxLength']}"
    if v == "minLength":
        return f"{what} is empty"
    if v == "maxItems":
        return f"{what} has {len(inst)} entries; the limit is {schema['maxItems']}"
    if v == "minItems":
        return f"{what} must not be empty"
    if v == "uniqueItems":
        return f"{what} lists the same entry twice"
    return f"{what}: {err.message}"


def _pattern_hint(path: Path_, pattern: str) -> str:
    key = next((p for p in reversed(path) if isinstance(p, str)), "")
    hints = {
        "reviewed": "expected a month like 2026-11",
        "version": "expected a version like 1.2.0, quoted",
        "language": "expected a language tag like en or en-GB",
        "deck": "no colons, quotes or line breaks",
    }
    if key in hints:
        return hints[key]
    if "[^\\W_]" in pattern:
        return "lowercase letters of any script, digits and single hyphens, like my-first-question"
    if "\\S" in pattern:
        return "one line of text"
    return f"must match {pattern}"


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return _short(value)


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "…'"
