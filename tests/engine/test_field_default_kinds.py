"""A field's default must give what the field holds: refused at validate time, at its JSON path."""

from __future__ import annotations

import json

import pytest

from engine.expressions import default_functions
from engine.fieldtypes import builtin_field_types
from engine.packages.install import CRM_PACKAGE
from engine.schema.checks import check_objects
from metadata.specs import ObjectSpec

LABEL = {"zh_CN": "探", "en": "Probe"}


def _problems(field: dict) -> list[tuple[str, str]]:
    doc = json.loads((CRM_PACKAGE / "objects" / "customer.json").read_text(encoding="utf-8"))
    doc["fields"].append({"label": LABEL, **field})
    problems = check_objects(
        {"customer": ObjectSpec.from_json(doc)}, builtin_field_types(), default_functions(), {}
    )
    index = len(doc["fields"]) - 1
    return [(p.path, p.message) for p in problems if p.path.startswith(f"/fields/{index}/")]


@pytest.mark.parametrize(
    ("field", "given", "held"),
    [
        ({"name": "probe", "type": "date", "default": "0"}, "number", "date"),
        ({"name": "probe", "type": "integer", "default": "'five'"}, "text", "number"),
        ({"name": "probe", "type": "boolean", "default": "today()"}, "date", "boolean"),
        ({"name": "probe", "type": "text", "default": "annual_purchase * 2"}, "number", "text"),
        (
            {"name": "probe", "type": "multi_select", "default": "'a'", "options": [{"value": "a"}]},
            "text",
            "list",
        ),
    ],
)
def test_a_default_of_another_kind_than_its_field_is_refused_at_its_path(
    field: dict, given: str, held: str
) -> None:
    [(path, message)] = _problems(field)

    assert path.endswith("/default")
    assert f"gives {given}, but the field probe's kind is {held}" in message
    assert field["default"] in message


@pytest.mark.parametrize(
    "field",
    [
        {"name": "probe", "type": "date", "default": "today()"},
        {"name": "probe", "type": "datetime", "default": "now()"},
        {"name": "probe", "type": "date", "default": "add_days(today(), 30)"},
        {"name": "probe", "type": "decimal", "default": "0"},
        {"name": "probe", "type": "boolean", "default": "False"},
        {"name": "probe", "type": "text", "default": "name"},
        {"name": "probe", "type": "multi_select", "default": "[]", "options": [{"value": "a"}]},
    ],
)
def test_a_default_of_its_fields_kind_is_accepted(field: dict) -> None:
    assert _problems(field) == []
