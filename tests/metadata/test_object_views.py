"""An object's colour, menu section, kanban card fields and related lists: each bad value is named
at its JSON path."""

from __future__ import annotations

from metadata.loading import read_package
from metadata.specs import ObjectSpec
from metadata.validation import validate_object, validate_package
from tests.metadata.test_validation import CRM_PACKAGE, obj, problems

CUSTOMER = obj(
    "customer",
    {"name": "name", "type": "text"},
    {"name": "phone", "type": "phone"},
    {"name": "stage", "type": "select", "options": [{"value": "new"}, {"value": "won"}]},
    {"name": "parent", "type": "lookup", "target": "customer"},
    title_field="name",
)
CONTACT = obj(
    "contact",
    {"name": "name", "type": "text"},
    {"name": "phone", "type": "phone"},
    {"name": "customer", "type": "lookup", "target": "customer"},
    {"name": "referrer", "type": "lookup", "target": "contact"},
)


def customer(**settings) -> dict:
    return {**CUSTOMER, **settings}


def test_colour_is_one_of_the_palette():
    assert not problems(customer(color="teal"), CONTACT)
    found = problems(customer(color="pink"), CONTACT)
    assert list(found) == [("objects/customer.json", "/color")]
    assert "blue" in found[("objects/customer.json", "/color")]


def test_menu_section_is_a_label():
    assert not problems(customer(nav_group={"zh_CN": "销售", "en": "Sales"}), CONTACT)
    assert list(problems(customer(nav_group="销售"), CONTACT)) == [("objects/customer.json", "/nav_group")]
    assert list(problems(customer(nav_group={}), CONTACT)) == [("objects/customer.json", "/nav_group")]


def test_kanban_cards_show_at_most_four_known_fields():
    good = customer(kanban={"group_by": "stage", "card_fields": ["phone", "owner", "parent"]})
    assert not problems(good, CONTACT)
    unknown = customer(kanban={"group_by": "stage", "card_fields": ["phone", "phon"]})
    found = problems(unknown, CONTACT)
    assert list(found) == [("objects/customer.json", "/kanban/card_fields/1")]
    assert "did you mean 'phone'" in found[("objects/customer.json", "/kanban/card_fields/1")]
    many = customer(
        kanban={"group_by": "stage", "card_fields": ["name", "phone", "stage", "parent", "owner"]}
    )
    assert list(problems(many, CONTACT)) == [("objects/customer.json", "/kanban/card_fields")]


def test_related_lists_name_a_child_its_lookup_here_and_the_childs_columns():
    good = customer(
        related_lists=[
            {"object": "contact", "via": "customer", "columns": ["name", "phone", "created_at"]},
            {"object": "customer", "via": "parent", "label": {"zh_CN": "下级客户"}},
        ]
    )
    assert not problems(good, CONTACT)
    bad = customer(
        related_lists=[
            {"object": "contakt", "via": "customer"},
            {"object": "contact", "via": "phone"},
            {"object": "contact", "via": "referrer"},
            {"object": "contact", "via": "nobody"},
            {"object": "contact", "via": "customer", "columns": ["name", "fax"]},
            {"object": "contact", "via": "customer"},
        ]
    )
    found = {path: message for (_file, path), message in problems(bad, CONTACT).items()}
    assert list(found) == [
        "/related_lists/0/object",
        "/related_lists/1/via",
        "/related_lists/2/via",
        "/related_lists/3/via",
        "/related_lists/4/columns/1",
        "/related_lists/5/via",
    ]
    assert "did you mean 'contact'" in found["/related_lists/0/object"]
    assert "not a lookup" in found["/related_lists/1/via"]
    assert "looks up 'contact', not 'customer'" in found["/related_lists/2/via"]
    assert "no field 'nobody'" in found["/related_lists/3/via"]
    assert "no field 'fax'" in found["/related_lists/4/columns/1"]
    assert "already listed at /related_lists/4" in found["/related_lists/5/via"]


def test_related_lists_shape_is_checked_by_the_schema():
    shapes = [
        ([{"object": "contact"}], "/related_lists/0"),
        ([{"object": "contact", "via": "customer", "columns": []}], "/related_lists/0/columns"),
        ([{"object": "contact", "via": "customer", "extra": 1}], "/related_lists/0/extra"),
        ({"object": "contact"}, "/related_lists"),
    ]
    for value, path in shapes:
        result = validate_object(customer(related_lists=value), "objects/customer.json")
        assert [problem.path for problem in result.problems] == [path], value


def test_one_object_checks_its_related_lists_against_the_installed_objects():
    installed = {"contact": ObjectSpec.from_json(CONTACT)}
    doc = customer(related_lists=[{"object": "contact", "via": "customer", "columns": ["fax"]}])
    result = validate_object(doc, "objects/customer.json", known_objects=installed)
    assert [problem.path for problem in result.problems] == ["/related_lists/0/columns/0"]


def test_the_crm_package_sets_colours_sections_cards_and_related_lists_that_validate():
    result = validate_package(read_package(CRM_PACKAGE))
    assert result.ok, result.problems
    extras = {spec.name: spec.extra for spec in result.objects}
    assert all(extra.get("color") and extra.get("nav_group") for extra in extras.values())
    assert extras["service_ticket"]["nav_group"]["zh_CN"] == "服务"
    assert {
        extras[name]["nav_group"]["zh_CN"] for name in ("lead", "customer", "contact", "opportunity")
    } == {"销售"}
    assert {
        extras[name]["nav_group"]["zh_CN"] for name in ("quote", "contract", "sales_order", "payment")
    } == {"交易"}
