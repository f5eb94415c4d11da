"""What a create answers is the record as it then reads: its roll-ups count its own related records
(none yet, or those its rules made), its formulas and what its rules set after saving are there.
Checked for every object of the CRM, as the system and as a sales rep."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, select

from engine.base.actors import SYSTEM, Actor
from engine.base.clock import utc_offset
from engine.base.errors import RecordNotFound
from engine.base.events import RecordEvent
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


def test_a_record_created_alone_is_answered_from_its_insert_when_nothing_wrote_after_it(crm: Loom) -> None:
    """On PostgreSQL the INSERT returns the record as stored and it is not read back; SQLite reads
    it back. Either way the answer is what reading it gives, roll-ups typed as the database gives."""
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(crm.db, "before_cursor_execute", seen)
    try:
        made = crm.records().create("customer", {"name": "只建不读的客户", "level": "normal"})
    finally:
        event.remove(crm.db, "before_cursor_execute", seen)
    read_back = [text for text in statements if text.startswith("SELECT") and "FROM obj_customer" in text]
    assert len(read_back) == (0 if crm.db.dialect.name == "postgresql" else 1)
    again = crm.records().get("customer", made["id"])
    assert made == again
    assert [type(made[name]) for name in made] == [type(again[name]) for name in again]


@pytest.mark.parametrize("children", [1, 25])
def test_records_a_handler_links_after_the_insert_are_counted_in_the_answer(crm: Loom, children: int) -> None:
    """A subscriber that adds opportunities to a new customer, one by one or as many at once (COPY
    on PostgreSQL): the create's roll-up counts them, as reading the customer would."""

    def add_deals(saved: RecordEvent) -> None:
        if saved.is_new:
            rows = [{"name": f"商机 {n}", "customer": saved.record["id"]} for n in range(children)]
            crm.records(SYSTEM, saved.conn).bulk_create("opportunity", rows)

    crm.events.subscribe("after_save", add_deals, lambda _registry, name: name == "customer")
    made = crm.records().create("customer", {"name": "一建就有商机的客户"})
    assert made["open_opportunities"] == children
    assert made == crm.records().get("customer", made["id"])


def test_customers_created_at_once_take_consecutive_codes_and_a_failed_one_leaves_no_gap(crm: Loom) -> None:
    """Six saves at once, each held open after its number was taken, one of them refused after it:
    the five saved customers have the first five codes, none twice and none skipped, in the order of
    their ids."""
    attempts = threading.Barrier(6)
    errors: list[BaseException] = []

    def slow(saved: RecordEvent) -> None:
        time.sleep(0.05)  # the others arrive while this save holds its number
        if saved.record["name"] == "客户 3":
            raise RuntimeError("refused after its number was taken")

    crm.events.subscribe("after_save", slow, lambda _registry, name: name == "customer")

    def save(n: int) -> None:
        try:
            attempts.wait()
            crm.records().create("customer", {"name": f"客户 {n}"})
        except RuntimeError as error:
            errors.append(error)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [str(error) for error in errors] == ["refused after its number was taken"]
    saved = crm.queries().find("customer", sort="id").records
    year = crm.clock.now().year
    assert [customer["code"] for customer in saved] == [f"KH-{year}-{n:05d}" for n in range(1, 6)]
