"""Actions that steer a record's process: start_flow (an approval) and reject (refuse the save)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.base.errors import RecordInvalid
from engine.rules.actions import Action, ActionContext, ActionFailed
from engine.rules.record_actions import AFTER_SAVE_PHASES
from engine.rules.runlog import json_safe
from metadata.rules import ActionSpec

_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"}


class StartFlow(Action):
    """Start an approval flow for the record, as the person whose change triggered the rule."""

    name = "start_flow"
    params_schema = {
        "type": "object",
        "required": ["flow"],
        "properties": {"flow": _NAME},
        "additionalProperties": False,
    }
    phases = AFTER_SAVE_PHASES

    def run(self, ctx: ActionContext, spec: ActionSpec) -> dict[str, Any]:
        flows = getattr(ctx.loom, "flows", None)
        if flows is None:
            raise ActionFailed("approval flows are not installed")
        record_id = ctx.record.get("id")
        if record_id is None:
            raise ActionFailed(f"there is no {ctx.model.name} record to start an approval for")
        # The submitter is whoever made the change: approvers such as "the submitter's manager"
        # resolve from them, not from the rule.
        instance = flows.start(ctx.conn, ctx.model.name, record_id, spec.param("flow"), ctx.triggered_by)
        return {"flow": spec.param("flow"), "instance": json_safe(getattr(instance, "id", instance))}


class Reject(Action):
    """Refuse the save with a message shown next to the given fields (or on the record as a whole)."""

    name = "reject"
    params_schema = {
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {"type": "string", "minLength": 1},
            },
            "fields": {"type": "array", "items": _NAME, "uniqueItems": True},
        },
        "additionalProperties": False,
    }
    phases = frozenset({"before_save"})

    def run(self, ctx: ActionContext, spec: ActionSpec) -> dict[str, Any]:
        message = message_text(spec.param("message"))
        fields = list(spec.param("fields", ())) or ["_record"]
        raise RecordInvalid(ctx.model.name, {name: [message] for name in fields})


def message_text(label: Mapping[str, str]) -> str:
    """The message in English when the label has it, else in its first language."""
    return label.get("en") or next(iter(label.values()), "") or "refused by a rule"
