"""RecordService: every field type round-trips, errors come all at once, versions protect edits."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from engine.base.errors import BulkInvalid, ConflictError, RecordInvalid, RecordNotFound
from engine.loom import Loom
from engine.packages.install import install_package
from engine.store.bulk import COPY_FROM_ROWS
from engine.store.system_tables import audit_log
from tests.conftest import FIXTURES

KITCHEN_SINK = FIXTURES / "packages" / "kitchen_sink"


@pytest.fixture
def sink(loom: Loom) -> Loom:
    install_package(loom, KITCHEN_SINK)
    return loom


def test_every_field_type_round_trips_through_create_get_update(sink: Loom) -> None:
    records = sink.records()
    maker = records.create("maker", {"name": "深圳华强电子"})
    gadget = records.create(
        "gadget",
        {
            "title": "Solar lamp 太阳能灯",
            "notes": "long text\nwith two lines",
            "quantity": "12",
            "weight": "1.2345",
            "price": "¥1,299.50",
            "discount": "10%",
            "active": "是",
            "launch_date": "2026/11/01",
            "checked_at": "2026-11-20T08:30:00+08:00",
            "color": "green",
            "features": ["solar", "waterproof"],
            "contact_email": "Sales@Example.COM",
            "hotline": "+86 755-1234 5678",
            "homepage": "https://example.com/lamp",
            "maker": maker["id"],
            "labels": ["新品", "热销"],
            "manual": [
                {"name": "manual.pdf", "key": "files/1", "size": 1024, "content_type": "application/pdf"}
            ],
        },
    )
    got = records.get("gadget", gadget["id"])
    assert got["title"] == "Solar lamp 太阳能灯"
    assert got["quantity"] == 12
    assert got["weight"] == Decimal("1.235")  # scale 3, rounded half-up
    assert got["price"] == Decimal("1299.50")
    assert got["discount"] == Decimal("10")
    assert got["active"] is True
    assert got["launch_date"] == date(2026, 11, 1)
    assert got["checked_at"] == datetime(2026, 11, 20, 0, 30)  # stored as UTC
    assert got["color"] == "green"
    assert got["features"] == ["waterproof", "solar"]  # option order
    assert got["contact_email"].endswith("@example.com")
    assert got["maker"] == maker["id"]
    assert got["labels"] == ["新品", "热销"]
    assert got["manual"][0]["name"] == "manual.pdf"
    assert got["net_price"] == Decimal("1169.55")  # formula: price less the discount
    assert got["serial"] == "GX-2611-001"  # autonumber from the clock, 2026-11
    assert got["version"] == 1

    updated = records.update("gadget", gadget["id"], {"quantity": 13, "color": "blue"}, version=1)
    assert (updated["quantity"], updated["color"], updated["version"]) == (13, "blue", 2)
    assert records.get("gadget", gadget["id"])["quantity"] == 13


def test_bulk_create_stores_every_field_type_and_audit_exactly_as_create_does(sink: Loom) -> None:
    records = sink.records()
    maker = records.create("maker", {"name": "深圳华强电子"})
    values = {
        "title": 'Lamp 引号 "quoted" and a back\\slash',
        "notes": "a tab\there, and\na new line",
        "quantity": "12",
        "weight": "1.2345",
        "price": "¥1,299.50",
        "active": "否",
        "launch_date": "2026/11/01",
        "checked_at": "2026-11-20T08:30:00+08:00",
        "color": "green",
        "features": ["solar", "waterproof"],
        "maker": maker["id"],
        "labels": ["新品", "热销"],
        "manual": [{"name": "说明书.pdf", "key": "files/1", "size": 1024, "content_type": "application/pdf"}],
    }
    one = records.create("gadget", values)
    [bulk_id] = records.bulk_create("gadget", [values])

    def stored(record_id: int) -> dict:
        got = records.get("gadget", record_id)
        return {key: value for key, value in got.items() if key not in ("id", "serial")}

    assert stored(bulk_id) == stored(one["id"])
    [created_one] = records.history("gadget", one["id"])
    [created_bulk] = records.history("gadget", bulk_id)
    drop = ("serial",)
    assert {k: v for k, v in created_bulk["changes"].items() if k not in drop} == {
        k: v for k, v in created_one["changes"].items() if k not in drop
    }
    assert (created_bulk["action"], created_bulk["at"]) == (created_one["action"], created_one["at"])


def test_a_bulk_creates_audit_is_the_json_encoders_own_text_of_each_fields_json_form(sink: Loom) -> None:
    records = sink.records()
    maker = records.create("maker", {"name": "深圳华强电子"})
    rows = [
        {
            "title": f'Lamp {i} 引号 "quoted", a back\\slash and \u2028',
            "notes": "a tab\there\nand a new line" if i % 2 else None,
            "quantity": i,
            "weight": "-0.0004" if i == 3 else f"{i}.25",
            "price": f"{i}99.50",
            "discount": "12.5%",
            "active": i % 2 == 0,
            "launch_date": "2026/11/01",
            "checked_at": "2026-11-20T08:30:00+08:00" if i % 3 else None,
            "color": "green",
            "features": ["solar", "waterproof"] if i % 2 else [],
            "contact_email": "Sales@Example.COM",
            "maker": maker["id"] if i % 2 else None,
            "labels": ["新品", 'say "热销"'],
            "manual": [
                {"name": "说明书.pdf", "key": "files/1", "size": 1024, "content_type": "application/pdf"}
            ],
        }
        for i in range(COPY_FROM_ROWS + 5)  # enough to go through COPY on PostgreSQL
    ]
    ids = records.bulk_create("gadget", rows)
    model = sink.registry.object("gadget")
    encode = json.JSONEncoder(ensure_ascii=False).encode
    with sink.read() as conn:
        query = select(audit_log.c.record_id, audit_log.c.changes).where(audit_log.c.object == "gadget")
        written = {record_id: changes for record_id, changes in conn.execute(query)}
    for record_id in ids:
        record = records.get("gadget", record_id)
        expected = {
            spec.name: [None, model.types[spec.name].to_json(record[spec.name], spec)]
            for spec in model.stored
            if record[spec.name] not in (None, "", [])
        }
        if record["owner"] is not None:
            expected["owner"] = [None, record["owner"]]
        assert written[record_id] == json.loads(encode(expected))
        if sink.db.dialect.name == "sqlite":  # the text itself, key order included (JSONB keeps neither)
            with sink.read() as conn:
                query = f"SELECT changes FROM {audit_log.name} WHERE record_id = ? AND object = 'gadget'"
                text = conn.exec_driver_sql(query, (record_id,)).scalar_one()
            assert text == encode(expected)


def test_defaults_are_expressions_evaluated_on_create(sink: Loom) -> None:
    gadget = sink.records().create("gadget", {"title": "Lamp"})
    assert gadget["quantity"] == 1
    assert gadget["active"] is True
    assert gadget["color"] == "red"
    assert gadget["launch_date"] == date(2026, 11, 26)  # today() from the injected clock


def test_five_invalid_fields_are_reported_together(sink: Loom) -> None:
    with pytest.raises(RecordInvalid) as caught:
        sink.records().create(
            "gadget",
            {
                "title": "x" * 101,
                "quantity": "many",
                "color": "purple",
                "contact_email": "not-an-email",
                "homepage": "ftp://files.example.com",
            },
        )
    fields = caught.value.fields
    assert set(fields) == {"title", "quantity", "color", "contact_email", "homepage"}
    assert all(messages and all(isinstance(m, str) and m for m in messages) for messages in fields.values())
    assert "100" in fields["title"][0]
    assert sink.queries().count("gadget") == 0


def test_required_unknown_and_computed_fields_are_refused(sink: Loom) -> None:
    with pytest.raises(RecordInvalid) as caught:
        sink.records().create("gadget", {"colour": "red", "net_price": 5, "serial": "X"})
    fields = caught.value.fields
    assert fields["title"] == ["is required"]
    assert "not a field" in fields["colour"][0]
    assert "computed" in fields["net_price"][0] or "cannot be set" in fields["net_price"][0]
    assert "serial" in fields


def test_a_lookup_to_a_missing_record_is_an_error(sink: Loom) -> None:
    with pytest.raises(RecordInvalid) as caught:
        sink.records().create("gadget", {"title": "Lamp", "maker": 999})
    assert caught.value.fields == {"maker": ["maker 999 does not exist"]}


def test_two_updates_from_the_same_version_the_second_conflicts(sink: Loom) -> None:
    records = sink.records()
    gadget = records.create("gadget", {"title": "Lamp"})
    records.update("gadget", gadget["id"], {"quantity": 5}, version=gadget["version"])
    with pytest.raises(ConflictError) as caught:
        records.update("gadget", gadget["id"], {"quantity": 7}, version=gadget["version"])
    assert caught.value.actual == 2
    assert records.get("gadget", gadget["id"])["quantity"] == 5


def test_every_change_is_audited_with_old_and_new_values(sink: Loom) -> None:
    records = sink.records()
    gadget = records.create("gadget", {"title": "Lamp", "price": "10"})
    records.update("gadget", gadget["id"], {"price": "12.5"}, version=1)
    records.delete("gadget", gadget["id"])
    records.restore("gadget", gadget["id"])
    history = records.history("gadget", gadget["id"])
    assert [row["action"] for row in history] == ["create", "update", "delete", "restore"]
    assert history[0]["changes"]["title"] == [None, "Lamp"]
    assert history[1]["changes"] == {"price": ["10.00", "12.50"]}
    assert history[1]["actor_name"] == "system"


def test_deleted_records_go_to_the_recycle_bin_and_come_back(sink: Loom) -> None:
    records = sink.records()
    gadget = records.create("gadget", {"title": "Lamp"})
    records.delete("gadget", gadget["id"])
    with pytest.raises(RecordNotFound):
        records.get("gadget", gadget["id"])
    assert records.get("gadget", gadget["id"], include_deleted=True)["deleted_at"] is not None
    assert sink.queries().count("gadget") == 0
    restored = records.restore("gadget", gadget["id"])
    assert restored["deleted_at"] is None and restored["title"] == "Lamp"


def test_rollups_follow_child_records_without_recalculation(sink: Loom) -> None:
    records = sink.records()
    gadget = records.create("gadget", {"title": "Lamp"})
    records.create("part", {"name": "bulb", "gadget": gadget["id"], "weight": "0.25"})
    spare = records.create(
        "part", {"name": "spare bulb", "gadget": gadget["id"], "weight": "0.25", "spare": True}
    )
    records.create("part", {"name": "base", "gadget": gadget["id"], "weight": "1.5"})
    got = records.get("gadget", gadget["id"])
    assert got["part_count"] == 3
    assert got["part_weight"] == Decimal("1.75")  # the filter leaves out spares
    records.delete("part", spare["id"])
    assert records.get("gadget", gadget["id"])["part_count"] == 2


def test_bulk_create_is_all_or_nothing_and_reports_each_bad_row(sink: Loom) -> None:
    rows = [{"title": f"Lamp {i}", "price": str(i)} for i in range(2500)]
    rows[10]["price"] = "-1"
    rows[2400]["quantity"] = "lots"
    with pytest.raises(BulkInvalid) as caught:
        sink.records().bulk_create("gadget", rows)
    assert set(caught.value.rows) == {10, 2400}
    assert sink.queries().count("gadget") == 0

    del rows[2400]["quantity"]
    rows[10]["price"] = "1"
    ids = sink.records().bulk_create("gadget", rows)
    assert len(ids) == len(set(ids)) == 2500
    first, last = (sink.records().get("gadget", i)["serial"] for i in (ids[0], ids[-1]))
    assert (first, last) == ("GX-2611-001", "GX-2611-2500")  # padded to three digits, never cut


def test_autonumbers_are_sequential_and_restart_each_period(sink: Loom) -> None:
    records = sink.records()
    first = records.create("gadget", {"title": "a"})["serial"]
    second = records.create("gadget", {"title": "b"})["serial"]
    sink.clock.set(datetime(2026, 12, 1, 9, 0))
    third = records.create("gadget", {"title": "c"})["serial"]
    assert (first, second, third) == ("GX-2611-001", "GX-2611-002", "GX-2612-001")


def test_events_let_subscribers_see_each_saved_record(sink: Loom) -> None:
    seen: list[tuple[str, bool]] = []
    sink.events.subscribe("after_save", lambda event: seen.append((event.record["title"], event.is_new)))
    gadget = sink.records().create("gadget", {"title": "Lamp"})
    sink.records().update("gadget", gadget["id"], {"title": "Lamp 2"})
    assert seen == [("Lamp", True), ("Lamp 2", False)]


def test_a_failing_subscriber_rolls_the_save_back(sink: Loom) -> None:
    def refuse(event):  # type: ignore[no-untyped-def]
        raise RuntimeError("downstream failure")

    sink.events.subscribe("after_save", refuse)
    with pytest.raises(RuntimeError):
        sink.records().create("gadget", {"title": "Lamp"})
    assert sink.queries().count("gadget") == 0


def test_formulas_take_the_shape_of_their_result_type(crm: Loom) -> None:
    customer = crm.records().create("customer", {"name": "上海云杉科技有限公司"})
    deal = crm.records().create(
        "opportunity",
        {"name": "ERP", "customer": customer["id"], "amount": "333333.33", "probability": "33.3"},
    )
    assert deal["weighted_amount"] == Decimal("111000.00")  # currency: rounded to cents
    assert str(deal["weighted_amount"]) == "111000.00"


def test_autonumber_dates_follow_the_business_calendar(sink: Loom) -> None:
    sink.clock.set(datetime(2026, 11, 30, 23, 0))  # 07:00 on 1 December in Beijing
    assert sink.records().create("gadget", {"title": "early bird"})["serial"] == "GX-2612-001"
