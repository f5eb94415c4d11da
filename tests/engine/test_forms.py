"""Forms at run time: conditions follow the values being typed, sections hide their fields, roles count."""

from __future__ import annotations

import pytest

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import InvalidMetadata
from engine.loom import Loom
from engine.records.forms import FieldState, check_form, evaluate_form
from engine.schema.changes import apply_objects
from metadata.forms import FormSpec
from metadata.specs import ObjectSpec

SALES_REP = Actor.user(7, "rep", {"sales_rep"}, department_id=1, department_path="/1/")


def test_every_crm_object_has_its_own_stored_form(crm: Loom) -> None:
    registry = crm.registry

    assert set(registry.forms()) >= {"customer", "opportunity", "service_ticket", "payment"}
    for name, form in registry.forms().items():
        if form.object == name:  # web_lead is a second, public form of lead
            assert registry.form_for(name) is form
    assert registry.form_for("lead").name == "lead"


def test_an_object_without_a_form_gets_one_with_every_field_and_computed_ones_last(loom: Loom) -> None:
    note = ObjectSpec.from_json(
        {
            "name": "note",
            "label": {"en": "Note"},
            "fields": [
                {"name": "size", "type": "formula", "result": "integer", "expression": "len(body)"},
                {"name": "title", "type": "text"},
                {"name": "body", "type": "long_text"},
            ],
        }
    )
    apply_objects(loom, [note])

    form = loom.registry.form_for("note")

    assert form.field_names == ("title", "body", "size")
    assert evaluate_form(loom, form, {}, SYSTEM).fields["size"] == FieldState(True, False, True)


def test_the_lost_reason_appears_and_becomes_required_when_a_customer_is_lost(crm: Loom) -> None:
    form = crm.registry.form_for("customer")

    active = evaluate_form(crm, form, {"name": "华为", "lifecycle": "customer"}, SYSTEM)
    lost = evaluate_form(crm, form, {"name": "华为", "lifecycle": "lost"}, SYSTEM)

    assert active.fields["lost_reason"] == FieldState(visible=False, required=False, readonly=False)
    assert lost.fields["lost_reason"] == FieldState(visible=True, required=True, readonly=False)
    assert active.fields["name"] == FieldState(visible=True, required=True, readonly=False)
    assert active.fields["code"].readonly and active.fields["days_silent"].readonly


def test_a_hidden_section_hides_its_fields_whatever_they_say(crm: Loom) -> None:
    form = crm.registry.form_for("payment")
    receipt = [s.label["en"] for s in form.sections].index("Receipt")

    planned = evaluate_form(crm, form, {"status": "planned"}, SYSTEM)
    received = evaluate_form(crm, form, {"status": "received"}, SYSTEM)

    assert planned.sections[receipt] is False
    assert planned.fields["received_at"] == FieldState(visible=False, required=False, readonly=False)
    assert received.sections[receipt] is True
    assert received.fields["received_at"] == FieldState(visible=True, required=True, readonly=False)


def test_values_are_read_as_a_save_reads_them(crm: Loom) -> None:
    form = crm.registry.form_for("opportunity")

    # A form posts strings; "proposal" is a select value and the stage makes the amount required.
    state = evaluate_form(crm, form, {"stage": "proposal", "amount": ""}, SYSTEM, source="form")

    assert state.fields["amount"].required
    assert state.values["amount"] is None
    assert check_form(
        crm, form, {"name": "x", "customer": "1", "stage": "proposal"}, SYSTEM, source="form"
    ) == {
        "contact": ["is required"],
        "amount": ["is required"],
    }


def test_fields_hidden_or_read_only_for_the_actor_say_so(crm: Loom) -> None:
    contract = evaluate_form(crm, crm.registry.form_for("contract"), {}, SALES_REP)
    customer = evaluate_form(crm, crm.registry.form_for("customer"), {}, SALES_REP)

    assert contract.fields["cost_price"] == FieldState(visible=False, required=False, readonly=False)
    assert contract.fields["amount"] == FieldState(visible=True, required=True, readonly=False)
    assert customer.fields["level"] == FieldState(visible=True, required=False, readonly=True)
    assert evaluate_form(crm, crm.registry.form_for("contract"), {}, SYSTEM).fields["cost_price"].visible


def test_a_condition_locks_a_field_while_it_holds(crm: Loom) -> None:
    form = crm.registry.form_for("contract")

    assert not evaluate_form(crm, form, {"status": "draft"}, SYSTEM).fields["amount"].readonly
    assert evaluate_form(crm, form, {"status": "approved"}, SYSTEM).fields["amount"].readonly


def test_a_condition_that_fails_while_typing_does_not_hold(loom: Loom) -> None:
    deal = ObjectSpec.from_json(
        {
            "name": "deal",
            "label": {"en": "Deal"},
            "fields": [{"name": "amount", "type": "decimal"}, {"name": "discount", "type": "percent"}],
        }
    )
    form = FormSpec.from_json(
        {
            "name": "deal",
            "object": "deal",
            "sections": [
                {
                    "label": {"en": "Deal"},
                    "fields": ["amount", {"field": "discount", "visible_if": "amount * 2 > 10"}],
                }
            ],
        }
    )
    apply_objects(loom, [deal], forms=[form])
    stored = loom.registry.form_for("deal")

    assert stored == form
    assert not evaluate_form(loom, stored, {}, SYSTEM).fields["discount"].visible  # null * 2 fails: hidden
    assert not evaluate_form(loom, stored, {"amount": "4"}, SYSTEM).fields["discount"].visible
    assert evaluate_form(loom, stored, {"amount": "6"}, SYSTEM).fields["discount"].visible


def test_check_form_reports_empty_required_and_unreadable_visible_fields_only(crm: Loom) -> None:
    form = crm.registry.form_for("service_ticket")
    values = {"title": "打印机卡纸", "customer": 1, "status": "resolved", "satisfaction": "很好"}

    errors = check_form(crm, form, values, SYSTEM)

    assert errors == {
        "description": ["is required"],
        "resolution_type": ["is required"],
        "solution": ["is required"],
        "satisfaction": [errors["satisfaction"][0]],
    }
    assert "whole number" in errors["satisfaction"][0] or "number" in errors["satisfaction"][0]
    # While new, the resolution section is hidden, so nothing in it is demanded.
    assert (
        check_form(
            crm, form, {**values, "status": "new", "satisfaction": None, "description": "卡纸"}, SYSTEM
        )
        == {}
    )


def test_a_form_with_a_bad_expression_or_field_is_refused_with_its_path(crm: Loom) -> None:
    bad = FormSpec.from_json(
        {
            "name": "customer_quick",
            "object": "customer",
            "sections": [
                {
                    "label": {"en": "Quick"},
                    "fields": ["name", {"field": "level", "visible_if": "lifecyle == 'lost'"}],
                },
                {"label": {"en": "More"}, "visible_if": "days_since(", "fields": ["phone"]},
            ],
        }
    )

    with pytest.raises(InvalidMetadata) as refused:
        apply_objects(crm, [], forms=[bad])

    found = [(p.file, p.path) for p in refused.value.problems]
    assert found == [
        ("forms/customer_quick.json", "/sections/0/fields/1/visible_if"),
        ("forms/customer_quick.json", "/sections/1/visible_if"),
    ]
    assert "did you mean 'lifecycle'" in refused.value.problems[0].message
    assert "customer_quick" not in crm.registry.forms()
