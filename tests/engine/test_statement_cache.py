"""Looms of one process on databases of one kind holding the same metadata (one registry, see
test_built_registries.py) compile each statement once, and each still reads and writes its own
database; a database of the other kind gets SQL of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from engine.loom import Loom
from engine.schema.built_registries import BuiltRegistries
from engine.schema.changes import apply_objects
from metadata.specs import ObjectSpec
from tests.conftest import postgres_schema

MACHINE = ObjectSpec.from_json(
    {
        "name": "machine",
        "label": {"en": "Machine"},
        "fields": [
            {"name": "name", "type": "text", "required": True},
            {"name": "hours", "type": "integer"},
        ],
    }
)


def opened(*urls: str) -> list[Loom]:
    shared = BuiltRegistries()
    looms = [Loom(url, built_registries=shared) for url in urls]
    for loom in looms:
        loom.init()
        apply_objects(loom, [MACHINE])
    return looms


def work(loom: Loom, name: str, hours: int) -> list[tuple[str, int]]:
    made = loom.records().create("machine", {"name": name, "hours": hours})
    loom.records().update("machine", made["id"], {"hours": hours + 1})
    found = loom.queries().find("machine", filter="hours > 0", sort="-hours").records
    return [(record["name"], record["hours"]) for record in found]


def compiled_anew(loom: Loom) -> list[str]:
    """The statements `loom` has run since it was opened that were compiled for it, not found compiled."""
    missed: list[str] = []

    @event.listens_for(loom.db, "after_cursor_execute")
    def _ran(_conn, _cursor, statement, _parameters, context, _many):  # type: ignore[no-untyped-def]
        if context.compiled is not None and context.cache_hit != context.dialect.CACHE_HIT:
            missed.append(statement)

    return missed


@pytest.fixture
def tenants(database_url: str, another_database_url: str) -> Iterator[list[Loom]]:
    looms = opened(database_url, another_database_url)
    yield looms
    for loom in looms:
        loom.close()


def test_the_second_database_reuses_the_first_ones_statements_and_keeps_its_own_records(
    tenants: list[Loom],
) -> None:
    first, second = tenants
    assert work(first, "注塑机 A", 10) == [("注塑机 A", 11)]
    missed = compiled_anew(second)
    assert work(second, "冲压机 B", 20) == [("冲压机 B", 21)]
    assert missed == [], "the same work on a database of the same kind compiled anew"
    assert work(first, "注塑机 C", 30) == [("注塑机 C", 31), ("注塑机 A", 11)]


@pytest.fixture
def other_kind(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the kind `database_url` is not: PostgreSQL for SQLite, SQLite for PostgreSQL."""
    if database_url.startswith("sqlite"):
        with postgres_schema() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'other.db'}"


def test_a_database_of_the_other_kind_compiles_its_own(database_url: str, other_kind: str) -> None:
    looms = opened(database_url, other_kind)
    try:
        first, other = looms
        work(first, "注塑机 A", 1)
        missed = compiled_anew(other)
        assert work(other, "冲压机 B", 2) == [("冲压机 B", 3)]
        assert missed, "a database of the other kind ran SQL compiled for the first"
    finally:
        for loom in looms:
            loom.close()
