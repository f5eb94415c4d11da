"""What field types say about field definitions, and the computed and numbered types."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.fieldtypes import autonumber_period, builtin_field_types, format_autonumber
from engine.fieldtypes.registry import FieldTypeRegistry
from metadata.specs import ObjectSpec, thaw
from tests.engine.field_values import LEVELS, TYPES, as_json, field, refusal

ALL_TYPES = {
    "text", "long_text", "email", "phone", "url", "integer", "decimal", "currency", "percent", "boolean",
    "date", "datetime", "select", "multi_select", "tags", "lookup", "user", "formula", "rollup", "autonumber",
    "attachment",
}  # fmt: skip


def obj(name: str, *fields: dict[str, Any]) -> ObjectSpec:
    return ObjectSpec.from_json({"name": name, "label": {"en": name}, "fields": list(fields)})


CUSTOMER = obj("customer", {"name": "name", "type": "text"})
OPPORTUNITY = obj(
    "opportunity",
    {"name": "customer", "type": "lookup", "target": "customer"},
    {"name": "lead", "type": "lookup", "target": "lead"},
    {"name": "amount", "type": "currency"},
    {"name": "close_date", "type": "date"},
    {"name": "stage", "type": "select", **LEVELS},
    {"name": "weighted", "type": "formula", "expression": "amount", "result": "currency"},
)
OBJECTS = {"customer": CUSTOMER, "opportunity": OPPORTUNITY}


def problems(type_name: str, **params: Any) -> list[str]:
    return TYPES.get(type_name).check_spec(field(type_name, **params), CUSTOMER, OBJECTS)


def rollup(function: str, **source: Any) -> dict[str, Any]:
    return {"source": {"object": "opportunity", "via": "customer", "function": function, **source}}


def test_builtin_registry_holds_every_type_of_the_format() -> None:
    assert set(builtin_field_types().names()) == ALL_TYPES


def test_a_plugin_registry_gets_the_builtins_through_register_builtin() -> None:
    from engine.fieldtypes import register_builtin

    registry = FieldTypeRegistry()
    register_builtin(registry)
    assert "currency" in registry and registry.get("lookup").indexed_by_default


def test_lookup_target_must_be_an_object() -> None:
    assert problems("lookup", target="opportunity") == []
    assert problems("lookup", target="customer") == []  # itself
    assert problems("lookup", target="vendor") == ["lookup target 'vendor' is not an object"]


def test_select_options_must_be_present_and_unique() -> None:
    assert problems("select", **LEVELS) == []
    assert problems("multi_select", options=[]) == ["needs at least one option"]
    doubled = {"options": [{"value": "a"}, {"value": "b"}, {"value": "a"}]}
    assert problems("select", **doubled) == ["option value 'a' appears more than once"]


def test_decimal_scale_may_not_exceed_precision_and_min_not_max() -> None:
    assert problems("decimal", precision=10, scale=4) == []
    assert problems("decimal", precision=4, scale=6) == ["scale (6) must not be greater than precision (4)"]
    assert problems("integer", min=10, max=1) == ["min (10) must not be greater than max (1)"]


def test_text_pattern_must_be_a_valid_regular_expression() -> None:
    assert problems("text", pattern="[A-Z]+") == []
    assert problems("text", pattern="[A-Z")[0].startswith("pattern '[A-Z' is not a valid regular expression")


def test_autonumber_pattern_needs_exactly_one_counter_and_known_tokens() -> None:
    assert problems("autonumber", pattern="HT-{YYYY}{MM}-{0000}") == []
    assert problems("autonumber", pattern="HT-{YYYY}") == [
        "pattern needs exactly one counter like {0000} (found 0)"
    ]
    assert "found 2" in problems("autonumber", pattern="{000}-{0000}")[0]
    assert problems("autonumber", pattern="HT-{Q}-{00}") == ["pattern has an unknown token {Q}"]


def test_rollup_source_must_look_up_this_object() -> None:
    assert problems("rollup", **rollup("count")) == []
    assert problems("rollup", **rollup("sum", field="amount")) == []
    assert problems("rollup", source={"object": "invoice", "via": "customer", "function": "count"}) == [
        "rollup source object 'invoice' does not exist"
    ]
    assert problems("rollup", **rollup("count", via="owner_name")) == [
        "rollup via 'owner_name' is not a field of opportunity"
    ]
    assert problems("rollup", **rollup("count", via="amount")) == [
        "rollup via 'amount' must be a lookup field (it is currency)"
    ]
    assert problems("rollup", **rollup("count", via="lead")) == [
        "rollup via 'lead' must look up customer (it looks up lead)"
    ]


def test_rollup_aggregates_only_fields_it_can_add_up_or_compare() -> None:
    assert problems("rollup", **rollup("max", field="close_date")) == []
    assert problems("rollup", **rollup("sum", field="close_date")) == [
        "rollup sum needs a stored number field ('close_date' is date)"
    ]
    assert problems("rollup", **rollup("min", field="stage")) == [
        "rollup min needs a stored number or date field ('stage' is select)"
    ]
    assert problems("rollup", **rollup("avg", field="weighted")) == [
        "rollup avg needs a stored number field ('weighted' is formula)"
    ]
    assert problems("rollup", **rollup("sum", field="nothing")) == [
        "rollup field 'nothing' is not a field of opportunity"
    ]


def test_rollup_of_the_latest_date_is_a_date() -> None:
    rollup_type = TYPES.get("rollup")
    assert rollup_type.value_kind_for(field("rollup", **rollup("max", field="close_date")), OBJECTS) == "date"
    assert rollup_type.value_kind_for(field("rollup", **rollup("count")), OBJECTS) == "number"


EXAMPLE_PARAMS = {
    "text": {"max_length": 200, "pattern": "^[A-Z]+$"},
    "long_text": {"max_length": 5000},
    "integer": {"min": 0, "max": 10},
    "decimal": {"precision": 12, "scale": 4, "min": 0.5},
    "currency": {"currency": "USD", "scale": 2, "min": 0},
    "percent": {"scale": 1, "max": 100},
    "select": LEVELS,
    "multi_select": {"options": [{"value": "a", "label": {"zh_CN": "甲"}, "color": "#e11d48"}]},
    "tags": {"suggestions": ["vip"]},
    "lookup": {"target": "customer", "on_delete": "restrict"},
    "formula": {"expression": "amount * 2", "result": "currency"},
    "rollup": rollup("sum", field="amount", filter="stage == 'won'"),
    "autonumber": {"pattern": "HT-{YYYY}-{0000}"},
    "attachment": {"multiple": True, "max_size_mb": 20, "accept": [".pdf", "image/*"]},
}


@pytest.mark.parametrize("type_name", sorted(ALL_TYPES))
def test_params_schema_accepts_the_documented_settings(type_name: str) -> None:
    schema = TYPES.get(type_name).params_schema
    Draft202012Validator.check_schema(schema)
    params = thaw(field(type_name, **EXAMPLE_PARAMS.get(type_name, {})).params)
    assert list(Draft202012Validator(schema).iter_errors(params)) == []


@pytest.mark.parametrize(
    ("type_name", "params"),
    [
        ("text", {"max_lenght": 10}),
        ("select", {}),
        ("lookup", {"on_delete": "cascade", "target": "customer"}),
        ("formula", {"expression": "1", "result": "select"}),
        ("rollup", {"source": {"object": "o", "via": "v", "function": "sum"}}),  # sum needs a field
        ("currency", {"currency": "yuan"}),
        ("email", {"max_length": 10}),
    ],
)
def test_params_schema_refuses_typos_and_wrong_settings(type_name: str, params: dict[str, Any]) -> None:
    assert list(Draft202012Validator(TYPES.get(type_name).params_schema).iter_errors(params))


def test_formula_and_rollup_cannot_be_set() -> None:
    formula = {"expression": "1", "result": "integer"}
    assert refusal("formula", 5, **formula) == "is computed and cannot be set"
    assert refusal("rollup", "3", "csv", **rollup("count")) == "is computed and cannot be set"


def test_formula_shows_its_value_as_its_result_type() -> None:
    assert as_json("formula", Decimal("1169.55"), expression="price", result="currency") == "1169.55"
    assert as_json("formula", date(2026, 11, 26), expression="today()", result="date") == "2026-11-26"
    assert as_json("formula", 3.0, expression="1", result="integer") == 3
    formula_type = TYPES.get("formula")
    assert formula_type.value_kind_for(field("formula", expression="x", result="boolean")) == "boolean"
    assert formula_type.value_kind_for(field("formula", expression="x", result="decimal")) == "number"
    assert problems("formula", expression="1", result="money")[0].startswith("formula result must be one of")


def test_rollup_shows_sums_of_money_as_exact_strings() -> None:
    assert as_json("rollup", Decimal("2599.00"), **rollup("sum", field="amount")) == "2599.00"
    assert as_json("rollup", 4, **rollup("count")) == 4


def test_autonumber_pattern_restarts_each_year() -> None:
    pattern = "HT-{YYYY}-{0000}"
    december, january = datetime(2026, 12, 31, 23, 59), datetime(2027, 1, 1, 0, 0)
    assert autonumber_period(pattern, december) == "2026"
    assert autonumber_period(pattern, january) == "2027"
    assert autonumber_period(pattern, datetime(2026, 1, 1)) == autonumber_period(pattern, december)
    assert format_autonumber(pattern, december, 37) == "HT-2026-0037"
    assert format_autonumber(pattern, january, 1) == "HT-2027-0001"


def test_autonumber_period_follows_the_finest_date_token() -> None:
    now = datetime(2026, 11, 5)
    assert autonumber_period("GX-{YY}{MM}-{000}", now) == "2611"
    assert autonumber_period("D{YYYY}{MM}{DD}{000}", now) == "20261105"
    assert autonumber_period("C-{00000}", now) == ""  # never restarts
    assert format_autonumber("GX-{YY}{MM}-{000}", now, 1) == "GX-2611-001"


def test_autonumber_counter_is_padded_but_never_cut() -> None:
    assert format_autonumber("{00}", datetime(2026, 1, 1), 123) == "123"
    with pytest.raises(ValueError):
        format_autonumber("HT-{YYYY}", datetime(2026, 1, 1), 1)


def test_autonumber_cannot_be_typed() -> None:
    assert refusal("autonumber", "HT-2026-0001", "csv", pattern="HT-{YYYY}-{0000}") == (
        "is numbered automatically and cannot be set (got 'HT-2026-0001')"
    )
