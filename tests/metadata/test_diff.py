"""Diffs address fields and options by their stable names, so moving one is not a rewrite."""

from __future__ import annotations

import copy

from metadata.diff import Change, diff_documents, value_at
from metadata.specs import ObjectSpec

CUSTOMER = {
    "name": "customer",
    "label": {"zh_CN": "客户", "en": "Customer"},
    "search_fields": ["name"],
    "fields": [
        {"name": "name", "type": "text", "label": {"en": "Name"}},
        {"name": "phone", "type": "phone", "label": {"en": "Phone"}},
        {
            "name": "level",
            "type": "select",
            "options": [{"value": "vip", "color": "#dc2626"}, {"value": "normal", "color": "#64748b"}],
        },
    ],
}


def edited(change) -> dict:
    doc = copy.deepcopy(CUSTOMER)
    change(doc)
    return doc


def test_identical_documents_have_no_changes():
    assert diff_documents(CUSTOMER, copy.deepcopy(CUSTOMER)) == []


def test_diff_keys_fields_by_name():
    def relabel_phone(doc):
        doc["fields"][1]["label"]["en"] = "Mobile"

    assert diff_documents(CUSTOMER, edited(relabel_phone)) == [
        Change("change", "/fields/@phone/label/en", "Phone", "Mobile")
    ]


def test_moving_a_field_is_one_order_change_not_a_rewrite_of_every_field():
    def move_phone_first(doc):
        doc["fields"].insert(0, doc["fields"].pop(1))

    assert diff_documents(CUSTOMER, edited(move_phone_first)) == [
        Change("change", "/fields/#order", ["name", "phone", "level"], ["phone", "name", "level"])
    ]


def test_adding_a_field_at_the_end_is_just_an_add():
    email = {"name": "email", "type": "email"}

    assert diff_documents(CUSTOMER, edited(lambda doc: doc["fields"].append(email))) == [
        Change("add", "/fields/@email", None, email)
    ]


def test_inserting_a_field_in_the_middle_also_records_the_new_order():
    email = {"name": "email", "type": "email"}

    changes = diff_documents(CUSTOMER, edited(lambda doc: doc["fields"].insert(1, email)))

    assert changes == [
        Change("add", "/fields/@email", None, email),
        Change("change", "/fields/#order", ["name", "phone", "level"], ["name", "email", "phone", "level"]),
    ]


def test_removing_a_field_carries_what_was_removed():
    assert diff_documents(CUSTOMER, edited(lambda doc: doc["fields"].pop(1))) == [
        Change("remove", "/fields/@phone", CUSTOMER["fields"][1], None)
    ]


def test_options_are_keyed_by_value():
    def recolour_and_drop(doc):
        options = doc["fields"][2]["options"]
        options[0]["color"] = "#b91c1c"
        del options[1]

    assert diff_documents(CUSTOMER, edited(recolour_and_drop)) == [
        Change("change", "/fields/@level/options/@vip/color", "#dc2626", "#b91c1c"),
        Change("remove", "/fields/@level/options/@normal", {"value": "normal", "color": "#64748b"}, None),
    ]


def test_lists_without_stable_names_are_compared_whole():
    def search_phone_too(doc):
        doc["search_fields"] = ["name", "phone"]

    assert diff_documents(CUSTOMER, edited(search_phone_too)) == [
        Change("change", "/search_fields", ["name"], ["name", "phone"])
    ]


def test_new_and_deleted_documents_are_one_change_each():
    assert diff_documents(None, CUSTOMER) == [Change("add", "", None, CUSTOMER)]
    assert diff_documents(CUSTOMER, None) == [Change("remove", "", CUSTOMER, None)]
    assert diff_documents(None, None) == []


def test_true_is_not_the_same_as_one():
    old = {"name": "x", "fields": [{"name": "a", "type": "integer", "default": 1}]}
    new = {"name": "x", "fields": [{"name": "a", "type": "integer", "default": True}]}

    assert diff_documents(old, new) == [Change("change", "/fields/@a/default", 1, True)]


def test_frozen_specs_diff_like_their_documents():
    old = ObjectSpec.from_json(CUSTOMER).to_json()
    new = edited(lambda doc: doc["label"].update(en="Client"))

    assert diff_documents(old, ObjectSpec.from_json(new).to_json()) == [
        Change("change", "/label/en", "Customer", "Client")
    ]


def test_every_change_path_leads_to_its_values():
    def many_edits(doc):
        doc["fields"].insert(0, doc["fields"].pop(2))
        doc["fields"][0]["options"][1]["color"] = "#000000"
        doc["fields"][2]["label"] = {"en": "Mobile", "zh_CN": "手机"}
        doc["label/short"] = "C"

    new = edited(many_edits)
    changes = diff_documents(CUSTOMER, new)

    assert {change.path for change in changes} == {
        "/fields/#order",
        "/fields/@level/options/@normal/color",
        "/fields/@phone/label/en",
        "/fields/@phone/label/zh_CN",
        "/label~1short",
    }
    for change in changes:
        if change.op != "add":
            assert value_at(CUSTOMER, change.path) == change.old
        if change.op != "remove":
            assert value_at(new, change.path) == change.new
