"""Opening a database so that metadata changes and their DDL commit or roll back together."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError

from engine.store.statement_cache import STATEMENTS
from engine.store.writes import count_writes

# PostgreSQL's states for a server going away: administrator shutdown, crash shutdown, and
# "cannot connect now" (starting up or shutting down). Class 08 is every connection exception.
SERVER_GOING_AWAY = {"57P01", "57P02", "57P03"}


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and mean psycopg 3; pass SQLite URLs through."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def database_unavailable(error: BaseException) -> bool:
    """Whether a database error says the server cannot be reached just now, not that a statement was wrong."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or error.statement is None:
        # The connection broke under a statement (the pool opens a new one next time), or no
        # connection could be opened at all: refused, or turned away by a server going down.
        return True
    state = getattr(error.orig, "sqlstate", None) or ""
    return state.startswith("08") or state in SERVER_GOING_AWAY


# Statements are compiled once per kind of database in the process (engine/store/statement_cache.py);
# the engine's own cache would go unused. Dialects keep their defaults, which that sharing relies on.
SHARED_COMPILED_SQL: dict[str, Any] = {
    "query_cache_size": 0,
    "execution_options": {"compiled_cache": STATEMENTS},
}


def open_database(url: str, *, echo: bool = False) -> Engine:
    """Create the SQLAlchemy engine for a database URL with Loom's connection settings."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _open_sqlite(url, echo=echo)
    else:
        engine = create_engine(url, echo=echo, **SHARED_COMPILED_SQL)
        _ping_after_idling(engine)
    count_writes(engine)
    return engine


# A connection handed back to the pool less than this long ago is used again without a ping first.
# Under load a ping before every transaction would cost each request a round trip to the server;
# a server restarting then fails the requests in flight anyway (answered 503, and the pool renews
# itself on the first such error), while a connection left idle is checked before it is trusted.
PING_AFTER_IDLE = 1.0  # seconds


def _ping_after_idling(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection, record):  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked(dbapi_connection, record, _proxy):  # type: ignore[no-untyped-def]
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards the connection and tries a new one, as its own pre-ping does.
            raise DisconnectionError(str(error)) from error


PAGE_CACHE_KIB = 16 * 1024

# How long a SQLite writer waits for another to finish (its busy_timeout too); the first try again
# comes after 50 µs, each next one after twice as long, at most a millisecond apart.
WRITE_LOCK_PATIENCE = 30.0
_FIRST_RETRY, _LONGEST_RETRY = 0.00005, 0.001


def _open_sqlite(url: str, *, echo: bool) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, echo=echo, connect_args={"timeout": WRITE_LOCK_PATIENCE}, **SHARED_COMPILED_SQL
    )

    # pysqlite opens transactions itself and commits before DDL, so a failed schema change
    # would leave its new column behind. SQLAlchemy's documented recipe: let the driver do
    # nothing and emit BEGIN ourselves, which makes DDL transactional like on PostgreSQL.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(WRITE_LOCK_PATIENCE * 1000)}")
        # A page cache of up to 16 MiB (SQLite's default is 2 MiB), allocated only as used. 64 MiB
        # measured no faster on 100,000-record imports, bulk creates, pages and 1,000,000-row
        # reports (the system keeps the file's pages cached too), and held 50 MiB more per process.
        cursor.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
        # Checkpoint at 40 MiB of log rather than 4 MiB: bulk writes (imports, bulk edits) touch
        # the same index pages batch after batch, and each checkpoint copies and syncs them again.
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        # Writers take the lock up front (IMMEDIATE) so two of them queue on busy_timeout instead
        # of failing when both try to upgrade a read lock; readers stay concurrent.
        readonly = connection.get_execution_options().get("loom_readonly", False)
        # Straight to the driver: every request opens a transaction, and a statement through the
        # engine's execution path costs several times what SQLite takes to run BEGIN.
        driver = connection.connection.driver_connection
        if readonly:
            driver.execute("BEGIN")
        else:
            take_write_lock(driver)

    return engine


def take_write_lock(driver: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, tried again at short intervals while another connection holds the lock.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 … 100 ms between tries: two writers
    that met waited many times what a save holds the lock (about a millisecond), and a second
    gunicorn worker made creates slower than one worker alone.
    """
    try:
        driver.execute("PRAGMA busy_timeout=0")
        deadline, pause = time.monotonic() + WRITE_LOCK_PATIENCE, _FIRST_RETRY
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_RETRY)
    finally:
        driver.execute(f"PRAGMA busy_timeout={int(WRITE_LOCK_PATIENCE * 1000)}")
