"""One web request's reads share a read transaction: what it reads after its own write still sees the
write, and a read the database refuses does not spoil the reads after it."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from engine.base.errors import RecordInvalid
from engine.loom import Loom


def _begun(loom: Loom) -> list[str]:
    """The transactions opened from now on, as "read" or "write"."""
    opened: list[str] = []

    @event.listens_for(loom.db, "begin")
    def count(connection):  # type: ignore[no-untyped-def]
        opened.append("read" if connection.get_execution_options().get("loom_readonly") else "write")

    return opened


def test_reads_within_one_request_share_one_transaction(crm: Loom) -> None:
    made = crm.records().create("customer", {"name": "杭州云栖科技", "level": "key"})
    opened = _begun(crm)
    with crm.one_request():
        assert crm.records().get("customer", made["id"])["name"] == "杭州云栖科技"
        assert crm.queries().find("customer").records
        crm.registry.object("customer")
    assert opened == ["read"]


def test_a_read_after_a_write_in_the_same_request_sees_the_write(crm: Loom) -> None:
    made = crm.records().create("customer", {"name": "杭州云栖科技", "level": "key"})
    with crm.one_request():
        before = crm.records().get("customer", made["id"])
        crm.records().update("customer", made["id"], {"level": "vip"}, version=before["version"])
        assert crm.records().get("customer", made["id"])["level"] == "vip"
        added = crm.records().create("customer", {"name": "宁波海曙贸易", "level": "normal"})
        assert crm.records().get("customer", added["id"])["name"] == "宁波海曙贸易"


def test_a_read_opened_inside_a_write_is_not_reused_after_it(crm: Loom) -> None:
    made = crm.records().create("customer", {"name": "杭州云栖科技", "level": "key"})
    with crm.one_request():
        with crm.begin() as conn:
            # Read from outside the write while it is open: the write is not visible yet.
            assert crm.records().get("customer", made["id"])["level"] == "key"
            crm.records(conn=conn).update("customer", made["id"], {"level": "vip"}, version=made["version"])
        assert crm.records().get("customer", made["id"])["level"] == "vip"


def test_a_read_the_database_refuses_leaves_the_next_read_working(crm: Loom) -> None:
    made = crm.records().create("customer", {"name": "杭州云栖科技", "level": "key"})
    with crm.one_request():
        assert crm.records().get("customer", made["id"])["level"] == "key"
        # On PostgreSQL a failed statement spoils the transaction it ran in.
        with pytest.raises(DBAPIError), crm.read() as conn:
            conn.execute(text("SELECT no_such_column FROM obj_customer"))
        assert crm.records().get("customer", made["id"])["name"] == "杭州云栖科技"


def test_a_request_reads_and_writes_through_one_connection(crm: Loom) -> None:
    made = crm.records().create("customer", {"name": "杭州云栖科技", "level": "key"})
    checkouts: list[object] = []
    event.listen(crm.db.pool, "checkout", lambda *_: checkouts.append(1))
    with crm.one_request():
        before = crm.records().get("customer", made["id"])
        crm.records().update("customer", made["id"], {"level": "vip"}, version=before["version"])
        assert crm.records().get("customer", made["id"])["level"] == "vip"
    assert len(checkouts) == 1


def test_a_request_of_reads_commits_so_the_statements_the_driver_prepared_are_kept(crm: Loom) -> None:
    """psycopg forgets every prepared statement on a rollback; PostgreSQL would then plan the
    record's SELECT (with its seven roll-up sub-selects) again in every request."""
    made = crm.records().create("customer", {"name": "杭州云栖科技", "level": "key"})
    ended: list[str] = []
    event.listen(crm.db, "commit", lambda _conn: ended.append("commit"))
    event.listen(crm.db, "rollback", lambda _conn: ended.append("rollback"))
    for _ in range(6):  # psycopg prepares a statement the fifth time a connection runs it
        with crm.one_request():
            assert crm.records().get("customer", made["id"])["name"] == "杭州云栖科技"
    assert ended == ["commit"] * 6
    if crm.db.dialect.name == "postgresql":
        with crm.one_request(), crm.read() as conn:
            prepared = conn.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
        assert any("FROM obj_customer" in statement for statement in prepared), prepared


def test_a_save_after_reads_continues_their_transaction_on_postgresql_only(crm: Loom) -> None:
    """PostgreSQL at READ COMMITTED reads with a snapshot per statement, so a save may go on in the
    request's read transaction (sparing a COMMIT and a BEGIN); SQLite's reader must take the write
    lock from BEGIN IMMEDIATE, so there the save opens a write transaction of its own."""
    opened = _begun(crm)
    with crm.one_request():
        crm.registry.object("customer")
        made = crm.records().create("customer", {"name": "杭州云栖科技", "level": "key"})
        assert crm.records().get("customer", made["id"])["name"] == "杭州云栖科技"
    expected = ["read", "read"] if crm.db.dialect.name == "postgresql" else ["read", "write", "read"]
    assert opened == expected
    assert crm.records().get("customer", made["id"])["level"] == "key"  # committed


def test_a_refused_save_in_a_continued_read_leaves_nothing_and_the_next_request_works(crm: Loom) -> None:
    made = crm.records().create("customer", {"name": "杭州云栖科技", "level": "key"})
    with crm.one_request():
        crm.records().get("customer", made["id"])
        with pytest.raises(DBAPIError), crm.begin() as conn:
            crm.records(conn=conn).update("customer", made["id"], {"level": "vip"}, version=made["version"])
            conn.execute(text("SELECT no_such_column FROM obj_customer"))
        assert crm.records().get("customer", made["id"])["level"] == "key"
    with crm.one_request():
        assert crm.records().get("customer", made["id"])["level"] == "key"
        crm.records().update("customer", made["id"], {"level": "vip"}, version=made["version"])
    assert crm.records().get("customer", made["id"])["level"] == "vip"


def test_a_request_there_to_save_is_one_transaction_reading_the_metadata_version_once(crm: Loom) -> None:
    """An API create, update or delete: on SQLite its reads take the write lock from the start, so
    the save goes on in their transaction and the metadata version read first still holds; on
    PostgreSQL the save goes on in the read transaction that read the version."""
    made = crm.records().create("customer", {"name": "杭州云栖科技", "level": "key"})
    opened, statements = _begun(crm), []
    event.listen(crm.db, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    with crm.one_request(saves=True):
        crm.registry.object("customer")
        crm.records().update("customer", made["id"], {"level": "vip"}, version=made["version"])
        assert crm.records().get("customer", made["id"])["level"] == "vip"
    version_reads = [sql for sql in statements if "loom_state" in sql]
    assert opened == (["write", "read"] if crm.db.dialect.name == "sqlite" else ["read", "read"])
    assert len(version_reads) == 1
    assert crm.records().get("customer", made["id"])["level"] == "vip"  # committed


def test_a_refused_save_of_a_request_there_to_save_leaves_nothing_and_the_next_one_works(crm: Loom) -> None:
    made = crm.records().create("customer", {"name": "杭州云栖科技", "level": "key"})
    with crm.one_request(saves=True):
        crm.registry.object("customer")
        with pytest.raises(RecordInvalid):
            crm.records().update("customer", made["id"], {"level": "no-such-level"}, version=made["version"])
    with crm.one_request(saves=True):
        crm.records().update("customer", made["id"], {"level": "vip"}, version=made["version"])
    assert crm.records().get("customer", made["id"])["level"] == "vip"


def test_a_write_inside_a_read_of_a_request_there_to_save_commits_with_it(crm: Loom) -> None:
    """On SQLite that read holds the write lock: a write on a connection of its own would wait for it."""
    made = crm.records().create("customer", {"name": "杭州云栖科技", "level": "key"})
    with crm.one_request(saves=True), crm.read():
        crm.records().update("customer", made["id"], {"level": "vip"}, version=made["version"])
    assert crm.records().get("customer", made["id"])["level"] == "vip"
