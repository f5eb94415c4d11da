"""Every stored field type writes to a real table and reads back the same value, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, func, select

from engine.fieldtypes import format_autonumber
from engine.store.database import open_database
from tests.engine.field_values import LEVELS, TYPES, accept, field

MANUAL = {"name": "manual.pdf", "key": "files/7/manual.pdf", "size": 1024, "content_type": "application/pdf"}
# (type, parameters, raw input, source): one value per stored type, chosen to catch lossy storage.
CASES: list[tuple[str, dict[str, Any], Any, str]] = [
    ("text", {"max_length": 50}, "深圳华强电子 Ltd", "json"),
    ("long_text", {}, "line one\nline two", "json"),
    ("email", {}, "Sales@Example.COM", "form"),
    ("phone", {}, "+86 755-1234 5678", "form"),
    ("url", {}, "example.com/lamp?id=1", "form"),
    ("integer", {}, 9_007_199_254_740_993, "json"),  # beyond a float's 53 bits
    ("decimal", {"precision": 15, "scale": 6}, "-123456789.123456", "form"),
    ("currency", {}, "¥1,299.50", "form"),
    ("percent", {}, "12.5%", "form"),
    ("boolean", {}, "否", "csv"),
    ("date", {}, "2026年11月26日", "csv"),
    ("datetime", {}, "2026-11-26T14:30:15+08:00", "json"),
    ("select", LEVELS, "重点", "csv"),
    ("multi_select", LEVELS, "普通、重要客户", "csv"),
    ("tags", {}, ["新品", "热销"], "json"),
    ("lookup", {"target": "customer"}, "42", "form"),
    ("user", {}, 7, "json"),
    ("attachment", {"multiple": True}, [MANUAL, {**MANUAL, "name": "photo.jpg", "size": 0}], "json"),
]
AUTONUMBER = ("autonumber", {"pattern": "HT-{YYYY}-{0000}"})


@pytest.fixture
def database(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def _columns() -> list[tuple[str, str, dict[str, Any]]]:
    cases = [(type_name, params) for type_name, params, _, _ in CASES] + [AUTONUMBER]
    return [(f"{type_name}_value", type_name, params) for type_name, params in cases]


def _table() -> Table:
    columns = [
        Column(name, TYPES.get(type_name).column_type(field(type_name, **params)))
        for name, type_name, params in _columns()
    ]
    return Table("field_type_round_trip", MetaData(), Column("id", Integer, primary_key=True), *columns)


def _values() -> dict[str, Any]:
    values = {
        f"{type_name}_value": accept(type_name, raw, source, **params)
        for type_name, params, raw, source in CASES
    }
    # The engine, not the user, fills an autonumber.
    values["autonumber_value"] = format_autonumber(AUTONUMBER[1]["pattern"], datetime(2026, 11, 26), 1)
    return values


def _write_and_read(database: Engine, row: dict[str, Any]) -> dict[str, Any]:
    table = _table()
    specs = {
        name: (TYPES.get(type_name), field(type_name, **params)) for name, type_name, params in _columns()
    }
    with database.begin() as conn:
        table.create(conn)
        conn.execute(
            table.insert(), {"id": 1, **{n: ftype.to_db(row[n], spec) for n, (ftype, spec) in specs.items()}}
        )
        stored = conn.execute(select(table).where(table.c.id == 1)).mappings().one()
    return {name: ftype.from_db(stored[name], spec) for name, (ftype, spec) in specs.items()}


def test_every_stored_type_has_a_round_trip_case() -> None:
    stored_types = {name for name in TYPES.names() if TYPES.get(name).stored}
    assert {type_name for _, type_name, _ in _columns()} == stored_types


def test_every_stored_type_reads_back_what_it_wrote(database: Engine) -> None:
    written = _values()
    read = _write_and_read(database, written)
    for name, value in written.items():
        assert read[name] == value, name
        assert type(read[name]) is type(value), name
    # The API shows what was stored, exactly: decimals as strings with their scale, times in UTC.
    as_json = {
        name: TYPES.get(type_name).to_json(read[name], field(type_name, **params))
        for name, type_name, params in _columns()
    }
    assert as_json["decimal_value"] == "-123456789.123456"
    assert as_json["currency_value"] == "1299.50"
    assert as_json["percent_value"] == "12.50"
    assert as_json["datetime_value"] == "2026-11-26T06:30:15Z"
    assert as_json["date_value"] == "2026-11-26"
    assert as_json["multi_select_value"] == ["vip", "normal"]
    assert as_json["select_value"] == "key"
    assert as_json["boolean_value"] is False
    assert as_json["email_value"] == "Sales@example.com"
    assert as_json["url_value"] == "https://example.com/lamp?id=1"
    assert as_json["autonumber_value"] == "HT-2026-0001"


def test_empty_values_are_stored_as_sql_null(database: Engine) -> None:
    read = _write_and_read(database, dict.fromkeys(_values()))
    assert all(value is None for value in read.values())
    table = _table()
    with database.connect() as conn:
        # JSON columns too: an empty tag list must be NULL, not the JSON text 'null', so "is empty" finds it.
        nulls = conn.execute(select(func.count()).where(table.c.tags_value.is_(None))).scalar_one()
    assert nulls == 1


def test_computed_types_have_no_column() -> None:
    computed = [
        ("formula", {"expression": "1", "result": "integer"}),
        ("rollup", {"source": {"object": "a", "via": "b", "function": "count"}}),
    ]
    for type_name, params in computed:
        field_type = TYPES.get(type_name)
        assert field_type.stored is False
        with pytest.raises(TypeError):
            field_type.column_type(field(type_name, **params))
