"""The rules engine: listens to record events and flow outcomes and fires the rules that apply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from engine.base.actors import SYSTEM, Actor
from engine.base.events import RecordEvent
from engine.rules import schedules
from engine.rules.firing import Firing, end_finished_episodes, fire_rule
from engine.rules.runlog import RunEntry, write_runs
from engine.schema.registry import Registry

if TYPE_CHECKING:
    from engine.loom import Loom

SAVE_TRIGGERS = {True: ("on_create", "on_save"), False: ("on_update", "on_save")}
SAVE_TRIGGER_TYPES = ("on_create", "on_update", "on_save")


def _watches(trigger_types: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """Whether any active rule of the object has one of these triggers."""

    def applies(registry: Registry, object_name: str) -> bool:
        return bool(registry.rules_for(object_name, *trigger_types))

    return applies


class RulesEngine:
    """Subscribes to the record service's events; fires rules inside the saving transaction."""

    def __init__(self, loom: Loom) -> None:
        self.loom = loom
        loom.events.subscribe("before_save", self._before_save, _watches(SAVE_TRIGGER_TYPES))
        loom.events.subscribe(
            "after_save", self._after_save, _watches((*SAVE_TRIGGER_TYPES, "date_offset", "schedule"))
        )
        loom.events.subscribe("after_delete", self._after_delete, _watches(("on_delete", "date_offset")))
        loom.due_handlers["rule.schedule"] = schedules.run_schedule
        loom.due_handlers["rule.date_offset"] = schedules.run_date_offset

    def _before_save(self, event: RecordEvent) -> None:
        rules = self._save_rules(event, "before_save")
        if not rules:
            return
        model = event.registry.object(event.object)
        # A new record has no id before it is inserted: its runs are logged once after_save knows it.
        record_id = event.old["id"] if event.old is not None else None
        held: list[RunEntry] | None = [] if record_id is None else None
        firing = Firing(
            self.loom,
            event.conn,
            event.registry,
            model,
            event.record,
            "before_save",
            event.actor,
            old=event.old,
            record_id=record_id,
            held=held,
        )
        for rule in rules:
            fire_rule(rule, firing)
        if held:
            event.conn.info.setdefault(HELD_RUNS, []).append((event.record, held))

    def _after_save(self, event: RecordEvent) -> None:
        registry: Registry = event.registry
        _log_held_runs(event)
        schedules.track_date_offsets(self.loom, event.conn, registry, event)
        rules = self._save_rules(event, "after_save")
        # An episode can only end for a record that existed before this save.
        episodic = event.old is not None and [
            r for r in registry.rules_for(event.object, "schedule") if r.fire == "once_per_episode"
        ]
        if not rules and not episodic:
            return
        model = registry.object(event.object)
        # Conditions may read formulas and roll-ups: give them the record as a reader would see it.
        record = self.loom.records(SYSTEM, event.conn).get(event.object, event.record["id"])
        if episodic:
            end_finished_episodes(self.loom, event.conn, episodic, record, event.actor)
        firing = Firing(
            self.loom, event.conn, registry, model, record, "after_save", event.actor, old=event.old
        )
        for rule in rules:
            fire_rule(rule, firing)

    def _after_delete(self, event: RecordEvent) -> None:
        registry: Registry = event.registry
        schedules.forget_record(event.conn, registry, event.object, event.record["id"])
        model = registry.object(event.object)
        firing = Firing(
            self.loom,
            event.conn,
            registry,
            model,
            dict(event.record),
            "after_save",
            event.actor,
            old=event.old,
        )
        for rule in registry.rules_for(event.object, "on_delete"):
            fire_rule(rule, firing)

    def _save_rules(self, event: RecordEvent, phase: str) -> list[Any]:
        candidates = event.registry.rules_for(event.object, *SAVE_TRIGGERS[event.is_new])
        if not candidates:
            return []
        changed = event.changed if not event.is_new else _set_fields(event.record)
        return [
            rule
            for rule in candidates
            if rule.trigger.phase == phase
            and (not rule.trigger.fields or changed.intersection(rule.trigger.fields))
        ]

    def fire_flow_event(
        self, conn: Connection, object_name: str, record_id: int, trigger: str, actor: Actor
    ) -> list[RunEntry]:
        """Fire on_submit / on_approved / on_rejected rules; called by the flow engine in its transaction."""
        registry = self.loom.registry_for(conn)
        model = registry.object(object_name)
        record = self.loom.records(SYSTEM, conn).get(object_name, record_id)
        firing = Firing(self.loom, conn, registry, model, record, "flow", actor)
        return [fire_rule(rule, firing) for rule in registry.rules_for(object_name, trigger)]

    def fire_inbound(self, rule_name: str, payload: Mapping[str, Any]) -> RunEntry:
        """Run an inbound rule with the payload a webhook delivered, in one transaction."""
        with self.loom.begin() as conn:
            registry = self.loom.registry_for(conn)
            rule = registry.rules[rule_name]
            if rule.trigger.type != "inbound" or not rule.active:
                raise LookupError(f"{rule_name} is not an active inbound rule")
            model = registry.object(rule.object)
            return fire_rule(rule, Firing(self.loom, conn, registry, model, {}, "inbound", payload=payload))


HELD_RUNS = "loom_held_rule_runs"


def _log_held_runs(event: RecordEvent) -> None:
    """Write the before-save runs of this new record, now that it has an id."""
    held = event.conn.info.get(HELD_RUNS)
    if not held or not event.is_new:
        return
    for index, (record, entries) in enumerate(held):
        if record is event.record:
            for entry in entries:
                entry.record_id = event.record["id"]
            write_runs(event.conn, entries)
            del held[index]
            return


def _set_fields(record: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(name for name, value in record.items() if value not in (None, "", []))
