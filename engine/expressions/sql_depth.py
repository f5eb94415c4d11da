"""Whether the database can read a compiled condition: SQLite's parser has a small, fixed stack.

A 50-level expression is within the language's limits, yet 30 nested calls become SQL that SQLite
refuses with "parser stack overflow". Each compiled condition is read once by an in-memory SQLite
(rendered as SQLite SQL whatever the database) so a filter means the same on both databases:
refused with a message on both rather than a server error on one.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.elements import ColumnElement

from engine.base.errors import ExpressionError

# Room for what a query puts around a condition: WHERE … AND …, a roll-up's sub-select, a CASE.
_MARGIN = 24
_DIALECT = sqlite.dialect()
_threads = threading.local()


class TooDeepForSql(ExpressionError):
    """The expression's SQL form is nested more deeply than the database's parser reads."""


def ensure_readable(condition: ColumnElement[Any]) -> None:
    """Raise TooDeepForSql when SQLite's parser would overflow on this condition inside a query."""
    try:
        text = str(condition.compile(dialect=_DIALECT))
    except Exception:  # a PostgreSQL-only construct: SQLite never runs it, and PostgreSQL reads deeper
        return
    if text.count("(") + text.count("CASE") < 20:
        return  # far from any limit: skip the parse
    try:
        connection = _threads.connection
    except AttributeError:
        connection = _threads.connection = sqlite3.connect(":memory:", check_same_thread=True)
    statement = f"SELECT 1 WHERE {'(' * _MARGIN}{text}{')' * _MARGIN}"
    try:
        connection.execute(statement).fetchall()
    except sqlite3.OperationalError as error:
        if "parser stack overflow" in str(error) or "too deep" in str(error):
            raise TooDeepForSql(
                "expression is nested too deeply for the database once turned into SQL:"
                " use fewer nested calls, conditions or if/else"
            ) from None
    except sqlite3.Error:
        pass  # unknown tables, columns or functions, wrong bindings: only the parse mattered
