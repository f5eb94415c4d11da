"""Compiled SQL shared by every database a process opens, so that a statement is compiled once per
kind of database rather than once per database (a process serving several, a test suite opening
thousands).

SQLAlchemy tells statements apart by the Table objects they name: Loom's own tables are one set per
process, and an object's table is shared by databases that share its registry (BuiltRegistries).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.util import LRUCache

# SQLAlchemy keeps 500 statements per engine by default; shared by every engine of the process,
# the cache holds the statements of several registries' worth of objects.
CAPACITY = 2000


class SharedStatementCache:
    """SQLAlchemy's compiled-statement cache (the `compiled_cache` execution option), keyed by what a
    dialect compiles by instead of by the dialect object, which is one per engine."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._compiled: LRUCache[tuple, Any] = LRUCache(capacity)

    def get(self, key: tuple, default: Any = None) -> Any:
        return self._compiled.get(_shared_key(key), default)

    def __setitem__(self, key: tuple, compiled: Any) -> None:
        self._compiled[_shared_key(key)] = compiled


def _shared_key(key: tuple) -> tuple:
    # SQLAlchemy's key is (dialect, statement's cache key, column keys, flags).
    dialect, *rest = key
    return (_kind(dialect), *rest)


def _kind(dialect: Dialect) -> tuple:
    # Every engine is made by open_database with its dialect's defaults, so two dialects of one
    # class compile alike unless their servers' versions differ (the SQL each accepts). A default
    # schema is not part of compiled SQL: unqualified names are resolved by the server.
    return (type(dialect), dialect.server_version_info)


STATEMENTS = SharedStatementCache()
