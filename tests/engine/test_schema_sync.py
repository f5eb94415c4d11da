"""Schema sync: tables follow metadata, and no metadata change ever loses a stored value."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import inspect

from engine.base.errors import InvalidMetadata, SchemaChangeRefused
from engine.loom import Loom
from engine.schema.changes import apply_objects
from engine.store.documents import revisions
from metadata.specs import FieldSpec, ObjectSpec

LABEL = {"en": "Machine", "zh_CN": "设备"}


def machine(*fields: FieldSpec) -> ObjectSpec:
    base = (FieldSpec(name="name", type="text", required=True),)
    return ObjectSpec(name="machine", label=LABEL, fields=base + fields, title_field="name")


def columns(loom: Loom, table: str) -> set[str]:
    with loom.read() as conn:
        return {column["name"] for column in inspect(conn).get_columns(table)}


def test_an_object_becomes_a_table_with_system_columns(loom: Loom) -> None:
    apply_objects(loom, [machine(FieldSpec(name="serial_no", type="text", unique=True))])
    assert columns(loom, "obj_machine") >= {
        "id",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "owner_id",
        "version",
        "deleted_at",
        "name",
        "serial_no",
    }
    with loom.read() as conn:
        indexes = {index["name"]: index for index in inspect(conn).get_indexes("obj_machine")}
    assert indexes["uq_obj_machine_serial_no"]["unique"]


def test_adding_a_field_adds_a_column_and_keeps_rows(loom: Loom) -> None:
    apply_objects(loom, [machine()])
    record = loom.records().create("machine", {"name": "CNC-1"})
    plan = apply_objects(loom, [machine(FieldSpec(name="hours", type="integer"))])
    assert [step.action for step in plan.sync.steps] == ["add_column"]
    assert "hours" in columns(loom, "obj_machine")
    assert loom.records().get("machine", record["id"])["name"] == "CNC-1"


def test_removed_field_keeps_its_data_until_restored(loom: Loom) -> None:
    hours = FieldSpec(name="hours", type="integer")
    apply_objects(loom, [machine(hours)])
    record = loom.records().create("machine", {"name": "CNC-1", "hours": 1200})

    plan = apply_objects(loom, [machine()])
    assert [step.action for step in plan.sync.steps] == ["archive_column"]
    assert plan.sync.steps[0].destructive
    assert "hours" not in loom.records().get("machine", record["id"])
    assert "hours" not in columns(loom, "obj_machine")

    plan = apply_objects(loom, [machine(hours)])
    assert [step.action for step in plan.sync.steps] == ["restore_column"]
    assert loom.records().get("machine", record["id"])["hours"] == 1200


def test_a_removed_field_name_can_be_reused_with_another_type(loom: Loom) -> None:
    apply_objects(loom, [machine(FieldSpec(name="hours", type="integer"))])
    loom.records().create("machine", {"name": "CNC-1", "hours": 1200})
    apply_objects(loom, [machine()])
    apply_objects(loom, [machine(FieldSpec(name="hours", type="text"))])
    assert loom.queries().find("machine").records[0]["hours"] is None


def test_a_compatible_type_change_converts_every_value(loom: Loom) -> None:
    apply_objects(loom, [machine(FieldSpec(name="hours", type="text"))])
    record = loom.records().create("machine", {"name": "CNC-1", "hours": "1200"})
    plan = apply_objects(loom, [machine(FieldSpec(name="hours", type="integer"))])
    assert [step.action for step in plan.sync.steps] == ["convert_column"]
    assert loom.records().get("machine", record["id"])["hours"] == 1200


def test_an_incompatible_type_change_is_refused_naming_the_records(loom: Loom) -> None:
    apply_objects(loom, [machine(FieldSpec(name="hours", type="text"))])
    good = loom.records().create("machine", {"name": "CNC-1", "hours": "1200"})
    bad = loom.records().create("machine", {"name": "CNC-2", "hours": "about ten"})
    with pytest.raises(SchemaChangeRefused) as caught:
        apply_objects(loom, [machine(FieldSpec(name="hours", type="integer"))])
    assert caught.value.record_ids == [bad["id"]]
    assert str(bad["id"]) in caught.value.message
    # Nothing was applied: the field is still text and both values are intact.
    assert loom.registry.object("machine").field("hours").type == "text"
    assert loom.records().get("machine", good["id"])["hours"] == "1200"
    assert loom.records().get("machine", bad["id"])["hours"] == "about ten"


def test_invalid_metadata_applies_nothing(loom: Loom) -> None:
    apply_objects(loom, [machine()])
    broken = machine(
        FieldSpec(name="owner_name", type="formula", params={"expression": "nmae + '!'", "result": "text"})
    )
    with pytest.raises(InvalidMetadata) as caught:
        apply_objects(loom, [broken, replace(machine(), name="robot")])
    assert any("nmae" in problem.message for problem in caught.value.problems)
    assert not loom.registry.has_object("robot")
    assert "obj_robot" not in inspect(loom.db).get_table_names()


def test_a_failed_change_rolls_back_its_ddl_too(loom: Loom) -> None:
    apply_objects(loom, [machine(FieldSpec(name="serial_no", type="text"))])
    loom.records().create("machine", {"name": "a", "serial_no": "S1"})
    loom.records().create("machine", {"name": "b", "serial_no": "S1"})
    unique = machine(
        FieldSpec(name="serial_no", type="text", unique=True), FieldSpec(name="hours", type="integer")
    )
    with pytest.raises(SchemaChangeRefused):
        apply_objects(loom, [unique])
    # The column added before the unique index failed is gone again (transactional DDL on SQLite too).
    assert "hours" not in columns(loom, "obj_machine")


def test_metadata_changes_are_kept_as_revisions_with_diffs(loom: Loom) -> None:
    apply_objects(loom, [machine()])
    apply_objects(loom, [machine(FieldSpec(name="hours", type="integer"))])
    with loom.read() as conn:
        history = revisions(conn, "object", "machine")
    assert [row["action"] for row in history] == ["update", "create"]
    assert history[0]["actor_name"] == "system"
    assert any("hours" in change["path"] for change in history[0]["diff"])


def test_another_process_changing_metadata_is_noticed(loom: Loom, database_url: str) -> None:
    apply_objects(loom, [machine()])
    assert "hours" not in loom.registry.object("machine").fields
    other = Loom(database_url)
    apply_objects(other, [machine(FieldSpec(name="hours", type="integer"))])
    other.close()
    assert "hours" in loom.registry.object("machine").fields
