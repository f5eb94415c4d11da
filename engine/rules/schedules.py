"""Time-based rules: cron schedules and date offsets, kept as due work and run by the worker.

A schedule rule has one due row (its next fire time). When it runs it selects its records with
the condition compiled to SQL, in id-ordered batches (memory stays flat), each batch in its own
transaction, and then makes itself due again at the next fire time after now — so runs missed
while the worker was down collapse into one run, never zero and never several.

A date-offset rule has one due row per record ("30 days before end_date at 09:00"), written when
the record is saved and moved when the date moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Connection, and_, delete, insert, select, update

from engine.base.actors import SYSTEM
from engine.base.errors import LoomError
from engine.base.events import RecordEvent
from engine.expressions import to_sql
from engine.records.sql import name_resolver, row_to_record, rows_to_records, select_columns
from engine.rules.firing import Firing, fire_batch, fire_rule
from engine.schema.registry import Registry
from engine.store.system_tables import rule_episodes, rule_state
from engine.work.due_work import DueItem, cancel, cancel_prefix, finish, schedule
from metadata.rules import RuleSpec

if TYPE_CHECKING:
    from engine.loom import Loom

BATCH = 500


def next_fire_time(cron: str, after: datetime, timezone: ZoneInfo) -> datetime:
    """The next moment (naive UTC) a five-field cron expression fires after `after` (naive UTC)."""
    trigger = CronTrigger.from_crontab(cron, timezone=timezone)
    aware = after.replace(tzinfo=ZoneInfo("UTC"))
    fire = trigger.get_next_fire_time(None, aware + timedelta(seconds=1))
    return fire.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def date_offset_due(rule: RuleSpec, value: date | datetime | None, timezone: ZoneInfo) -> datetime | None:
    """When a date-offset rule is due for a record whose date field holds `value` (naive UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.replace(tzinfo=ZoneInfo("UTC")).astimezone(timezone).date()
    hour, minute = (int(part) for part in rule.trigger.at.split(":"))
    local = datetime.combine(value + timedelta(days=rule.trigger.days), time(hour, minute), timezone)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _offset_key(rule: str, record_id: int) -> str:
    return f"rule:{rule}:record:{record_id}"


# -- keeping due rows in step with metadata and records ---------------------------------------------


def sync_rule_schedules(
    loom: Loom, conn: Connection, old: Mapping[str, RuleSpec], new: Mapping[str, RuleSpec], registry: Registry
) -> None:
    """After rules change: (re)schedule cron rules and (re)compute date-offset rows for existing records."""
    now, timezone = loom.clock.now(), loom.clock.timezone
    for name in set(old) - set(new):
        cancel(conn, f"rule:{name}")
        cancel_prefix(conn, f"rule:{name}:record:")
    for name, rule in new.items():
        before = old.get(name)
        if before == rule:
            continue
        cancel(conn, f"rule:{name}")
        cancel_prefix(conn, f"rule:{name}:record:")
        if not rule.active:
            continue
        if rule.trigger.type == "schedule":
            due = next_fire_time(rule.trigger.cron or "", now, timezone)
            schedule(conn, f"rule:{name}", "rule.schedule", {"rule": name}, due, now)
        elif rule.trigger.type == "date_offset":
            _schedule_existing_records(loom, conn, registry, rule, now)


def _schedule_existing_records(
    loom: Loom, conn: Connection, registry: Registry, rule: RuleSpec, now: datetime
) -> None:
    table = registry.object(rule.object).table
    column = table.c[rule.trigger.field]
    last_id = 0
    while True:
        rows = conn.execute(
            select(table.c.id, column)
            .where(table.c.id > last_id, column.is_not(None), table.c.deleted_at.is_(None))
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for record_id, value in rows:
            due = date_offset_due(rule, value, loom.clock.timezone)
            if due is not None and due >= now:  # a date already passed does not fire retroactively
                schedule(
                    conn,
                    _offset_key(rule.name, record_id),
                    "rule.date_offset",
                    {"rule": rule.name, "record_id": record_id},
                    due,
                    now,
                )
        last_id = rows[-1][0]


def track_date_offsets(loom: Loom, conn: Connection, registry: Registry, event: RecordEvent) -> None:
    """A saved record moves its date-offset rows with its dates."""
    for rule in registry.rules_for(event.object, "date_offset"):
        field = rule.trigger.field or ""
        if event.old is not None and field not in event.changed:
            continue
        key = _offset_key(rule.name, event.record["id"])
        due = date_offset_due(rule, event.record.get(field), loom.clock.timezone)
        if due is None or due < loom.clock.now():
            cancel(conn, key)
        else:
            schedule(
                conn,
                key,
                "rule.date_offset",
                {"rule": rule.name, "record_id": event.record["id"]},
                due,
                loom.clock.now(),
            )


def forget_record(conn: Connection, registry: Registry, object_name: str, record_id: int) -> None:
    for rule in registry.rules_for(object_name, "date_offset"):
        cancel(conn, _offset_key(rule.name, record_id))


# -- running --------------------------------------------------------------------------------------


def run_date_offset(loom: Loom, item: DueItem) -> None:
    """Fire a date-offset rule for its one record, and finish the due row in the same transaction."""
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        rule = registry.rules.get(item.ref["rule"])
        model = registry.object(rule.object) if rule else None
        if rule is not None and rule.active and model is not None:
            ectx, sctx = loom.contexts(SYSTEM)
            row = conn.execute(
                select(*select_columns(model, registry, sctx)).where(
                    model.table.c.id == item.ref["record_id"], model.table.c.deleted_at.is_(None)
                )
            ).first()
            if row is not None:
                record = row_to_record(model, row, ectx)
                occasion = f"due{item.due_at:%Y%m%dT%H%M}"
                fire_rule(rule, Firing(loom, conn, registry, model, record, "date_offset", occasion=occasion))
        finish(conn, item, loom.clock.now())


def run_schedule(loom: Loom, item: DueItem) -> None:
    """Run a schedule rule over every matching record, batch by batch, then schedule the next run."""
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        rule = registry.rules.get(item.ref["rule"])
        if rule is None or not rule.active:
            finish(conn, item, loom.clock.now())
            return
        if rule.fire == "once_per_episode":
            _end_finished_episodes(loom, conn, registry, rule)
        occasion = f"due{item.due_at:%Y%m%dT%H%M}"
        last_id: int | None = _resume_point(conn, rule.name, occasion)
    while last_id is not None:
        with loom.begin() as conn:
            last_id = _run_batch(loom, conn, rule, last_id, occasion)
            _save_progress(conn, rule.name, occasion, last_id)
    with loom.begin() as conn:
        finish(conn, item, loom.clock.now())
        now = loom.clock.now()
        due = next_fire_time(rule.trigger.cron or "", now, loom.clock.timezone)
        schedule(conn, f"rule:{rule.name}", "rule.schedule", {"rule": rule.name}, due, now)


def _matching(loom: Loom, registry: Registry, rule: RuleSpec) -> Any:
    model = registry.object(rule.object)
    _, sctx = loom.contexts(SYSTEM)
    conditions = [model.table.c.deleted_at.is_(None)]
    if rule.condition:
        conditions.append(
            to_sql(rule.condition, name_resolver(model, registry, sctx), sctx, as_condition=True)
        )
    return model, sctx, and_(*conditions)


def _end_finished_episodes(loom: Loom, conn: Connection, registry: Registry, rule: RuleSpec) -> None:
    """Records whose condition no longer holds end their episode, so the rule may fire for them again."""
    model, _, matching = _matching(loom, registry, rule)
    still = select(model.table.c.id).where(matching)
    conn.execute(
        delete(rule_episodes).where(
            rule_episodes.c.rule == rule.name, rule_episodes.c.record_id.not_in(still)
        )
    )


def _resume_point(conn: Connection, rule: str, occasion: str) -> int | None:
    """Where a run for this due time got to before the worker stopped: 0 for a fresh run, None
    when all its batches had already committed.

    Each batch commits its progress with its effects, so a run cut short by a crash carries on
    after the last committed batch instead of firing every-time rules twice for its records.
    """
    value = conn.execute(
        select(rule_state.c.value).where(rule_state.c.rule == rule, rule_state.c.key == "schedule_progress")
    ).scalar()
    if value and value.get("occasion") == occasion:
        return int(value["last_id"]) if value.get("last_id") is not None else None
    return 0


def _save_progress(conn: Connection, rule: str, occasion: str, last_id: int | None) -> None:
    progress = {"occasion": occasion, "last_id": last_id}
    updated = conn.execute(
        update(rule_state)
        .where(rule_state.c.rule == rule, rule_state.c.key == "schedule_progress")
        .values(value=progress)
    )
    if updated.rowcount == 0:
        conn.execute(insert(rule_state).values(rule=rule, key="schedule_progress", value=progress))


def _run_batch(loom: Loom, conn: Connection, rule: RuleSpec, after_id: int, occasion: str) -> int | None:
    """Fire the rule for the next batch of matching records; returns the last id, or None when done."""
    registry = loom.registry_for(conn)
    model, sctx, matching = _matching(loom, registry, rule)
    table = model.table
    query = select(*select_columns(model, registry, sctx)).where(matching, table.c.id > after_id)
    if rule.fire == "once_per_episode":
        fired = select(rule_episodes.c.record_id).where(rule_episodes.c.rule == rule.name)
        query = query.where(table.c.id.not_in(fired))
    rows = conn.execute(query.order_by(table.c.id).limit(BATCH)).all()
    if not rows:
        return None
    ectx, _ = loom.contexts(SYSTEM)
    records = rows_to_records(model, rows, ectx)
    try:
        with conn.begin_nested():
            fire_batch(
                loom,
                conn,
                registry,
                rule,
                model,
                records,
                phase="schedule",
                trigger="schedule",
                occasion=occasion,
            )
    except LoomError:
        _fire_one_by_one(loom, conn, registry, rule, model, records, occasion)
    return rows[-1]._mapping["id"]


def _fire_one_by_one(loom, conn, registry, rule, model, records, occasion) -> None:  # type: ignore[no-untyped-def]
    """After a batch failed: each record on its own, so one bad record does not hold up the rest."""
    for record in records:
        try:
            with conn.begin_nested():
                fire_rule(rule, Firing(loom, conn, registry, model, record, "schedule", occasion=occasion))
        except LoomError as error:
            for effect in getattr(error, "after_rollback", ()):
                effect(conn)
