"""Writers on one SQLite file queue for its write lock: one that finds it taken saves once it is free,
and gives up with SQLite's own error only after the same patience as SQLite's busy timeout."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from engine.store import database
from engine.store.database import open_database


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    opened = open_database(f"sqlite:///{tmp_path}/lock.db")
    with opened.begin() as conn:
        conn.execute(text("CREATE TABLE saves (who TEXT, seen INTEGER)"))
    yield opened
    opened.dispose()


def _save_in_thread(engine: Engine, who: str, outcome: dict) -> threading.Thread:
    def save() -> None:
        try:
            with engine.begin() as conn:
                outcome["locked_at"] = time.monotonic()
                seen = conn.execute(text("SELECT count(*) FROM saves")).scalar_one()
                conn.execute(text("INSERT INTO saves VALUES (:who, :seen)"), {"who": who, "seen": seen})
        except sqlite3.OperationalError as error:
            outcome["error"] = error

    thread = threading.Thread(target=save)
    thread.start()
    return thread


def test_a_writer_that_finds_the_lock_taken_saves_once_the_other_has_committed(engine: Engine) -> None:
    outcome: dict = {}
    with engine.begin() as first:
        first.execute(text("INSERT INTO saves VALUES ('first', 0)"))
        second = _save_in_thread(engine, "second", outcome)
        time.sleep(0.2)  # the second writer is waiting for the lock meanwhile
        assert "locked_at" not in outcome
        committed_at = time.monotonic()
    second.join()
    assert "error" not in outcome
    assert outcome["locked_at"] >= committed_at
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT who, seen FROM saves ORDER BY rowid")).all()
    assert [tuple(row) for row in rows] == [("first", 0), ("second", 1)]  # it saw the first save


def test_a_writer_gives_up_with_database_is_locked_after_its_patience(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "WRITE_LOCK_PATIENCE", 0.2)
    outcome: dict = {}
    with engine.begin() as first:
        first.execute(text("INSERT INTO saves VALUES ('first', 0)"))
        _save_in_thread(engine, "second", outcome).join()
    assert "database is locked" in str(outcome["error"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM saves")).scalars().all() == ["first"]


def test_other_statements_still_wait_as_long_as_sqlite_s_busy_timeout(engine: Engine) -> None:
    with engine.begin() as conn:
        timeout = conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    assert timeout == database.WRITE_LOCK_PATIENCE * 1000
