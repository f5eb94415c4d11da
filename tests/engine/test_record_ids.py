"""A record id is never given twice: after the newest record of an object is purged, the next record
(made alone or in bulk) takes a new id, so the purged one's history, approvals and links name no
other record. Checked for every object of the CRM that the demo company has records of."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from engine.base.actors import SYSTEM
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from engine.records.recycle_bin import purge
from tests.engine.record_copies import copyable, newest_ids


@pytest.mark.parametrize("made", ["alone", "in bulk"])
def test_a_purged_records_id_is_never_given_again(demo_company: Loom, made: str) -> None:
    loom = demo_company
    records = loom.records(SYSTEM)
    newest = newest_ids(loom)
    assert {"customer", "contact", "opportunity", "contract", "followup"} <= newest.keys()
    given: dict[str, tuple[int, int]] = {}  # object → (purged id, id made after)
    for name, record_id in sorted(newest.items()):
        model = loom.registry.object(name)
        values = copyable(model, records.get(name, record_id), given)
        records.delete(name, record_id)
        purge(loom, SYSTEM, name, record_id)
        if made == "alone":
            new_id = records.create(name, values)["id"]
        else:
            [new_id] = records.bulk_create(name, [values])
        given[name] = (record_id, new_id)
    assert {name: ids for name, ids in given.items() if ids[1] <= ids[0]} == {}
    actions = [entry["action"] for entry in records.history("customer", given["customer"][1])]
    assert actions == ["create"]


def test_a_table_made_before_tables_kept_their_ids_is_remade_at_its_first_purge(tmp_path: Path) -> None:
    loom = Loom(f"sqlite:///{tmp_path}/old.db")
    loom.init()
    install_package(loom, CRM_PACKAGE)
    records = loom.records(SYSTEM)
    made = [records.create("customer", {"name": name, "level": "vip"})["id"] for name in ("甲", "乙", "丙")]
    table = loom.registry.object("customer").table.name
    with loom.begin() as conn:  # the customer table as it was made before: no AUTOINCREMENT
        operations = Operations(MigrationContext.configure(conn))
        with operations.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": False}
        ):
            pass
        conn.execute(text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table})
        before = _shape(conn, table)
    assert "AUTOINCREMENT" not in before["sql"]

    records.delete("customer", made[-1])
    purge(loom, SYSTEM, "customer", made[-1])
    new_id = records.create("customer", {"name": "丁"})["id"]

    assert new_id > made[-1]
    assert [records.get("customer", i)["name"] for i in made[:-1]] == ["甲", "乙"]
    assert records.get("customer", made[0])["level"] == "vip"
    with loom.begin() as conn:
        after = _shape(conn, table)
    assert (after["columns"], after["indexes"]) == (before["columns"], before["indexes"])
    loom.close()


def _shape(conn: Connection, table: str) -> dict[str, Any]:
    found = inspect(conn)
    indexes = found.get_indexes(table)
    return {
        "sql": conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar(),
        "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)],
        "indexes": sorted((i["name"], tuple(i["column_names"]), i["unique"]) for i in indexes),
    }
