"""The JSON Schemas say what a well-formed document looks like, and say it at the right path."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from metadata.schemas import KINDS, schema_of, structural_problems

FILE = "objects/customer.json"


def customer(*fields: dict) -> dict:
    return {
        "$schema": "../../../schema/object.schema.json",
        "name": "customer",
        "label": {"zh_CN": "客户", "en": "Customer"},
        "fields": list(fields) or [{"name": "name", "type": "text", "max_length": 200}],
    }


def problems_of(doc: dict) -> dict[str, str]:
    return {problem.path: problem.message for problem in structural_problems("object", doc, FILE)}


def test_a_well_formed_object_has_no_problems():
    doc = customer(
        {"name": "name", "type": "text", "label": {"en": "Name"}, "required": True, "max_length": 200},
        {"name": "level", "type": "select", "default": "'normal'", "options": [{"value": "normal"}]},
        {"name": "parent", "type": "lookup", "target": "customer", "on_delete": "clear"},
        {"name": "code", "type": "autonumber", "pattern": "KH-{YYYY}-{0000}"},
        {"name": "silent", "type": "formula", "expression": "days_since(updated_at)", "result": "integer"},
    )
    assert structural_problems("object", doc, FILE) == []


def test_bad_identifier_is_reported_with_its_json_path():
    doc = customer({"name": "name", "type": "text"}, {"name": "Phone Number", "type": "phone"})

    [problem] = structural_problems("object", doc, FILE)

    assert (problem.file, problem.path) == (FILE, "/fields/1/name")
    assert '"Phone Number"' in problem.message
    assert "lowercase" in problem.message
    assert str(problem).startswith("objects/customer.json: /fields/1/name: ")


def test_every_error_is_reported_not_just_the_first():
    doc = customer(
        {"name": "a", "type": "text", "max_length": 0},
        {"name": "b", "type": "integer", "min": "zero"},
        {"name": "c", "type": "lookup"},
    )
    doc["sharing"] = "public"

    assert problems_of(doc) == {
        "/fields/0/max_length": "must be at least 1, not 0",
        "/fields/1/min": "must be a whole number, not a string",
        "/fields/2": "'target' is required",
        "/sharing": '"public" is not one of "private", "read", "edit"',
    }


def test_a_document_checked_again_names_its_own_file_and_a_changed_one_is_checked_afresh():
    doc = customer({"name": "Phone Number", "type": "phone"})
    first = structural_problems("object", doc, FILE)
    again = structural_problems("object", doc, "objects/copy.json")
    doc["fields"][0]["name"] = "phone"

    assert [(p.file, p.path) for p in first] == [(FILE, "/fields/0/name")]
    assert [(p.file, p.path) for p in again] == [("objects/copy.json", "/fields/0/name")]
    assert structural_problems("object", doc, FILE) == []


def test_problems_are_sorted_with_field_indexes_in_numeric_order():
    fields = [{"name": f"f{i}", "type": "text"} for i in range(12)]
    fields[2]["max_length"] = -1
    fields[10]["max_length"] = -1

    paths = [problem.path for problem in structural_problems("object", customer(*fields), FILE)]

    assert paths == ["/fields/2/max_length", "/fields/10/max_length"]


def test_misspelt_type_setting_is_named_with_a_suggestion():
    problems = problems_of(customer({"name": "name", "type": "text", "max_lenght": 20}))

    message = problems["/fields/0/max_lenght"]
    assert "unknown key 'max_lenght'" in message
    assert "did you mean 'max_length'?" in message
    assert "a text field takes max_length, pattern" in message


def test_misspelt_object_key_is_named_with_a_suggestion():
    doc = customer()
    doc["title_feild"] = "name"

    assert problems_of(doc) == {"/title_feild": "unknown key 'title_feild' (did you mean 'title_field'?)"}


def test_setting_of_another_type_is_refused():
    problems = problems_of(customer({"name": "done", "type": "boolean", "options": [{"value": "y"}]}))

    assert "a boolean field has no settings of its own" in problems["/fields/0/options"]


def test_unknown_field_type_passes_with_its_own_settings():
    doc = customer({"name": "stars", "type": "rating", "max_stars": 5, "label": {"en": "Rating"}})

    assert problems_of(doc) == {}


@pytest.mark.parametrize("field_type", ["formula", "rollup", "autonumber"])
def test_computed_fields_cannot_be_required_or_have_a_default(field_type):
    settings = {
        "formula": {"expression": "1", "result": "integer"},
        "rollup": {"source": {"object": "order", "via": "customer", "function": "count"}},
        "autonumber": {"pattern": "{0000}"},
    }[field_type]
    doc = customer({"name": "x", "type": field_type, "required": True, "default": "1", **settings})

    problems = problems_of(doc)

    assert "cannot be required" in problems["/fields/0/required"]
    assert "cannot have a default" in problems["/fields/0/default"]


def test_option_values_are_checked_where_they_are():
    doc = customer(
        {"name": "level", "type": "select", "options": [{"value": "vip"}, {"value": "key account"}]}
    )

    assert list(problems_of(doc)) == ["/fields/0/options/1/value"]


def test_select_without_options_is_refused():
    assert problems_of(customer({"name": "level", "type": "select", "options": []})) == {
        "/fields/0/options": "must not be empty"
    }


def test_rollup_needs_a_field_unless_it_counts():
    counting = {"object": "payment", "via": "customer", "function": "count"}
    summing = {"object": "payment", "via": "customer", "function": "sum"}
    doc = customer(
        {"name": "payments", "type": "rollup", "source": counting},
        {"name": "received", "type": "rollup", "source": summing},
    )

    assert problems_of(doc) == {"/fields/1/source": "'field' is required"}


def test_invalid_regular_expression_is_explained():
    problems = problems_of(customer({"name": "code", "type": "text", "pattern": "[0-9"}))

    assert problems["/fields/0/pattern"].startswith('"[0-9" is not a valid regular expression')


def test_autonumber_pattern_refuses_unknown_tokens():
    problems = problems_of(customer({"name": "code", "type": "autonumber", "pattern": "HT-{YYYYY}-{0000}"}))

    assert "{YYYY}" in problems["/fields/0/pattern"]


def test_label_locales_and_texts_are_checked():
    doc = customer()
    doc["label"] = {"EN": "Customer", "zh_CN": ""}

    assert problems_of(doc) == {
        "/label/EN": "key 'EN' is not valid: locales look like en or zh_CN",
        "/label/zh_CN": "must not be empty",
    }


def test_repeated_search_field_points_at_the_repeat():
    doc = customer()
    doc["search_fields"] = ["name", "phone", "name"]

    assert problems_of(doc) == {"/search_fields/2": '"name" is listed twice'}


def test_manifest_needs_a_semantic_version_and_sane_dependency_ranges():
    manifest = {"name": "after_sales", "version": "1.0", "label": {"en": "After-sales"}}
    manifest["depends"] = {"crm": ">=1.0,<2", "billing": "latest"}

    problems = {p.path: p.message for p in structural_problems("package", manifest, "package.json")}

    assert set(problems) == {"/version", "/depends/billing"}
    assert "MAJOR.MINOR.PATCH" in problems["/version"]


def test_a_document_that_is_not_an_object_is_refused_at_the_root():
    assert problems_of(["customer"]) == {"": "must be an object, not a list"}


def test_every_schema_has_an_id_and_descriptions_for_editors():
    folder = resources.files("metadata") / "schema"
    for kind in KINDS:
        schema = json.loads((folder / f"{kind}.schema.json").read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == f"https://loom.dev/schema/{kind}.schema.json"
        assert schema["description"]
        for name, prop in schema.get("properties", {}).items():
            assert prop.get("description"), f"{kind}.{name} has no description"


def test_object_schema_uses_the_field_and_label_schemas():
    schema = schema_of("object")

    assert schema["properties"]["fields"]["items"] == {"$ref": "field.schema.json"}
    assert schema["properties"]["label"]["$ref"] == "label.schema.json"
    assert schema["properties"]["validation_rules"]["items"] == {"$ref": "validation_rule.schema.json"}


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown metadata kind 'widget'"):
        structural_problems("widget", {}, "widgets/x.json")
