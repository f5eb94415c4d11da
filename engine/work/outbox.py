"""The outbox: external effects (e-mail, webhooks) written in the transaction that caused them and
delivered by the worker after commit — at least once, each with an idempotency key, retried with
backoff. Nothing is sent for a change that rolled back, and nothing is lost if the worker dies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Connection, insert, select, update

from engine.base.named_registry import NamedRegistry
from engine.base.settings import EnvSettings
from engine.store.system_tables import outbox
from engine.work.queue import JobQueue

if TYPE_CHECKING:
    from engine.loom import Loom

LEASE = timedelta(minutes=5)
QUEUE = JobQueue(outbox, due_column="next_attempt_at", claimed_status="sending", lease=LEASE)


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    key: str
    channel: str
    message: Mapping[str, Any]
    attempts: int


class Channel:
    """A way out of the system (SMTP, HTTP …). `deliver` raises on failure; the outbox retries.

    `settings` is the channel's own settings class; the Loom reads it from the environment once and
    hands it to every delivery (tests and embedders replace it in `loom.channel_settings`).
    """

    name: ClassVar[str]
    settings: ClassVar[type[EnvSettings] | None] = None

    def deliver(self, message: OutboxMessage, settings: Any) -> None:
        raise NotImplementedError


class ChannelRegistry(NamedRegistry[Channel]):
    """Delivery channels by name; plugins add their own through the plugin API."""

    kind = "delivery channel"

    def unknown(self, name: str) -> Exception:
        return LookupError(f"no delivery channel named {name!r}")


def enqueue(
    conn: Connection, channel: str, message: Mapping[str, Any], key: str, now: datetime, source: str = ""
) -> None:
    """Queue a message in the caller's transaction; a key already queued is not queued twice."""
    if conn.execute(select(outbox.c.id).where(outbox.c.key == key)).first() is not None:
        return
    conn.execute(
        insert(outbox).values(
            key=key,
            channel=channel,
            message=dict(message),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            source=source[:200],
        )
    )


def claim(conn: Connection, now: datetime, limit: int) -> list[OutboxMessage]:
    rows = QUEUE.claim(conn, now, limit)
    return [OutboxMessage(row.id, row.key, row.channel, row.message, row.attempts + 1) for row in rows]


def deliver_outbox(loom: Loom, limit: int = 100) -> dict[str, int]:
    """One delivery pass: claim due messages, send each, record the outcome. Returns counts."""
    with loom.begin() as conn:
        messages = claim(conn, loom.clock.now(), limit)
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    for message in messages:
        try:
            loom.channels.get(message.channel).deliver(message, loom.channel_settings.get(message.channel))
        except Exception as error:
            outcome = _record_failure(loom, message, f"{type(error).__name__}: {error}")
        else:
            outcome = "delivered"
            with loom.begin() as conn:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == message.id)
                    .values(
                        status="delivered", delivered_at=loom.clock.now(), locked_until=None, last_error=None
                    )
                )
        counts[outcome] += 1
    return counts


def _record_failure(loom: Loom, message: OutboxMessage, error: str) -> str:
    with loom.begin() as conn:
        final = QUEUE.fail(
            conn, message.id, message.attempts, loom.settings.outbox_max_attempts, loom.clock.now(), error
        )
    return "failed" if final else "retrying"
