"""Actions that write records: set_field, update_related, create_record, add_tag.

Before a save (phase before_save) an action changes the record being saved in place, so the
save writes it; after a save, or on a schedule, it updates records through the RecordService in
the same transaction — validation, audit and rules apply, and if it fails nothing is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from engine.base.errors import BulkInvalid, ExpressionError, FieldValueError, RecordInvalid
from engine.base.messages import Message
from engine.expressions import evaluate, to_sql
from engine.fieldtypes.messages import shown
from engine.records.sql import name_resolver
from engine.rules.actions import Action, ActionContext, ActionFailed
from engine.rules.runlog import json_safe
from engine.schema.registry import ObjectModel
from metadata.rules import ActionSpec

AFTER_SAVE_PHASES = frozenset({"after_save", "schedule", "date_offset", "flow"})
RECORD_PHASES = AFTER_SAVE_PHASES | {"before_save"}
#: Field types that hold no value of their own, or whose value the engine assigns.
NOT_SETTABLE = frozenset({"formula", "rollup", "autonumber"})
#: How many ids a run-log summary lists before it only counts.
SUMMARY_IDS = 50

_EXPRESSION = {"type": "string", "minLength": 1}
_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"}
_VALUES = {"type": "object", "minProperties": 1, "additionalProperties": _EXPRESSION}


def describe(error: RecordInvalid) -> str:
    return "; ".join(f"{name} {', '.join(messages)}" for name, messages in error.fields.items())


def change_record(ctx: ActionContext, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Give the triggering record new values: in place before a save, through an update after it.

    Returns the record with its new values. After a save the action context's record is
    refreshed too, so the rule's later actions read what is now stored.
    """
    model = ctx.model
    if ctx.phase == "before_save":
        errors: dict[str, list[str]] = {}
        for name, raw in changes.items():
            try:
                ctx.record[name] = _coerce(model, name, raw)
            except FieldValueError as error:
                errors.setdefault(name, []).append(f"{error} (value set by rule {ctx.rule.name})")
        if errors:
            raise RecordInvalid(model.name, errors)
        return ctx.record
    record_id = ctx.record.get("id")
    if record_id is None:
        raise ActionFailed(f"there is no {model.name} record to change")
    updated = update_record(ctx, model.name, record_id, changes)
    ctx.record.update(updated)
    return updated


def update_record(ctx: ActionContext, object_name: str, record_id: int, changes: Mapping[str, Any]) -> Any:
    """Update one record as the rule; an invalid value becomes an error naming the record."""
    try:
        return ctx.records().update(object_name, record_id, changes)
    except RecordInvalid as error:
        raise ActionFailed(f"could not update {object_name} {record_id}: {describe(error)}") from None


def _coerce(model: ObjectModel, name: str, raw: Any) -> Any:
    if name == "owner":
        if raw is None or raw == "":
            return None
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise FieldValueError(Message("not_user_id", got=shown(raw)))
        return raw
    spec = model.fields.get(name)
    if spec is None or spec.type in NOT_SETTABLE:
        raise ActionFailed(f"{model.name} has no field {name!r} that a rule can set")
    return model.types[name].coerce(raw, spec, "json")


def to_json(model: ObjectModel, name: str, value: Any) -> Any:
    """A field's value as the run log shows it."""
    spec = model.fields.get(name)
    if spec is None or value is None:
        return json_safe(value)
    return json_safe(model.types[name].to_json(value, spec))


class SetField(Action):
    """Set a field of the triggering record to the value of an expression."""

    name = "set_field"
    params_schema = {
        "type": "object",
        "required": ["field", "value"],
        "properties": {"field": _NAME, "value": _EXPRESSION},
        "additionalProperties": False,
    }
    phases = RECORD_PHASES

    def run(self, ctx: ActionContext, spec: ActionSpec) -> dict[str, Any]:
        field = spec.param("field")
        record = change_record(ctx, {field: ctx.evaluate(spec.param("value"))})
        return {"field": field, "value": to_json(ctx.model, field, record.get(field))}


class UpdateRelated(Action):
    """Update the record a lookup points at, or every record that points at this one."""

    name = "update_related"
    params_schema = {
        "type": "object",
        "required": ["values"],
        "properties": {
            "lookup": _NAME,
            "related": {
                "type": "object",
                "required": ["object", "via"],
                "properties": {"object": _NAME, "via": _NAME, "filter": _EXPRESSION},
                "additionalProperties": False,
            },
            "filter": _EXPRESSION,
            "values": _VALUES,
        },
        "oneOf": [{"required": ["lookup"]}, {"required": ["related"]}],
        # With a lookup, "filter" is an expression over the target: it is updated only when it holds.
        "dependentRequired": {"filter": ["lookup"]},
        "additionalProperties": False,
    }
    phases = AFTER_SAVE_PHASES

    def run(self, ctx: ActionContext, spec: ActionSpec) -> dict[str, Any]:
        values = {name: ctx.evaluate(text) for name, text in spec.param("values").items()}
        if spec.param("lookup"):
            return self._update_lookup(ctx, spec.param("lookup"), spec.param("filter"), values)
        return self._update_children(ctx, spec.param("related"), values)

    def _update_lookup(
        self, ctx: ActionContext, lookup: str, filter: str | None, values: dict[str, Any]
    ) -> dict[str, Any]:
        target = ctx.model.field(lookup).param("target")
        target_id = ctx.record.get(lookup)
        if target_id is None:
            return {"object": target, "id": None, "note": f"{lookup} is empty: nothing to update"}
        if filter and not evaluate(filter, ctx.records().get(target, target_id), ctx.ectx):
            return {"object": target, "id": target_id, "note": f"{filter} does not hold: not updated"}
        updated = update_record(ctx, target, target_id, values)
        target_model = ctx.registry.object(target)
        return {
            "object": target,
            "id": target_id,
            "values": {name: to_json(target_model, name, updated.get(name)) for name in values},
        }

    def _update_children(
        self, ctx: ActionContext, related: Mapping[str, Any], values: dict[str, Any]
    ) -> dict[str, Any]:
        child = ctx.registry.object(related["object"])
        record_id = ctx.record.get("id")
        if record_id is None:
            raise ActionFailed(f"a {ctx.model.name} must be saved before its {child.name} records are found")
        ids = self._matching_children(ctx, child, related, record_id)
        for child_id in ids:
            update_record(ctx, child.name, child_id, values)
        summary: dict[str, Any] = {"object": child.name, "count": len(ids), "ids": ids[:SUMMARY_IDS]}
        summary["values"] = {name: json_safe(value) for name, value in values.items()}
        return summary

    def _matching_children(
        self, ctx: ActionContext, child: ObjectModel, related: Mapping[str, Any], record_id: int
    ) -> list[int]:
        table = child.table
        query = select(table.c.id).where(table.c[related["via"]] == record_id, table.c.deleted_at.is_(None))
        if related.get("filter"):
            _, sctx = ctx.loom.contexts(ctx.actor)
            resolve = name_resolver(child, ctx.registry, sctx)
            try:
                query = query.where(to_sql(related["filter"], resolve, sctx, as_condition=True))
            except ExpressionError as error:
                raise ActionFailed(
                    f"the filter {related['filter']!r} on {child.name} cannot run in the database: "
                    f"{error.message}"
                ) from None
        return list(ctx.conn.execute(query.order_by(table.c.id)).scalars())


class CreateRecord(Action):
    """Create a record of any object, each value an expression over the triggering record."""

    name = "create_record"
    params_schema = {
        "type": "object",
        "required": ["object", "values"],
        "properties": {"object": _NAME, "values": _VALUES},
        "additionalProperties": False,
    }
    phases = AFTER_SAVE_PHASES | {"inbound"}

    def run(self, ctx: ActionContext, spec: ActionSpec) -> dict[str, Any]:
        object_name = spec.param("object")
        values = {name: ctx.evaluate(text) for name, text in spec.param("values").items()}
        try:
            created = ctx.records().create(object_name, values)
        except RecordInvalid as error:
            raise ActionFailed(f"could not create the {object_name}: {describe(error)}") from None
        return {"object": object_name, "id": created["id"]}

    def run_batch(self, ctxs: list[ActionContext], spec: ActionSpec) -> list[dict[str, Any]]:
        """One bulk create for a whole batch of a scheduled rule's records."""
        if not ctxs:
            return []
        object_name = spec.param("object")
        texts = spec.param("values").items()
        rows = [{name: ctx.evaluate(text) for name, text in texts} for ctx in ctxs]
        try:
            ids = ctxs[0].records().bulk_create(object_name, rows)
        except BulkInvalid as error:
            index, fields = next(iter(error.rows.items()))
            detail = "; ".join(f"{name}: {', '.join(messages)}" for name, messages in fields.items())
            raise ActionFailed(
                f"could not create the {object_name} for record {ctxs[index].record.get('id')}: {detail}"
            ) from None
        return [{"object": object_name, "id": record_id} for record_id in ids]


class AddTag(Action):
    """Add a tag to a tags field unless the record has it already (in any letter case)."""

    name = "add_tag"
    params_schema = {
        "type": "object",
        "required": ["field", "tag"],
        "properties": {"field": _NAME, "tag": _EXPRESSION},
        "additionalProperties": False,
    }
    phases = RECORD_PHASES

    def run(self, ctx: ActionContext, spec: ActionSpec) -> dict[str, Any]:
        field = spec.param("field")
        tag = ctx.evaluate(spec.param("tag"))
        if tag is None or (isinstance(tag, str) and not tag.strip()):
            return {"field": field, "tag": None, "added": False, "note": "the tag expression gave nothing"}
        if not isinstance(tag, str | int | float) or isinstance(tag, bool):
            raise ActionFailed(f"a tag must be text (the expression gave {json_safe(tag)!r})")
        tag = str(tag).strip()
        current = list(ctx.record.get(field) or [])
        if tag.casefold() in {existing.casefold() for existing in current}:
            return {"field": field, "tag": tag, "added": False}
        change_record(ctx, {field: [*current, tag]})
        return {"field": field, "tag": tag, "added": True}
