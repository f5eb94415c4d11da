"""Looms of one process whose databases hold the same metadata share one registry; a database whose
metadata differs, or changes, gets its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.base.errors import RecordInvalid
from engine.loom import Loom
from engine.schema.built_registries import BuiltRegistries
from engine.schema.changes import apply_objects
from metadata.specs import ObjectSpec


def machine(*extra: dict) -> ObjectSpec:
    fields = [{"name": "name", "type": "text", "required": True}, *extra]
    return ObjectSpec.from_json({"name": "machine", "label": {"en": "Machine"}, "fields": fields})


@pytest.fixture
def tenants(database_url: str, another_database_url: str) -> Iterator[tuple[Loom, Loom]]:
    shared = BuiltRegistries()
    first, second = (Loom(url, built_registries=shared) for url in (database_url, another_database_url))
    for loom in (first, second):
        loom.init()
        apply_objects(loom, [machine()])
    yield first, second
    first.close()
    second.close()


def test_databases_with_the_same_metadata_share_one_registry(tenants: tuple[Loom, Loom]) -> None:
    first, second = tenants
    assert first.registry is second.registry
    made = second.records().create("machine", {"name": "注塑机 A"})
    assert first.queries().count("machine") == 0  # one registry, each database its own records
    assert second.records().get("machine", made["id"])["name"] == "注塑机 A"


def test_a_change_of_metadata_in_one_database_is_not_seen_by_the_other(tenants: tuple[Loom, Loom]) -> None:
    first, second = tenants
    apply_objects(first, [machine({"name": "hours", "type": "integer"})])
    assert "hours" in first.registry.object("machine").fields
    assert "hours" not in second.registry.object("machine").fields
    assert first.records().create("machine", {"name": "注塑机 B", "hours": 12})["hours"] == 12
    with pytest.raises(RecordInvalid) as refused:
        second.records().create("machine", {"name": "注塑机 C", "hours": 12})
    assert "hours" in refused.value.fields
