"""Records over the API: list with filters and keyset pages, create, read, change, delete, bulk create,
the record's timeline, and sending a record for approval.

Every call runs as the caller through the engine's RecordService and QueryService, so scopes,
hidden and read-only fields apply exactly as on the pages.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from engine.base.errors import ExpressionError
from engine.identity.permissions import ObjectAccess, access_for
from engine.records.actor_names import actor_label
from engine.records.queries import MAX_PAGE, InvalidQuery
from engine.records.timeline import TimelineEntry, timeline
from engine.schema.registry import ObjectModel, Registry
from engine.schema.tables import SYSTEM_COLUMNS
from runtime.web.api.approvals import instance_json
from runtime.web.api.blueprint import blueprint
from runtime.web.api.inputs import (
    MAX_ID,
    BadQuery,
    int_arg,
    json_object,
    optional_text,
    record_values,
    takes_query,
)
from runtime.web.api.record_json import add_titles, moment_json, plain_json, record_json
from runtime.web.auth import current_actor, current_loom, saves_at_once
from runtime.web.errors import RequestInvalid
from runtime.web.i18n import api_locale

RECORD = "/records/<name>/<id:record_id>"
ALWAYS_SENT = ("id", "version")  # keys every record carries, whatever `fields` asks for
MAX_BULK = 1000


@blueprint.get("/records/<name>")
@takes_query("filter", "sort", "fields", "limit", "cursor")
def list_records(name: str) -> Response:
    """A page of records: `filter` (expression language), `sort`, `fields`, `limit`, `cursor`."""
    loom, actor = current_loom(), current_actor()
    registry = loom.registry
    model = registry.object(name)
    wanted = _wanted_fields(model, access_for(registry, actor, name))
    queries = loom.queries(actor)
    try:
        page = queries.find(
            name,
            filter=request.args.get("filter") or None,
            sort=request.args.get("sort") or None,
            limit=int_arg("limit", 50, 1, MAX_PAGE),
            cursor=request.args.get("cursor") or None,
        )
    except (ExpressionError, InvalidQuery) as error:
        # A query the caller wrote is a bad request, with the engine's explanation.
        raise BadQuery(error.message) from None
    rows = [_trimmed(record_json(model, record), wanted) for record in page.records]
    add_titles(queries, model, rows)
    return jsonify({"data": rows, "next_cursor": page.next_cursor})


@blueprint.post("/records/<name>")
@saves_at_once
def create_record(name: str) -> tuple[Response, int]:
    loom, actor = current_loom(), current_actor()
    model = loom.registry.object(name)
    record = loom.records(actor).create(name, record_values(loom, json_object(), name))
    return _record_response(model, record), 201


@blueprint.get(RECORD)
def get_record(name: str, record_id: int) -> Response:
    loom, actor = current_loom(), current_actor()
    record = loom.records(actor).get(name, record_id)
    # After the read, the registry it checked is reused: no second transaction for the model.
    return _record_response(loom.registry.object(name), record)


@blueprint.patch(RECORD)
@saves_at_once
def update_record(name: str, record_id: int) -> Response:
    """Change some fields; the body's `version` must be the version the caller read (else 409)."""
    loom, actor = current_loom(), current_actor()
    model = loom.registry.object(name)
    changes = record_values(loom, json_object(), name)
    version = changes.pop("version", None)
    if type(version) is not int or not 0 < version <= MAX_ID:
        raise RequestInvalid(
            "send the version you read, so a change made meanwhile is not overwritten",
            {"version": ["required, as the record's version number"]},
        )
    record = loom.records(actor).update(name, record_id, changes, version=version)
    return _record_response(model, record)


@blueprint.delete(RECORD)
@saves_at_once
@takes_query("version")
def delete_record(name: str, record_id: int) -> tuple[str, int]:
    """Move the record to the recycle bin; `?version=` refuses if it changed since it was read."""
    loom, actor = current_loom(), current_actor()
    loom.registry.object(name)
    version = request.args.get("version")
    loom.records(actor).delete(name, record_id, version=int_arg("version", 1, 1, MAX_ID) if version else None)
    return "", 204


@blueprint.post("/records/<name>/bulk")
@saves_at_once
def bulk_create(name: str) -> tuple[Response, int]:
    """Create many records: all of them, or — when any row is invalid — none (422 with `rows`)."""
    loom, actor = current_loom(), current_actor()
    loom.registry.object(name)
    rows = json_object().get("records")
    if not isinstance(rows, list) or not rows or len(rows) > MAX_BULK:
        raise RequestInvalid(
            f"records must be a list of 1 to {MAX_BULK} objects",
            {"records": [f"required, as a list of 1 to {MAX_BULK} record objects"]},
        )
    bad = [index for index, row in enumerate(rows) if not isinstance(row, dict)]
    if bad:
        raise RequestInvalid(
            "each record must be a JSON object", {"records": [f"row {bad[0]} is not an object"]}
        )
    ids = loom.records(actor).bulk_create(name, [record_values(loom, row, name) for row in rows])
    return jsonify({"ids": ids}), 201


@blueprint.get(f"{RECORD}/timeline")
def record_timeline(name: str, record_id: int) -> Response:
    """Activities, field changes, approval steps and notifications of the record, newest first."""
    loom, actor = current_loom(), current_actor()
    entries = timeline(loom, name, record_id, actor)
    locale = api_locale()
    return jsonify({"data": [timeline_json(loom.registry, entry, locale) for entry in entries]})


@blueprint.post(f"{RECORD}/submit")
def submit_record(name: str, record_id: int) -> tuple[Response, int]:
    """Send the record for approval: the object's one active flow, or `flow` by name."""
    loom, actor = current_loom(), current_actor()
    loom.registry.object(name)
    body = json_object() if request.get_data() else {}
    approvers = body.get("approvers")
    if approvers is not None and not _chosen_approvers(approvers):
        raise RequestInvalid(
            "approvers maps a node name to a list of user ids or usernames",
            {"approvers": ["must map node names to lists of user ids or usernames"]},
        )
    instance = loom.flows.submit(
        name,
        record_id,
        optional_text(body, "flow") or None,
        actor=actor,
        chosen_approvers=approvers,
        comment=optional_text(body, "comment"),
    )
    return jsonify(instance_json(instance)), 201


def timeline_json(registry: Registry, entry: TimelineEntry, locale: str) -> dict[str, Any]:
    """An entry as JSON; `actor` as stored (rule:…, flow:…, a person), `actor_label` as a person reads it."""
    objects = registry.objects
    details = dict(entry.details)
    if entry.kind == "activity" and details.get("object") in objects:
        details["record"] = record_json(objects[details["object"]], details["record"])
    return {
        "kind": entry.kind,
        "at": moment_json(entry.at),
        "actor": entry.actor,
        "actor_label": actor_label(registry, entry.actor, locale),
        "title": entry.title,
        "details": plain_json(details),
    }


def _record_response(model: ObjectModel, record: dict[str, Any]) -> Response:
    row = record_json(model, record)
    add_titles(current_loom().queries(current_actor()), model, [row])
    return jsonify(row)


def _wanted_fields(model: ObjectModel, access: ObjectAccess) -> set[str] | None:
    raw = request.args.get("fields")
    if not raw:
        return None
    names = {part.strip() for part in raw.split(",") if part.strip()}
    known = [*model.fields, *SYSTEM_COLUMNS]
    unknown = sorted(n for n in names if n not in known or not access.visible(n))
    if unknown:
        raise BadQuery(f"{model.name} has no field {', '.join(map(repr, unknown))}")
    return names | set(ALWAYS_SENT)


def _trimmed(row: dict[str, Any], wanted: set[str] | None) -> dict[str, Any]:
    return row if wanted is None else {name: value for name, value in row.items() if name in wanted}


def _chosen_approvers(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(people, list) and all(type(p) in (int, str) for p in people) for people in value.values()
    )
