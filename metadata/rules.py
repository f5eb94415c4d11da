"""Typed, frozen definitions of automation rules and validation rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from metadata.frozen import Label, freeze, thaw
from metadata.heading import heading_from_json, heading_to_json

TRIGGER_TYPES = (
    "on_create", "on_update", "on_save", "on_delete",
    "on_submit", "on_approved", "on_rejected",
    "schedule", "date_offset", "inbound",
)  # fmt: skip
RECORD_TRIGGERS = frozenset({"on_create", "on_update", "on_save", "on_delete"})
FLOW_TRIGGERS = frozenset({"on_submit", "on_approved", "on_rejected"})
TIME_TRIGGERS = frozenset({"schedule", "date_offset"})


@dataclass(frozen=True)
class TriggerSpec:
    """When a rule is considered.

    on_create / on_update / on_save / on_delete: as records change; `fields` limits on_update and
    on_save to changes of those fields; `phase` is "before_save" (may change or refuse the record)
    or "after_save" (the default). schedule: `cron` (five fields, in the business time zone).
    date_offset: `field` (a date or datetime field), `days` (negative = before), `at` ("HH:MM").
    """

    type: str
    fields: tuple[str, ...] = ()
    phase: str = "after_save"
    cron: str | None = None
    field: str | None = None
    days: int = 0
    at: str = "09:00"

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TriggerSpec:
        return cls(
            type=doc["type"],
            fields=tuple(doc.get("fields", ())),
            phase=doc.get("phase", "after_save"),
            cron=doc.get("cron"),
            field=doc.get("field"),
            days=int(doc.get("days", 0)),
            at=doc.get("at", "09:00"),
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type}
        if self.fields:
            doc["fields"] = list(self.fields)
        if self.phase != "after_save":
            doc["phase"] = self.phase
        if self.cron is not None:
            doc["cron"] = self.cron
        if self.field is not None:
            doc["field"] = self.field
        if self.type == "date_offset":
            doc["days"] = self.days
            doc["at"] = self.at
        return doc


@dataclass(frozen=True)
class ActionSpec:
    """One action of a rule: its type and the type's parameters (expressions in strings)."""

    type: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ActionSpec:
        return cls(type=doc["type"], params=freeze({k: v for k, v in doc.items() if k != "type"}))

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, **thaw(self.params)}

    def param(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


@dataclass(frozen=True)
class RuleSpec:
    """An if-then automation rule bound to one object.

    `fire`: "every_time" runs the actions whenever the trigger finds the condition true;
    "once_per_episode" runs them when the condition becomes true for a record and again
    only after it was false in between (the run log remembers).
    """

    name: str
    object: str
    trigger: TriggerSpec
    actions: tuple[ActionSpec, ...]
    condition: str | None = None
    fire: str = "every_time"
    order: int = 100
    active: bool = True
    label: Label = field(default_factory=lambda: MappingProxyType({}))
    description: Label = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RuleSpec:
        return cls(
            **heading_from_json(doc),
            trigger=TriggerSpec.from_json(doc["trigger"]),
            actions=tuple(ActionSpec.from_json(a) for a in doc.get("actions", ())),
            condition=doc.get("condition"),
            fire=doc.get("fire", "every_time"),
            order=int(doc.get("order", 100)),
            active=bool(doc.get("active", True)),
        )

    def to_json(self) -> dict[str, Any]:
        doc = heading_to_json(self)
        if not self.active:
            doc["active"] = False
        if self.order != 100:
            doc["order"] = self.order
        doc["trigger"] = self.trigger.to_json()
        if self.condition is not None:
            doc["condition"] = self.condition
        if self.fire != "every_time":
            doc["fire"] = self.fire
        doc["actions"] = [a.to_json() for a in self.actions]
        return doc


@dataclass(frozen=True)
class ValidationRuleSpec:
    """A condition every saved record must satisfy, with the message shown when it does not.

    `fields` names the fields the message is shown next to; `when` (optional) limits the rule
    to records where that expression holds (e.g. only when stage == 'won').
    """

    name: str
    condition: str
    message: Label
    fields: tuple[str, ...] = ()
    when: str | None = None
    active: bool = True

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ValidationRuleSpec:
        return cls(
            name=doc["name"],
            condition=doc["condition"],
            message=freeze(doc["message"]),
            fields=tuple(doc.get("fields", ())),
            when=doc.get("when"),
            active=bool(doc.get("active", True)),
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "condition": self.condition, "message": thaw(self.message)}
        if self.fields:
            doc["fields"] = list(self.fields)
        if self.when is not None:
            doc["when"] = self.when
        if not self.active:
            doc["active"] = False
        return doc
