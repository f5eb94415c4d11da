"""Rows written in one driver call: a row the database refuses fails them all, as SQLAlchemy's error."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from engine.loom import Loom
from engine.store.audit import AUDIT_COLUMNS
from engine.store.bulk import COPY_FROM_ROWS, insert_rows
from engine.store.system_tables import audit_log
from engine.store.writes import writes_seen

AT = datetime(2026, 11, 26, 9, 0)


def _rows(count: int) -> list[tuple]:
    return [
        (AT, 1, "王芳", "customer", number, "create", '{"name": [null, "客户"]}') for number in range(count)
    ]


@pytest.mark.parametrize("count", [3, COPY_FROM_ROWS + 5])
def test_rows_are_written_and_a_refused_row_writes_none(loom: Loom, count: int) -> None:
    with loom.begin() as conn:
        insert_rows(conn, audit_log.name, AUDIT_COLUMNS, _rows(count))
    bad = _rows(count)
    bad[-1] = (AT, 1, "王芳", None, 0, "create", "{}")  # the object column may not be empty
    with pytest.raises(IntegrityError), loom.begin() as conn:
        insert_rows(conn, audit_log.name, AUDIT_COLUMNS, bad)
    with loom.read() as conn:
        assert conn.scalar(select(func.count()).select_from(audit_log)) == count


@pytest.mark.parametrize("count", [3, COPY_FROM_ROWS + 5])
def test_rows_written_are_seen_as_writes_and_reads_are_not(loom: Loom, count: int) -> None:
    """What tells a create that nothing changed its record after the INSERT: COPY counts too."""
    with loom.begin() as conn:
        before = writes_seen(conn)
        conn.scalar(select(func.count()).select_from(audit_log))
        assert writes_seen(conn) == before
        insert_rows(conn, audit_log.name, AUDIT_COLUMNS, _rows(count))
        assert writes_seen(conn) > before
