"""What the record and query services share: one actor, and the caller's transaction when there is one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from engine.base.actors import Actor
from engine.expressions import EvalContext, SqlContext

if TYPE_CHECKING:
    from engine.loom import Loom


class ActingService:
    """Calls made as one actor; inside `conn` when given (a rule's or a flow's transaction), else each
    call in its own."""

    def __init__(self, loom: Loom, actor: Actor, conn: Connection | None = None) -> None:
        self.loom = loom
        self.actor = actor
        self.conn = conn

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A write transaction: the caller's, or a new one."""
        if self.conn is not None:
            yield self.conn
        else:
            with self.loom.begin() as conn:
                yield conn

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        # A read takes no write lock, so on SQLite it does not queue behind writes.
        if self.conn is not None:
            yield self.conn
        else:
            with self.loom.read() as conn:
                yield conn

    def _contexts(self) -> tuple[EvalContext, SqlContext]:
        return self.loom.contexts(self.actor)
