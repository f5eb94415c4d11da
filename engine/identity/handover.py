"""Hand every record a user owns to another user — typically when someone leaves or changes job."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    DateTime,
    Select,
    String,
    Table,
    func,
    insert,
    literal,
    select,
    update,
)

from engine.base.actors import Actor
from engine.identity.errors import IdentityInvalid, UserDisabled
from engine.identity.transactions import writing
from engine.identity.users import user_row
from engine.store.system_tables import audit_log

if TYPE_CHECKING:
    from datetime import datetime

    from engine.loom import Loom

_AUDIT_COLUMNS = ["at", "actor_id", "actor_name", "object", "record_id", "action", "changes", "batch"]


def handover(
    loom: Loom,
    from_user_id: int,
    to_user_id: int,
    *,
    objects: Iterable[str] | None = None,
    actor: Actor,
    conn: Connection | None = None,
) -> dict[str, int]:
    """Give `to_user_id` every live record `from_user_id` owns; returns {object: records moved}.

    Covers every object, or only those named in `objects`. All of it happens in one
    transaction: either every record moves or none does. Each moved record gets a new version
    (so an edit begun before the handover is refused as a conflict, not silently applied) and
    one audit row, action "handover", changes {"owner": [from, to]}; all rows of one handover
    share a batch id. Records in the recycle bin stay where they are.

    This is a bulk change in SQL — per object one statement on PostgreSQL, two on SQLite,
    whatever the number of records — so it does not fire rules or emit record events (a rule
    watching the owner does not run), and it does not check the actor's record permissions:
    only admins should be offered it.
    The source user may be disabled (that is the usual case); the target may not.
    """
    if from_user_id == to_user_id:
        raise IdentityInvalid("records can only be handed over to a different user")
    with writing(loom, conn) as conn:
        user_row(conn, from_user_id)
        target = user_row(conn, to_user_id)
        if not target.active:
            raise UserDisabled(target.username, "receive records")
        registry = loom.registry_for(conn)
        names = list(registry.objects) if objects is None else [registry.object(n).name for n in objects]
        move = _Move(
            conn,
            actor,
            loom.clock.now(),
            from_user_id,
            to_user_id,
            batch=uuid.uuid4().hex,
        )
        return {name: move.records_of(name, registry.object(name).table) for name in dict.fromkeys(names)}


class _Move:
    """One handover: the same moment, actor and batch id for every object's statement."""

    def __init__(
        self, conn: Connection, actor: Actor, now: datetime, from_id: int, to_id: int, *, batch: str
    ) -> None:
        self.conn = conn
        self.actor = actor
        self.now = now
        self.from_id = from_id
        self.to_id = to_id
        self.batch = batch

    def records_of(self, object_name: str, table: Table) -> int:
        owned = (table.c.owner_id == self.from_id, table.c.deleted_at.is_(None))
        moved = (
            update(table)
            .where(*owned)
            .values(
                owner_id=self.to_id,
                version=table.c.version + 1,
                updated_at=self.now,
                updated_by=self.actor.user_id,
            )
        )
        if self.conn.dialect.name == "postgresql":
            # One statement: the UPDATE's RETURNING feeds the audit INSERT, so the audit names
            # exactly the rows that moved even if another transaction adds a record for the
            # same owner while this one runs (READ COMMITTED would let two statements differ).
            ids = moved.returning(table.c.id).cte("moved")
            audited = (
                insert(audit_log)
                .from_select(_AUDIT_COLUMNS, self._audit_select(object_name, ids.c.id))
                .returning(audit_log.c.id)
                .cte("audited")
            )
            return self.conn.execute(select(func.count()).select_from(audited)).scalar_one()
        # SQLite: the transaction holds the database's write lock (BEGIN IMMEDIATE), so no
        # other writer can change the table between reading the rows and moving them.
        rows = self._audit_select(object_name, table.c.id).where(*owned)
        self.conn.execute(insert(audit_log).from_select(_AUDIT_COLUMNS, rows))
        return self.conn.execute(moved).rowcount

    def _audit_select(self, object_name: str, record_id: ColumnElement[int]) -> Select:
        changes = literal({"owner": [self.from_id, self.to_id]}, audit_log.c.changes.type)
        return select(
            literal(self.now, DateTime),
            literal(self.actor.user_id, BigInteger),
            literal(self.actor.name, String),
            literal(object_name, String),
            record_id,
            literal("handover", String),
            changes,
            literal(self.batch, String),
        )
