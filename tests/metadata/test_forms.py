"""Forms as metadata: the JSON round trip, the generated default form, and every check with its path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metadata.forms import FormField, FormSection, FormSpec, default_form
from metadata.loading import Document, PackageSource
from metadata.problems import Problem
from metadata.specs import ObjectSpec
from metadata.validation import validate_form, validate_package

CRM = Path(__file__).resolve().parents[2] / "metadata" / "packages" / "crm"
MANIFEST = {"name": "shop", "version": "1.0.0", "label": {"en": "Shop"}}
CUSTOMER = ObjectSpec.from_json(
    {
        "name": "customer",
        "label": {"zh_CN": "客户", "en": "Customer"},
        "fields": [
            {"name": "name", "type": "text", "required": True},
            {"name": "lifecycle", "type": "select", "options": [{"value": "lead"}, {"value": "lost"}]},
            {"name": "days_silent", "type": "formula", "result": "integer", "expression": "1"},
            {"name": "lost_reason", "type": "long_text"},
        ],
    }
)
KNOWN = {"customer": CUSTOMER}


def form(*sections: dict, name: str = "customer", object: str = "customer") -> dict:
    return {"name": name, "object": object, "sections": list(sections)}


def section(*fields: str | dict, **keys: object) -> dict:
    return {"label": {"zh_CN": "基本信息", "en": "Basics"}, **keys, "fields": list(fields)}


@pytest.mark.parametrize("file", sorted((CRM / "forms").glob("*.json")), ids=lambda p: p.stem)
def test_every_crm_form_writes_back_exactly_as_it_was_written(file: Path) -> None:
    doc = json.loads(file.read_text(encoding="utf-8"))
    doc.pop("$schema")

    assert FormSpec.from_json(doc).to_json() == doc


def test_a_plain_field_name_stays_plain_and_an_object_entry_stays_an_object() -> None:
    doc = form(
        section(
            "name", {"field": "lifecycle"}, {"field": "lost_reason", "required_if": "lifecycle == 'lost'"}
        )
    )
    spec = FormSpec.from_json(doc)

    assert spec.sections[0].fields == (
        FormField("name"),
        FormField("lifecycle"),
        FormField("lost_reason", required_if="lifecycle == 'lost'"),
    )
    assert spec.sections[0].columns == 2
    assert spec.to_json() == doc


def test_a_form_built_in_code_writes_fields_without_conditions_as_names() -> None:
    spec = FormSpec(
        "customer",
        "customer",
        (FormSection({"en": "Basics"}, (FormField("name"), FormField("lost_reason", visible_if="True")), 3),),
    )

    assert spec.to_json()["sections"] == [
        {
            "label": {"en": "Basics"},
            "columns": 3,
            "fields": ["name", {"field": "lost_reason", "visible_if": "True"}],
        }
    ]


def test_the_default_form_lists_every_field_in_order_with_computed_fields_last() -> None:
    spec = default_form(CUSTOMER)

    assert spec.object == "customer"
    assert spec.field_names == ("name", "lifecycle", "lost_reason", "days_silent")
    assert [s.columns for s in spec.sections] == [2]


def test_a_valid_form_has_no_problems() -> None:
    doc = form(
        section("name", "lifecycle"), section({"field": "lost_reason", "required_if": "lifecycle == 'lost'"})
    )

    result = validate_form(doc, "forms/customer.json", known_objects=KNOWN)

    assert result.problems == []
    assert result.forms == (FormSpec.from_json(doc),)


@pytest.mark.parametrize(
    ("doc", "path", "message"),
    [
        (form(section("name", columns=5)), "/sections/0/columns", "must be at most 4, not 5"),
        (form(section("name", columns=0)), "/sections/0/columns", "must be at least 1, not 0"),
        (form(section()), "/sections/0/fields", "must not be empty"),
        (
            form(section({"field": "name", "hidden_if": "True"})),
            "/sections/0/fields/0/hidden_if",
            "unknown key",
        ),
        (
            form(section({"field": "name", "visible_if": ""})),
            "/sections/0/fields/0/visible_if",
            "must not be empty",
        ),
        (form(section("Name")), "/sections/0/fields/0", "is not valid"),
        (form(), "/sections", "must not be empty"),
    ],
)
def test_structural_problems_are_reported_at_their_path(doc: dict, path: str, message: str) -> None:
    problems = validate_form(doc, "forms/customer.json", known_objects=KNOWN).problems

    assert [p.path for p in problems] == [path]
    assert message in problems[0].message


def test_an_unknown_object_is_reported_at_object() -> None:
    problems = validate_form(
        form(section("name"), object="custmer"), "forms/customer.json", known_objects=KNOWN
    )

    assert [(p.path, p.message) for p in problems.problems] == [
        (
            "/object",
            "form 'customer' edits object 'custmer', which is neither in this package nor installed"
            " (did you mean 'customer'?)",
        )
    ]


def test_an_unknown_field_is_reported_where_it_is_named() -> None:
    doc = form(section("name", "nmae"), section({"field": "lost_reasons", "visible_if": "True"}))

    problems = validate_form(doc, "forms/customer.json", known_objects=KNOWN).problems

    assert [(p.path, p.message) for p in problems] == [
        ("/sections/0/fields/1", "object 'customer' has no field 'nmae' (did you mean 'name'?)"),
        (
            "/sections/1/fields/0/field",
            "object 'customer' has no field 'lost_reasons' (did you mean 'lost_reason'?)",
        ),
    ]


def test_a_field_placed_twice_is_reported_at_its_second_place() -> None:
    doc = form(section("name", "lifecycle"), section({"field": "name", "readonly_if": "True"}))

    problems = validate_form(doc, "forms/customer.json", known_objects=KNOWN).problems

    assert problems == [
        Problem(
            "forms/customer.json",
            "/sections/1/fields/0/field",
            "field 'name' is already on the form at /sections/0/fields/0",
        )
    ]


def test_system_fields_may_be_placed_on_a_form() -> None:
    assert (
        validate_form(form(section("name", "owner", "created_at")), "f", known_objects=KNOWN).problems == []
    )


def test_a_package_validates_its_forms_and_names_their_files() -> None:
    documents = (
        Document("objects/customer.json", "object", CUSTOMER.to_json()),
        Document("forms/customer.json", "form", form(section("name"))),
        Document("forms/quick.json", "form", form(section("name", "name"), name="quick_entry")),
    )

    result = validate_package(PackageSource(MANIFEST, documents))

    assert [f.name for f in result.forms] == ["customer", "quick_entry"]
    assert [(p.file, p.path) for p in result.problems] == [
        ("forms/quick.json", "/name"),
        ("forms/quick.json", "/sections/0/fields/1"),
    ]


def public(*sections: dict, **keys: object) -> dict:
    return {**form(*sections, name="web_customer"), "public": {"title": {"zh_CN": "联系我们"}, **keys}}


def test_a_public_form_round_trips_and_fills_in_default_limits() -> None:
    doc = public(
        section("name", "lost_reason"),
        intro={"zh_CN": "请留下联系方式"},
        consent={"zh_CN": "我同意隐私政策"},
        values={"lifecycle": "lead"},
        limits={"per_address": 2},
    )
    result = validate_form(doc, "forms/web_customer.json", known_objects=KNOWN)
    assert result.problems == []
    [spec] = result.forms
    assert spec.to_json() == doc
    assert spec.public.limit("per_address") == 2 and spec.public.limit("min_fill_seconds") == 3


@pytest.mark.parametrize(
    ("doc", "path", "message"),
    [
        (public(section("name"), values={"lifecycle": "web"}), "/public/values/lifecycle", "not an option"),
        (public(section("name"), values={"name": "访客"}), "/public/values/name", "also on the form"),
        (public(section("name"), values={"days_silent": 1}), "/public/values/days_silent", "formula"),
        (public(section("name"), values={"region": "east"}), "/public/values/region", "no field 'region'"),
        (public(section("name", "days_silent")), "/sections/0/fields/1", "formula field 'days_silent'"),
        (public(section("name", "owner")), "/sections/0/fields/1", "system field 'owner'"),
        (public(section("name"), limits={"per_address": 0}), "/public/limits/per_address", "at least 1"),
        (public(section("name"), limits={"per_hour": 5}), "/public/limits/per_hour", "unknown key"),
        ({**form(section("name")), "public": {"intro": {"zh_CN": "你好"}}}, "/public", "title"),
    ],
)
def test_a_public_form_that_does_not_fit_its_object_is_refused_at_its_path(
    doc: dict, path: str, message: str
) -> None:
    problems = validate_form(doc, "forms/web_customer.json", known_objects=KNOWN).problems

    assert [p.path for p in problems] == [path], problems
    assert message in problems[0].message


def test_the_crm_web_lead_form_is_public_and_stamps_the_website_source() -> None:
    doc = json.loads((CRM / "forms" / "web_lead.json").read_text(encoding="utf-8"))
    spec = FormSpec.from_json(doc)
    assert spec.object == "lead" and dict(spec.public.values) == {"source": "website"}
    assert spec.public.consent["zh_CN"].startswith("我已阅读并同意《隐私政策》")
