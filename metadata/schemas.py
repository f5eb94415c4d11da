"""The JSON Schemas of the metadata kinds, and structural validation against them.

Schemas ship as package data in `metadata/schema/`, are loaded and checked once, and
cross-reference each other by `$id` through a `referencing.Registry`. Errors become
`Problem`s with a JSON pointer and a message a consultant can act on.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Sequence
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from metadata.problems import Problem, pointer
from metadata.specs import COMMON_FIELD_KEYS

KINDS = (
    "object", "field", "validation_rule", "rule", "role", "flow", "form", "report", "dashboard", "package",
    "label",
)  # fmt: skip
SCHEMA_BASE = "https://loom.dev/schema/"

_TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def schema_id(kind: str) -> str:
    """The `$id` of a kind's schema, e.g. https://loom.dev/schema/object.schema.json."""
    return f"{SCHEMA_BASE}{kind}.schema.json"


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    folder = resources.files("metadata") / "schema"
    schemas = {}
    for kind in KINDS:
        schema = json.loads((folder / f"{kind}.schema.json").read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        schemas[kind] = schema
    return schemas


@cache
def _registry() -> Registry:
    resources_ = [(schema["$id"], Resource.from_contents(schema)) for schema in _schemas().values()]
    return Registry().with_resources(resources_)


def schema_of(kind: str) -> dict[str, Any]:
    """The JSON Schema of a metadata kind (a fresh copy: callers may change it)."""
    return json.loads(json.dumps(_schemas()[_known_kind(kind)]))


@cache
def validator_for(kind: str) -> Draft202012Validator:
    """A reusable validator for a kind; building one is the expensive part."""
    return Draft202012Validator(
        _schemas()[_known_kind(kind)],
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _known_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown metadata kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind


def structural_problems(kind: str, doc: Any, file: str) -> list[Problem]:
    """Every way `doc` breaks the kind's JSON Schema, as problems sorted by JSON pointer.

    What is checked is the document as JSON, the form it is stored in. A package is checked before
    it applies and as it applies, and a process installing it in many databases checks the same
    documents each time (the CRM's take ~0.4 s): the answer is kept by the document's JSON text.
    """
    try:
        text = json.dumps(doc, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        text = None  # not JSON (a NaN, a Python object): checked as it is, every time
    found = _problems_of_json(kind, text) if text is not None else _problems(kind, doc)
    return [Problem(file, at, message) for at, message in found]


# A few hundred documents cover every shipped package; the texts kept stay within a few MB.
@lru_cache(maxsize=512)
def _problems_of_json(kind: str, text: str) -> tuple[tuple[str, str], ...]:
    return _problems(kind, json.loads(text))


def _problems(kind: str, doc: Any) -> tuple[tuple[str, str], ...]:
    found: list[tuple[list[str | int], str]] = []
    for error in validator_for(kind).iter_errors(doc):
        found.extend(_explain(error, doc))
    found.sort(key=lambda item: (_sort_key(item[0]), item[1]))
    return tuple(dict.fromkeys((pointer(*parts), message) for parts, message in found))


def _sort_key(parts: Sequence[str | int]) -> tuple[tuple[int, int, str], ...]:
    # Indexes sort numerically (/fields/2 before /fields/10); mixed parts never collide.
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in parts)


def _explain(error: ValidationError, doc: Any) -> Iterator[tuple[list[str | int], str]]:
    """Turn one jsonschema error into (path parts, message) pairs; some name several keys."""
    path: list[str | int] = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    keyword = error.validator

    if "propertyNames" in error.relative_schema_path:
        yield [*path, error.instance], _bad_key(error, schema, _at(doc, path))
    elif keyword == "additionalProperties" and error.validator_value is False:
        yield from _unknown_keys(error, schema, path)
    elif keyword == "required" and isinstance(schema.get("errorMessage"), str):
        # A schema may say why the keys are needed ("vote mode needs share: …").
        yield path, schema["errorMessage"]
    elif keyword == "required":
        for key in error.validator_value:
            if isinstance(error.instance, dict) and key not in error.instance:
                yield path, f"{key!r} is required"
    elif keyword == "uniqueItems":
        yield from _repeated_items(error.instance, path)
    elif isinstance(schema.get("errorMessage"), str):
        yield path, schema["errorMessage"]
    elif keyword in {"anyOf", "oneOf"} and error.context:
        yield from _explain(best_match(error.context), doc)
    else:
        yield path, _describe(error, schema)


def _describe(error: ValidationError, schema: dict[str, Any]) -> str:
    keyword, expected, value = error.validator, error.validator_value, error.instance
    found = _show(value)
    if keyword == "type":
        wanted = [expected] if isinstance(expected, str) else list(expected)
        return f"must be {' or '.join(_TYPE_NAMES.get(t, t) for t in wanted)}, not {_kind_of(value)}"
    if keyword == "pattern":
        hint = schema.get("patternErrorMessage") or f"expected text matching {expected}"
        return f"{found} is not valid: {hint}"
    if keyword == "enum":
        choices = ", ".join(_show(choice) for choice in expected)
        return f"{found} is not one of {choices}{_did_you_mean(value, expected)}"
    if keyword == "const":
        return f"must be {_show(expected)}, not {found}"
    if keyword in {"minLength", "minItems", "minProperties"} and expected == 1:
        return "must not be empty"
    if keyword in {"minLength", "maxLength"}:
        bound = "at least" if keyword == "minLength" else "at most"
        return f"must have {bound} {expected} characters, not {len(value)}"
    if keyword in {"minItems", "maxItems", "minProperties", "maxProperties"}:
        bound = "at least" if keyword.startswith("min") else "at most"
        noun = "items" if keyword.endswith("Items") else "keys"
        return f"must have {bound} {expected} {noun}, not {len(value)}"
    bounds = {
        "minimum": "at least",
        "maximum": "at most",
        "exclusiveMinimum": "greater than",
        "exclusiveMaximum": "less than",
    }
    if keyword in bounds:
        return f"must be {bounds[keyword]} {expected}, not {found}"
    if keyword == "format":
        return _bad_format(value, expected)
    if keyword is None:  # a `false` schema
        return "is not allowed here"
    return error.message


def _bad_format(value: Any, format_name: str) -> str:
    if format_name == "regex":
        try:
            re.compile(value)
        except re.error as exc:
            return f"{_show(value)} is not a valid regular expression: {exc}"
    return f"{_show(value)} is not a valid {format_name}"


def _bad_key(error: ValidationError, schema: dict[str, Any], owner: Any) -> str:
    key = error.instance
    if error.validator == "enum":
        allowed = list(error.validator_value)
        message = f"unknown key {key!r}{_did_you_mean(key, allowed)}"
        if isinstance(owner, dict) and isinstance(owner.get("type"), str):
            message += "; " + _keys_of(owner["type"], allowed, schema.get("keysOf", "field"))
        return message
    hint = schema.get("patternErrorMessage") or error.message
    return f"key {key!r} is not valid: {hint}"


def _keys_of(type_name: str, allowed: Sequence[str], noun: str) -> str:
    """What a typed thing takes: "a text field takes max_length, pattern", "a schedule trigger takes cron".

    `noun` comes from the schema's `keysOf` annotation next to the allowed keys; fields share
    common keys (name, label, …), triggers and actions only their `type`.
    """
    common = COMMON_FIELD_KEYS if noun == "field" else {"type"}
    own = [name for name in allowed if name not in common]
    article = "an" if type_name[:1] in "aeio" or type_name.startswith("up") else "a"  # a user, an update
    owner = f"{article} {type_name} {noun}"
    if own:
        return f"{owner} takes {', '.join(own)}"
    return f"{owner} has no settings of its own" if noun == "field" else f"{owner} takes no other keys"


def _unknown_keys(
    error: ValidationError, schema: dict[str, Any], path: list[str | int]
) -> Iterator[tuple[list[str | int], str]]:
    known = list(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    # A schema may say what its keys are (a role's grant: "the operations are create, read, …").
    hint = f"; {schema['knownKeys']}" if isinstance(schema.get("knownKeys"), str) else ""
    for key in error.instance:
        if key in known or any(p.search(key) for p in patterns):
            continue
        yield [*path, key], f"unknown key {key!r}{_did_you_mean(key, known)}{hint}"


def _repeated_items(items: list[Any], path: list[str | int]) -> Iterator[tuple[list[str | int], str]]:
    seen: list[Any] = []
    for index, item in enumerate(items):
        if item in seen:
            yield [*path, index], f"{_show(item)} is listed twice"
        else:
            seen.append(item)


def _did_you_mean(value: Any, choices: Sequence[Any]) -> str:
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, [c for c in choices if isinstance(c, str)], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _at(doc: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        try:
            doc = doc[part]
        except (KeyError, IndexError, TypeError):
            return None
    return doc


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    for name, kinds in (("a whole number", int), ("a number", float), ("a string", str)):
        if isinstance(value, kinds):
            return name
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__
