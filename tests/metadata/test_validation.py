"""Validation catches what a schema cannot: names that must exist, be unique, or not be reserved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metadata.loading import Document, PackageSource, read_package
from metadata.problems import Problem
from metadata.specs import ObjectSpec
from metadata.validation import ExpressionSite, expressions_in, validate_object, validate_package

MANIFEST = {"name": "crm", "version": "1.0.0", "label": {"en": "CRM"}}
CRM_PACKAGE = Path(__file__).parents[2] / "metadata" / "packages" / "crm"


def obj(name: str, *fields: dict, **settings) -> dict:
    """A small object document; with no fields given it has a text field called `name`."""
    return {
        "name": name,
        "label": {"en": name.title()},
        **settings,
        "fields": list(fields) or [{"name": "name", "type": "text"}],
    }


def source(*objects: dict, manifest: dict | None = MANIFEST) -> PackageSource:
    documents = tuple(Document(f"objects/{doc['name']}.json", "object", doc) for doc in objects)
    return PackageSource(manifest, documents)


def problems(*objects: dict, **options) -> dict[tuple[str, str], str]:
    result = validate_package(source(*objects), **options)
    return {(problem.file, problem.path): problem.message for problem in result.problems}


def only_problem(*objects: dict, **options) -> Problem:
    [problem] = validate_package(source(*objects), **options).problems
    return problem


PAID = {
    "object": "payment",
    "via": "customer",
    "function": "sum",
    "field": "amount",
    "filter": "status == 'received'",
}
CUSTOMER = obj(
    "customer",
    {"name": "name", "type": "text"},
    {"name": "phone", "type": "phone"},
    {"name": "level", "type": "select", "options": [{"value": "vip"}, {"value": "normal"}]},
    {"name": "notes", "type": "long_text"},
    {"name": "paid", "type": "rollup", "source": PAID},
    title_field="name",
)
PAYMENT = obj(
    "payment",
    {"name": "customer", "type": "lookup", "target": "customer"},
    {"name": "amount", "type": "currency"},
    {"name": "status", "type": "select", "options": [{"value": "planned"}, {"value": "received"}]},
    {"name": "note", "type": "text"},
)


def test_valid_package_gives_its_manifest_and_objects():
    result = validate_package(source(CUSTOMER, PAYMENT))

    assert result.ok
    assert result.manifest.name == "crm"
    assert [spec.name for spec in result.objects] == ["customer", "payment"]
    assert result.objects[0].field("level").param("options")[0]["value"] == "vip"


def test_the_standard_crm_package_is_valid():
    result = validate_package(read_package(CRM_PACKAGE))

    assert [str(problem) for problem in result.problems] == []
    assert result.manifest.name == "crm"


def test_unknown_lookup_target_names_the_field():
    contact = obj("contact", {"name": "employer", "type": "lookup", "target": "custmer"})

    problem = only_problem(CUSTOMER, PAYMENT, contact)

    assert (problem.file, problem.path) == ("objects/contact.json", "/fields/0/target")
    assert problem.message == (
        "field 'employer' looks up object 'custmer', which is neither in this package nor installed"
        " (did you mean 'customer'?)"
    )


def test_lookup_may_target_an_installed_object_or_its_own_object():
    installed = {"customer": ObjectSpec.from_json(CUSTOMER), "payment": ObjectSpec.from_json(PAYMENT)}
    contact = obj(
        "contact",
        {"name": "customer", "type": "lookup", "target": "customer"},
        {"name": "manager", "type": "lookup", "target": "contact"},
    )

    assert validate_package(source(contact), installed=installed).ok


def test_object_must_live_in_a_file_named_after_it():
    doc = Document("objects/client.json", "object", CUSTOMER)

    result = validate_package(
        PackageSource(MANIFEST, (doc, Document("objects/payment.json", "object", PAYMENT)))
    )

    assert result.problems == [
        Problem("objects/client.json", "/name", "object 'customer' must be in a file named customer.json")
    ]


def test_an_object_defined_in_two_files_is_reported_at_the_second():
    docs = (
        Document("objects/customer.json", "object", CUSTOMER),
        Document("objects/payment.json", "object", PAYMENT),
        Document("objects/customer_copy.json", "object", CUSTOMER),
    )

    messages = [str(problem) for problem in validate_package(PackageSource(MANIFEST, docs)).problems]

    assert (
        "objects/customer_copy.json: /name: object 'customer' is already defined in objects/customer.json"
        in (messages)
    )


def test_field_defined_twice_points_at_the_second_definition():
    phone, email, phone_again = (
        {"name": "phone", "type": "phone"},
        {"name": "email", "type": "email"},
        {"name": "phone", "type": "text"},
    )
    doc = obj("lead", phone, email, phone_again)

    assert problems(doc) == {
        ("objects/lead.json", "/fields/2/name"): "field 'phone' is already defined at /fields/0"
    }


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("created_at", "'created_at' is a system field every record already has"),
        ("lambda", "'lambda' is a word of the expression language"),
        ("order", "'order' is a reserved SQL word"),
    ],
)
def test_reserved_field_names_are_refused_with_the_reason(name, reason):
    doc = obj("lead", {"name": "title", "type": "text"}, {"name": name, "type": "text"})

    assert problems(doc) == {("objects/lead.json", "/fields/1/name"): f"{reason}; choose another field name"}


@pytest.mark.parametrize("name", ["select", "loom_users"])
def test_reserved_object_names_are_refused(name):
    problem = only_problem(obj(name))

    assert problem.path == "/name"
    assert "choose another object name" in problem.message


def test_title_field_must_name_a_field():
    doc = obj("lead", {"name": "company", "type": "text"}, title_field="compnay")

    assert problems(doc) == {
        (
            "objects/lead.json",
            "/title_field",
        ): "title field: object 'lead' has no field 'compnay' (did you mean 'company'?)"
    }


def test_search_fields_must_be_stored_text():
    doc = {**CUSTOMER, "search_fields": ["name", "phone", "level", "paid"]}

    found = problems(doc, PAYMENT)

    assert set(found) == {
        ("objects/customer.json", "/search_fields/2"),
        ("objects/customer.json", "/search_fields/3"),
    }
    assert found[("objects/customer.json", "/search_fields/2")] == (
        "search field: 'level' is a select field, which cannot be used here"
    )


def test_unique_keys_cannot_use_computed_or_long_fields():
    doc = {**CUSTOMER, "unique_keys": [["name"], ["phone", "paid"], ["notes"]]}

    assert set(problems(doc, PAYMENT)) == {
        ("objects/customer.json", "/unique_keys/1/1"),
        ("objects/customer.json", "/unique_keys/2/0"),
    }


def test_kanban_groups_by_a_select_field():
    assert only_problem({**CUSTOMER, "kanban": {"group_by": "phone"}}, PAYMENT).message == (
        "kanban group: 'phone' is a phone field, which cannot be used here"
    )
    assert validate_package(source({**CUSTOMER, "kanban": {"group_by": "level"}}, PAYMENT)).ok


def test_list_may_show_system_fields_but_not_unknown_ones():
    listing = {"columns": ["name", "owner", "created_at", "levle"], "sort": ["-created_at", "-name"]}

    problem = only_problem({**CUSTOMER, "list": listing}, PAYMENT)

    assert problem.path == "/list/columns/3"
    assert "did you mean 'level'?" in problem.message


def test_a_home_section_shows_and_sorts_by_known_fields():
    home = {"filter": "owner == user()", "sort": ["-created_at", "levle"], "fields": ["phone", "fax"]}

    found = problems({**CUSTOMER, "home": home}, PAYMENT)

    assert set(found) == {
        ("objects/customer.json", "/home/sort/1"),
        ("objects/customer.json", "/home/fields/1"),
    }
    assert "did you mean 'level'?" in found[("objects/customer.json", "/home/sort/1")]
    assert validate_package(source({**CUSTOMER, "home": {"filter": "level == 'vip'"}}, PAYMENT)).ok
    assert only_problem({**CUSTOMER, "home": {"sort": ["name"]}}, PAYMENT).path == "/home"


def test_duplicate_rules_match_known_fields_and_normalize_only_what_they_match():
    rules = [
        {"name": "same_phone", "match": ["phone"], "normalize": {"phone": "phone", "name": "company_name"}},
        {"name": "same_phone", "match": ["fax"]},
    ]

    found = problems({**CUSTOMER, "duplicate_rules": rules}, PAYMENT)

    assert set(found) == {
        ("objects/customer.json", "/duplicate_rules/0/normalize/name"),
        ("objects/customer.json", "/duplicate_rules/1/name"),
        ("objects/customer.json", "/duplicate_rules/1/match/0"),
    }


def test_select_option_values_are_unique():
    stages = [{"value": "new"}, {"value": "won"}, {"value": "new"}]
    doc = obj("lead", {"name": "stage", "type": "select", "options": stages})

    assert problems(doc) == {
        ("objects/lead.json", "/fields/0/options/2/value"): "option value 'new' is already used by option 0"
    }


@pytest.mark.parametrize(("pattern", "found"), [("HT-{YYYY}", "none"), ("{YY}-{000}-{0000}", "2")])
def test_autonumber_has_exactly_one_counter(pattern, found):
    doc = obj("contract", {"name": "code", "type": "autonumber", "pattern": pattern})

    assert problems(doc) == {
        ("objects/contract.json", "/fields/0/pattern"): (
            f"needs exactly one counter token such as {{0000}}, found {found}"
        )
    }


def test_number_settings_must_make_sense_together():
    doc = obj(
        "product",
        {"name": "weight", "type": "decimal", "precision": 4},
        {"name": "stock", "type": "integer", "min": 10, "max": 0},
    )

    assert problems(doc) == {
        ("objects/product.json", "/fields/0/precision"): (
            "scale (6 unless set) cannot exceed precision (18 unless set)"
        ),
        ("objects/product.json", "/fields/1/max"): "max 0 is below min 10",
    }


def test_problems_come_in_the_order_the_files_read():
    fields = [{"name": f"f{i}", "type": "text"} for i in range(11)]
    fields[10]["name"] = "select"
    fields[2]["name"] = "from"
    lead = obj("lead", *fields, title_field="nope")

    result = validate_package(source(lead, obj("account", {"name": "id", "type": "text"})))

    assert [(p.file, p.path) for p in result.problems] == [
        ("objects/account.json", "/fields/0/name"),
        ("objects/lead.json", "/fields/2/name"),
        ("objects/lead.json", "/fields/10/name"),
        ("objects/lead.json", "/title_field"),
    ]


def test_rollup_source_object_must_exist():
    problem = only_problem(CUSTOMER)

    assert problem.path == "/fields/4/source/object"
    assert problem.message.startswith("rollup 'paid' reads object 'payment', which is neither")


def test_rollup_must_follow_a_lookup_back_to_this_object():
    not_a_lookup = {**PAYMENT, "fields": [{"name": "customer", "type": "text"}, *PAYMENT["fields"][1:]]}
    elsewhere = {**PAYMENT, "fields": [{**PAYMENT["fields"][0], "target": "payment"}, *PAYMENT["fields"][1:]]}

    assert only_problem(CUSTOMER, not_a_lookup).message == "payment.customer is a text field, not a lookup"
    assert only_problem(CUSTOMER, elsewhere).message == (
        "payment.customer looks up 'payment', not 'customer', so rollup 'paid' cannot follow it back here"
    )


def test_rollup_sum_needs_a_numeric_field_that_exists():
    def summing(field: str) -> dict:
        rollup = {"name": "paid", "type": "rollup", "source": {**PAID, "field": field}}
        return {**CUSTOMER, "fields": [*CUSTOMER["fields"][:4], rollup]}

    summing_text, missing = summing("note"), summing("amout")

    assert (
        only_problem(summing_text, PAYMENT).message == "sum needs numbers, but payment.note is a text field"
    )
    assert only_problem(missing, PAYMENT).message == (
        "object 'payment' has no field 'amout' (did you mean 'amount'?)"
    )


def test_a_broken_object_is_reported_once_not_again_by_everything_that_refers_to_it():
    broken_payment = {**PAYMENT, "label": "Payment"}

    result = validate_package(source(CUSTOMER, broken_payment))

    assert [(p.file, p.path) for p in result.problems] == [("objects/payment.json", "/label")]
    assert [spec.name for spec in result.objects] == ["customer"]


def test_schema_problems_stop_the_semantic_checks_of_that_document():
    doc = obj("lead", {"name": "phone", "type": "phone", "colour": "red"}, {"name": "phone", "type": "phone"})

    assert list(problems(doc)) == [("objects/lead.json", "/fields/0/colour")]


@pytest.mark.parametrize(
    ("folder", "kind"),
    [
        ("data", "data"),
        ("i18n", "i18n"),
    ],
)
def test_later_document_kinds_are_not_supported_yet(folder, kind):
    package = PackageSource(MANIFEST, (Document(f"{folder}/customer.json", kind, {"object": "customer"}),))

    assert validate_package(package).problems == [
        Problem(f"{folder}/customer.json", "", f"{folder}/ documents are not supported yet")
    ]


def test_manifest_problems_are_reported_against_package_json():
    result = validate_package(source(CUSTOMER, PAYMENT, manifest={**MANIFEST, "depends": {"crm": ">=1.0"}}))

    assert result.manifest is None
    assert [str(p) for p in result.problems] == [
        "package.json: /depends/crm: a package cannot depend on itself"
    ]


def test_a_package_without_manifest_is_not_valid():
    assert [str(p) for p in validate_package(source(CUSTOMER, PAYMENT, manifest=None)).problems] == [
        "package.json: /: missing: every package needs a package.json"
    ]


def test_validate_object_checks_one_document_against_known_objects():
    known = {"payment": ObjectSpec.from_json(PAYMENT)}

    assert validate_object(CUSTOMER, "objects/customer.json", known_objects=known).ok
    result = validate_object(CUSTOMER, "objects/customer.json")
    assert [problem.path for problem in result.problems] == ["/fields/4/source/object"]
    assert validate_object({"name": "x"}, "draft").objects == ()


def test_expressions_are_listed_with_their_path_and_the_object_their_names_refer_to():
    doc = obj(
        "customer",
        {"name": "level", "type": "select", "default": "'normal'", "options": [{"value": "normal"}]},
        {"name": "silent", "type": "formula", "expression": "days_since(updated_at)", "result": "integer"},
        CUSTOMER["fields"][4],
    )

    assert expressions_in(ObjectSpec.from_json(doc)) == [
        ExpressionSite("/fields/0/default", "'normal'", "customer", "customer", "default"),
        ExpressionSite("/fields/1/expression", "days_since(updated_at)", "customer", "customer", "formula"),
        ExpressionSite(
            "/fields/2/source/filter", "status == 'received'", "customer", "payment", "rollup_filter"
        ),
    ]


def test_problems_read_as_file_path_and_message(tmp_path):
    folder = tmp_path / "crm"
    (folder / "objects").mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    (folder / "objects/lead.json").write_text(json.dumps(obj("lead", {"name": "from", "type": "text"})))

    assert [str(p) for p in validate_package(read_package(folder)).problems] == [
        "objects/lead.json: /fields/0/name: 'from' is a word of the expression language;"
        " choose another field name"
    ]
