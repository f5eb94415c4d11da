"""Aliases name one field and one option only: a word naming two would send a column or a cell astray."""

from __future__ import annotations

import json

from engine.expressions import default_functions
from engine.fieldtypes import builtin_field_types
from engine.packages.install import CRM_PACKAGE
from engine.schema.checks import check_objects
from metadata.specs import ObjectSpec


def _problems(change) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    doc = json.loads((CRM_PACKAGE / "objects" / "customer.json").read_text(encoding="utf-8"))
    change({field["name"]: field for field in doc["fields"]})
    problems = check_objects(
        {"customer": ObjectSpec.from_json(doc)}, builtin_field_types(), default_functions(), {}
    )
    return [(p.path, p.message) for p in problems if "/aliases/" in p.path]


def test_the_crm_customer_has_no_word_naming_two_things() -> None:
    assert _problems(lambda fields: None) == []


def test_an_alias_that_is_another_fields_label_is_a_problem_at_its_path() -> None:
    def change(fields):  # type: ignore[no-untyped-def]
        fields["phone"]["aliases"].append("电子邮箱")

    [(path, message)] = _problems(change)
    assert path.startswith("/fields/") and "/aliases/" in path
    assert message == "alias '电子邮箱' already names field 'email'"


def test_an_option_alias_that_is_another_options_label_is_a_problem() -> None:
    def change(fields):  # type: ignore[no-untyped-def]
        fields["level"]["options"][0]["aliases"].append("普通客户")

    [(path, message)] = _problems(change)
    assert "/options/0/aliases/" in path and message == "alias '普通客户' already names option 'normal'"
