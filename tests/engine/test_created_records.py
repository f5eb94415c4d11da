"""What a create answers is the record as it then reads: its roll-ups count its own related records
(none yet, or those its rules made), its formulas and what its rules set after saving are there.
Checked for every object of the CRM, as the system and as a sales rep."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.base.actors import SYSTEM, Actor
from engine.base.clock import utc_offset
from engine.base.errors import RecordNotFound
from engine.fieldtypes import autonumber_period, format_autonumber
from engine.identity import actor_for, user_by_username
from engine.identity.permissions import PermissionDenied, access_for
from engine.loom import Loom
from engine.store.system_tables import sequences
from tests.engine.record_copies import copyable, newest_readable


@pytest.mark.parametrize("who", ["system", "sales1"])
def test_a_created_record_is_answered_as_it_then_reads(demo_company: Loom, who: str) -> None:
    loom = demo_company
    actor = SYSTEM if who == "system" else actor_for(loom, user_by_username(loom, who)["id"])
    records, made = loom.records(actor), {}
    for name, newest in sorted(newest_readable(loom, actor).items()):
        access = access_for(loom.registry, actor, name)
        values = copyable(loom.registry.object(name), newest, beside=True)
        values = {
            key: value
            for key, value in values.items()
            if key not in access.read_only | access.hidden and readable(loom, actor, name, key, value)
        }
        try:
            made[name] = records.create(name, values)
        except PermissionDenied:
            continue  # a rep creates no products, for one
    assert {"customer", "contact", "followup", "opportunity"} <= made.keys()
    differences = {
        name: {key: (value, again[key]) for key, value in answered.items() if again[key] != value}
        for name, answered in made.items()
        if (again := records.get(name, answered["id"])) != answered
    }
    assert differences == {}


def test_a_new_customers_roll_ups_count_only_its_own_records(demo_company: Loom) -> None:
    """Every customer of the demo company has opportunities and contracts; a new one has none."""
    made = demo_company.records().create("customer", {"name": "新开户的客户", "level": "normal"})
    assert (made["open_opportunities"], made["total_contract_amount"], made["order_count"]) == (0, 0, 0)
    assert made["last_order_date"] is None


def test_a_record_changed_by_its_rules_after_saving_is_answered_as_they_left_it(demo_company: Loom) -> None:
    """A lead from the website with no owner is given one, in turn, once it is saved."""
    records = demo_company.records()
    lead = records.create("lead", {"name": "刘先生", "company": "官网来的公司", "source": "website"})
    assert lead["owner"] is not None
    assert lead == records.get("lead", lead["id"])


def readable(loom: Loom, actor: Actor, object_name: str, field: str, value: object) -> bool:
    """Whether the actor may give this value: a link only to a record they may open."""
    spec = loom.registry.object(object_name).spec.field(field)
    if spec.type != "lookup":
        return True
    try:
        loom.records(actor).get(spec.param("target"), value)
    except RecordNotFound:
        return False
    return True


class Refused(Exception):
    """Raised inside a transaction to roll it back."""


def test_records_made_one_at_a_time_take_the_next_number_and_audit_it_in_field_order(
    demo_company: Loom,
) -> None:
    """For every object with autonumbers: a create that is rolled back gives its number back, the
    next create takes it, and the creation audit lists the number where the field stands."""
    loom, records = demo_company, demo_company.records()
    numbered = {
        name: [field for field in model.spec.fields if field.type == "autonumber"]
        for name, model in loom.registry.objects.items()
    }
    newest = newest_readable(loom, SYSTEM)
    checked = []
    for name, fields in sorted(numbered.items()):
        if not fields or name not in newest:
            continue
        values = copyable(loom.registry.object(name), newest[name], beside=True)
        first = records.create(name, values)
        with pytest.raises(Refused), loom.begin() as conn:
            loom.records(SYSTEM, conn).create(name, values)
            raise Refused
        second = records.create(name, values)
        local = loom.clock.now() + utc_offset(loom.clock.now(), loom.clock.timezone)
        for field in fields:
            counter = counter_value(loom, name, field.name, autonumber_period(field.param("pattern"), local))
            pattern = field.param("pattern")
            assert first[field.name] == format_autonumber(pattern, local, counter - 1), (name, field.name)
            assert second[field.name] == format_autonumber(pattern, local, counter), (name, field.name)
        [created] = [row for row in records.history(name, second["id"]) if row["action"] == "create"]
        order = [field.name for field in loom.registry.object(name).spec.fields] + ["owner"]
        assert list(created["changes"]) == sorted(created["changes"], key=order.index), name
        assert {field.name: created["changes"][field.name] for field in fields} == {
            field.name: [None, second[field.name]] for field in fields
        }
        checked.append(name)
    assert "customer" in checked and len(checked) >= 3, checked


def counter_value(loom: Loom, object_name: str, field: str, period: str) -> int:
    with loom.read() as conn:
        return conn.execute(
            select(sequences.c.value).where(
                sequences.c.object == object_name, sequences.c.field == field, sequences.c.period == period
            )
        ).scalar_one()
