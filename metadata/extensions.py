"""Extension documents: a package adding fields, validation rules and select options to an object
that a package it depends on defines.

An extension sits where the object's own document would, `objects/<object>.json`, and says
`"extends": "<object>"` instead of naming and labelling the object:

    {"extends": "customer",
     "fields": [{"name": "plant", "type": "text", "label": {...}}],
     "validation_rules": [{"name": "...", "rule": "...", "message": {...}}],
     "options": {"industry": [{"value": "machinery", "label": {...}}]},
     "form": {"sections": [...], "into": [...]}, "list": {"columns": [...]}}

Installing weaves it into the object (fields and rules appended, options appended to the named
select field); the extension's own elements are recognised by name, so export and uninstall can
take them back out. Its `form` and `list` placements stay with the extension and are applied to the
object's pages (metadata.extension_layout).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from metadata.extension_layout import shape_problems as layout_shape_problems
from metadata.problems import Problem, pointer
from metadata.rules import ValidationRuleSpec
from metadata.schemas import structural_problems
from metadata.specs import FieldSpec

EXTENDS = "extends"
_KEYS = ("$schema", EXTENDS, "fields", "validation_rules", "options", "form", "list")
_LAYOUT_KEYS = ("form", "list")
_CHOICE_TYPES = {"select", "multi_select"}


def is_extension(body: Mapping[str, Any]) -> bool:
    return EXTENDS in body


def shape_problems(body: Mapping[str, Any], file: str) -> list[Problem]:
    """What is wrong with an extension document on its own: keys, fields, rules and options."""
    problems = [
        Problem(file, pointer(key), f"an extension may hold {', '.join(_KEYS[1:])}, not {key!r}")
        for key in body
        if key not in _KEYS
    ]
    target = body.get(EXTENDS)
    if not isinstance(target, str) or not target:
        problems.append(Problem(file, pointer(EXTENDS), 'names the object to extend, e.g. "customer"'))
    elif file.rsplit("/", 1)[-1] != f"{target}.json":
        problems.append(
            Problem(file, pointer(EXTENDS), f"an extension of {target!r} belongs in {target}.json")
        )
    problems += _listed(body, "fields", "field", file)
    problems += _listed(body, "validation_rules", "validation_rule", file)
    problems += layout_shape_problems(body, file)
    options = body.get("options", {})
    if not isinstance(options, dict):
        problems.append(Problem(file, pointer("options"), "maps a select field's name to the options to add"))
        return problems
    for name, added in options.items():
        probe = {"name": "probe", "type": "select", "label": {"en": "probe"}, "options": added}
        for problem in structural_problems("field", probe, file):
            rest = problem.path.removeprefix("/options")
            problems.append(Problem(file, pointer("options", name) + rest, problem.message))
    return problems


def _listed(body: Mapping[str, Any], key: str, kind: str, file: str) -> Iterator[Problem]:
    items = body.get(key, [])
    if not isinstance(items, list):
        yield Problem(file, pointer(key), f"{key} is a list")
        return
    for index, item in enumerate(items):
        for problem in structural_problems(kind, item, file):
            yield Problem(file, pointer(key, index) + problem.path, problem.message)


def clash_problems(body: Mapping[str, Any], file: str, target: Mapping[str, Any]) -> list[Problem]:
    """Names the extension adds that the object (without this extension) already has."""
    problems: list[Problem] = []
    object_name = target.get("name")
    fields = {field["name"]: field for field in target.get("fields", [])}
    for index, field in enumerate(body.get("fields", [])):
        if field["name"] in fields:
            message = f"{object_name} already has a field {field['name']!r}; choose another name"
            problems.append(Problem(file, pointer("fields", index, "name"), message))
    rules = {rule["name"] for rule in target.get("validation_rules", [])}
    for index, rule in enumerate(body.get("validation_rules", [])):
        if rule["name"] in rules:
            message = f"{object_name} already has a validation rule {rule['name']!r}; choose another name"
            problems.append(Problem(file, pointer("validation_rules", index, "name"), message))
    for name, added in body.get("options", {}).items():
        field = fields.get(name)
        if field is None or field.get("type") not in _CHOICE_TYPES:
            message = f"{object_name} has no select field {name!r} to add options to"
            problems.append(Problem(file, pointer("options", name), message))
            continue
        values = {option["value"] for option in field.get("options", [])}
        for index, option in enumerate(added):
            if option["value"] in values:
                message = f"{object_name}.{name} already has an option {option['value']!r}"
                problems.append(Problem(file, pointer("options", name, index, "value"), message))
    return problems


def normalised(body: Mapping[str, Any]) -> dict[str, Any]:
    """An extension as Loom stores and exports it: fields and rules as their specs write them, no
    `$schema`, empty parts left out."""
    doc: dict[str, Any] = {EXTENDS: body[EXTENDS]}
    if body.get("fields"):
        doc["fields"] = [FieldSpec.from_json(field).to_json() for field in body["fields"]]
    if body.get("validation_rules"):
        doc["validation_rules"] = [
            ValidationRuleSpec.from_json(r).to_json() for r in body["validation_rules"]
        ]
    if body.get("options"):
        doc["options"] = copy.deepcopy(dict(body["options"]))
    for key in _LAYOUT_KEYS:
        if body.get(key):
            doc[key] = copy.deepcopy(body[key])
    return doc


def weave(target: Mapping[str, Any], extension: Mapping[str, Any]) -> dict[str, Any]:
    """The object with the extension's fields, rules and options appended."""
    woven = copy.deepcopy(dict(target))
    if extension.get("fields"):
        woven["fields"] = [*woven.get("fields", []), *copy.deepcopy(extension["fields"])]
    if extension.get("validation_rules"):
        rules = copy.deepcopy(extension["validation_rules"])
        woven["validation_rules"] = [*woven.get("validation_rules", []), *rules]
    for name, added in extension.get("options", {}).items():
        for field in woven.get("fields", []):
            if field["name"] == name:
                field["options"] = [*field.get("options", []), *copy.deepcopy(added)]
    return woven


def strip(target: Mapping[str, Any], extension: Mapping[str, Any]) -> dict[str, Any]:
    """The object without the elements the extension added (found by name, wherever they moved)."""
    stripped = copy.deepcopy(dict(target))
    fields = {field["name"] for field in extension.get("fields", [])}
    rules = {rule["name"] for rule in extension.get("validation_rules", [])}
    if "fields" in stripped:
        stripped["fields"] = [field for field in stripped["fields"] if field["name"] not in fields]
    if "validation_rules" in stripped:
        kept = [rule for rule in stripped["validation_rules"] if rule["name"] not in rules]
        if kept:
            stripped["validation_rules"] = kept
        else:
            del stripped["validation_rules"]
    for name, added in extension.get("options", {}).items():
        values = {option["value"] for option in added}
        for field in stripped.get("fields", []):
            if field["name"] == name and "options" in field:
                field["options"] = [option for option in field["options"] if option["value"] not in values]
    return stripped


def extract(target: Mapping[str, Any], extension: Mapping[str, Any]) -> dict[str, Any]:
    """The extension as it is now inside the object: its elements with their current values."""
    fields = {field["name"] for field in extension.get("fields", [])}
    rules = {rule["name"] for rule in extension.get("validation_rules", [])}
    doc: dict[str, Any] = {EXTENDS: extension[EXTENDS]}
    current_fields = [copy.deepcopy(f) for f in target.get("fields", []) if f["name"] in fields]
    if current_fields:
        doc["fields"] = current_fields
    current_rules = [copy.deepcopy(r) for r in target.get("validation_rules", []) if r["name"] in rules]
    if current_rules:
        doc["validation_rules"] = current_rules
    options: dict[str, list] = {}
    for name, added in extension.get("options", {}).items():
        values = {option["value"] for option in added}
        for field in target.get("fields", []):
            if field["name"] == name:
                kept = [copy.deepcopy(o) for o in field.get("options", []) if o["value"] in values]
                if kept:
                    options[name] = kept
    if options:
        doc["options"] = options
    # Placements are not woven into the object, so they are as the package shipped them.
    for key in _LAYOUT_KEYS:
        if extension.get(key):
            doc[key] = copy.deepcopy(extension[key])
    return doc


def remap_problem(problem: Problem, target: Mapping[str, Any], file: str) -> Problem:
    """A problem found in the woven object, pointed at the extension's file when it lies in its part.

    Woven fields and rules come after the object's own, so an index past them is the extension's.
    """
    parts = problem.path.split("/")
    if len(parts) > 2 and parts[1] in {"fields", "validation_rules"} and parts[2].isdigit():
        own = len(target.get(parts[1], []))
        if int(parts[2]) >= own:
            parts[2] = str(int(parts[2]) - own)
            return Problem(file, "/".join(parts), problem.message)
    return problem
