"""Due work and the outbox share one queue: a failing job is retried after the same growing waits,
and after its last attempt it stays failed with its error, never claimed again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.base.clock import Clock
from engine.loom import Loom
from engine.store.system_tables import due_work, outbox
from engine.work import due_work as due
from engine.work.outbox import Channel, deliver_outbox, enqueue


class Unreachable(Channel):
    name = "unreachable"

    def deliver(self, message, settings) -> None:  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("the receiver is down")


def failing(loom: Loom, item: due.DueItem) -> None:
    raise RuntimeError(f"no printer for {item.key}")


def test_a_failing_due_item_waits_longer_each_time_then_stays_failed(loom: Loom, clock: Clock) -> None:
    loom.due_handlers["print"] = failing
    with loom.begin() as conn:
        due.schedule(conn, "print:1", "print", {}, clock.now(), clock.now())
    waits = []
    for _attempt in range(due.MAX_ATTEMPTS):
        assert due.run_due(loom, loom.due_handlers) == 1
        with loom.read() as conn:
            row = conn.execute(select(due_work)).one()
        waits.append(row.due_at - clock.now())
        clock.set(row.due_at)
    assert waits[:-1] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
    ]
    assert (row.status, row.attempts) == ("failed", due.MAX_ATTEMPTS)
    assert "no printer for print:1" in row.last_error
    clock.set(clock.now() + timedelta(days=1))
    assert due.run_due(loom, loom.due_handlers) == 0


def test_an_undeliverable_message_waits_as_a_failing_due_item_does(loom: Loom, clock: Clock) -> None:
    loom.channels.register(Unreachable())
    with loom.begin() as conn:
        enqueue(conn, "unreachable", {"hello": "world"}, "m-1", clock.now())
    waits = []
    for _attempt in range(3):
        assert deliver_outbox(loom) == {"delivered": 0, "retrying": 1, "failed": 0}
        with loom.read() as conn:
            row = conn.execute(select(outbox)).one()
        waits.append(row.next_attempt_at - clock.now())
        clock.set(row.next_attempt_at)
    assert waits == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2)]
    assert row.status == "pending" and "the receiver is down" in row.last_error
