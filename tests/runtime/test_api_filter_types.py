"""Filters and sorts typed by callers: what cannot select records is a 400 naming the problem, on both
databases, never a server error (and never a silent "no rows" on one database and an error on the other)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from engine.loom import Loom
from engine.schema.changes import apply_objects
from metadata.specs import ObjectSpec
from tests.runtime.api_world import Api, error_of


@pytest.fixture
def api(crm: Loom) -> Api:
    world = Api(crm)
    world.person("admin", ["admin"])
    world.create("customer", {"name": "上海云杉科技有限公司", "interested_categories": []})
    return world


def filtered(api: Api, expression: str):  # type: ignore[no-untyped-def]
    return api.get(f"/records/customer?filter={quote(expression, safe='')}")


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("upper(name)", "must be true or false, but upper(name) gives text"),
        ('name if name else "x"', "gives text"),
        ("1e308 * 10", "gives number"),
        ("annual_purchase", "gives number"),
        ("tags", "len(tags) > 0"),
    ],
)
def test_a_filter_that_is_not_true_or_false_is_a_400_saying_what_it_gives(api: Api, expression, says) -> None:
    response = filtered(api, expression)
    assert response.status_code == 400
    assert says in error_of(response)["message"]


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("1 / 0 == 1", "division by zero"),
        ("2 ** 100000000 > 1", "exponent is larger than 1000"),
        ('"a" * 10**10 == name', "longer than 10000"),
        ("name > 5", "cannot compare text with number using >"),
        ("name + 1 == 2", "cannot use + on text and number"),
        ("days_since(name) > 3", "days_since() expects date or datetime"),
    ],
)
def test_a_filter_that_fails_for_every_record_is_a_400_naming_the_part(api: Api, expression, says) -> None:
    response = filtered(api, expression)
    assert response.status_code == 400
    assert says in error_of(response)["message"]


def test_a_boolean_field_or_a_negation_is_a_filter(api: Api) -> None:
    assert len(filtered(api, "not in_pool").get_json()["data"]) == 1
    assert filtered(api, "in_pool").get_json()["data"] == []
    assert len(filtered(api, "not tags").get_json()["data"]) == 1


def test_thirty_nested_isblank_is_refused_with_a_message_not_a_database_error(api: Api) -> None:
    response = filtered(api, "isblank(" * 30 + "name" + ")" * 30)
    assert response.status_code == 400
    assert "nested too deeply for the database" in error_of(response)["message"]
    # Shallower nesting still runs, with Python's meaning: isblank(isblank(name)) is False.
    assert filtered(api, "isblank(isblank(name))").get_json()["data"] == []


@pytest.mark.parametrize(
    "number", ["99999999999999999999999", "18446744073709551616", "-9223372036854775809"]
)
def test_a_number_beyond_64_bits_in_a_filter_is_a_400(api: Api, number: str) -> None:
    response = filtered(api, f"annual_purchase > {number}")
    assert response.status_code == 400
    assert "too large for the database" in error_of(response)["message"]


def test_a_number_beyond_64_bits_in_a_body_is_refused(api: Api) -> None:
    for field, value in (("annual_purchase", 2**70), ("score", 2**64)):
        target = "customer" if field == "annual_purchase" else "lead"
        response = api.post(f"/records/{target}", json={"name": "x", field: value})
        assert response.status_code in (400, 422), response.get_json()
        assert field in str(error_of(response))


@pytest.mark.parametrize("sort", [",", "%20", "%0A", ",,", " , "])
def test_an_empty_sort_key_means_the_default_order(api: Api, sort: str) -> None:
    response = api.get(f"/records/customer?sort={sort}")
    assert response.status_code == 200
    assert len(response.get_json()["data"]) == 1


def test_sorting_by_a_formula_whose_value_is_a_constant_works_and_pages(api: Api) -> None:
    spec = api.loom.registry.object("customer").spec.to_json()
    spec["fields"].append(
        {"name": "always_no", "type": "formula", "label": {"zh_CN": "否", "en": "No"},
         "expression": "False", "result": "boolean"}
    )  # fmt: skip
    apply_objects(api.loom, [ObjectSpec.from_json(spec)])
    api.create("customer", {"name": "北京第二客户", "interested_categories": []})
    for sort in ("always_no", "-always_no"):
        first = api.get(f"/records/customer?sort={sort}&limit=1")
        assert first.status_code == 200, first.get_json()
        cursor = first.get_json()["next_cursor"]
        second = api.get(f"/records/customer?sort={sort}&limit=1&cursor={cursor}")
        assert second.status_code == 200
        ids = {first.get_json()["data"][0]["id"], second.get_json()["data"][0]["id"]}
        assert len(ids) == 2
