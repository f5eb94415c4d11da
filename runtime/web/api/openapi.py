"""`GET /api/v1/openapi.json`: an OpenAPI 3.1 document of the API, generated from the live metadata.

Each object the caller may read gets its own paths and component schemas (`<object>.read`,
`<object>.create`, `<object>.patch`), without the fields hidden from the caller, so a field
added a moment ago is in the next document. Documents are cached per metadata version and
set of roles.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from flask import Response, current_app, jsonify

from engine.base.actors import Actor
from engine.identity.permissions import access_for
from engine.records.conversion import convert_settings
from engine.records.dashboards import readable_dashboards
from engine.records.queries import MAX_PAGE
from engine.records.reports import readable_reports
from engine.records.timeline import KINDS as TIMELINE_KINDS
from engine.schema.registry import Registry
from metadata.dashboards import FILTER_KINDS
from metadata.reports import PERIODS
from runtime.web.api.approvals import TASK_ACTIONS
from runtime.web.api.blueprint import blueprint
from runtime.web.api.meta import KINDS as META_KINDS
from runtime.web.api.openapi_files import file_paths
from runtime.web.api.openapi_records import (
    ID,
    MOMENT,
    VERSION,
    create_schema,
    nullable,
    patch_schema,
    read_schema,
)
from runtime.web.api.record_actions import MAX_REASON
from runtime.web.api.records import MAX_BULK
from runtime.web.auth import current_actor, current_loom

PREFIX = "/api/v1"
CACHE_KEY = "loom_openapi"
CACHE_SIZE = 32
ERRORS = {
    400: "Malformed request or query (a bad filter, sort, fields, limit or cursor).",
    401: "No, a bad or a revoked API token.",
    403: "The caller's roles do not allow this.",
    404: "No such object, record or document (or not visible to the caller).",
    409: "A conflict: a stale version, a locked record, a change that would lose data.",
    422: "Invalid values: every field error at once in `fields`.",
}
STRINGS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": STRINGS,
                "rows": {"type": "object", "additionalProperties": STRINGS},
                "localized": {
                    "type": "object",
                    "description": "The message, fields and rows in the caller's language "
                    "(Accept-Language, else the user's preference, else English).",
                    "required": ["locale", "message"],
                    "properties": {
                        "locale": {"enum": ["zh_CN", "en"]},
                        "message": {"type": "string"},
                        "fields": STRINGS,
                        "rows": {"type": "object", "additionalProperties": STRINGS},
                    },
                },
            },
        }
    },
}
INSTANCE = {
    "type": "object",
    "required": ["id", "flow", "object", "record_id", "status"],
    "properties": {
        "id": ID,
        "flow": {"type": "string"},
        "object": {"type": "string"},
        "record_id": ID,
        "status": {"enum": ["running", "approved", "rejected", "withdrawn"]},
        "submitter_id": nullable(ID),
        "started_at": MOMENT,
        "ended_at": nullable(MOMENT),
        "active_nodes": {"type": "array", "items": {"type": "string"}},
    },
}
TIMELINE_ENTRY = {
    "type": "object",
    "required": ["kind", "at", "title", "details"],
    "properties": {
        "kind": {"enum": list(TIMELINE_KINDS)},
        "at": MOMENT,
        "actor": {"type": ["string", "null"]},
        "actor_label": {
            "type": ["string", "null"],
            "description": "Who acted in the caller's language: a rule or approval flow by its label.",
        },
        "title": {"type": "string"},
        "details": {"type": "object"},
    },
}
TEXT = {"type": "string"}
# Whitespace alone is refused as missing, so the document asks for one visible character.
NON_EMPTY = {"type": "string", "minLength": 1, "pattern": r"\S"}
ANY_OBJECT = {"type": "object"}


@blueprint.get("/openapi.json")
def openapi_document() -> Response:
    loom, actor = current_loom(), current_actor()
    registry = loom.registry
    key = (registry.version, actor.is_system, actor.roles)
    cache: dict[tuple, dict[str, Any]] = current_app.extensions.setdefault(CACHE_KEY, {})
    document = cache.get(key)
    if document is None:
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        document = cache[key] = openapi_for(registry, actor)
    return jsonify(document)


def openapi_for(registry: Registry, actor: Actor) -> dict[str, Any]:
    """The API as `actor` may use it at the registry's metadata version."""
    spec = APISpec(
        title="Loom REST API",
        version=f"metadata-{registry.version}",
        openapi_version="3.1.0",
        info={"description": "Records, metadata, approvals and notifications; JSON only. See docs/api.md."},
        servers=[{"url": "/"}],
        security=[{"bearer": []}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", ERROR_SCHEMA)
    spec.components.schema("Instance", INSTANCE)
    spec.components.schema("TimelineEntry", TIMELINE_ENTRY)
    for name, model in registry.objects.items():
        access = access_for(registry, actor, name)
        if not access.allows("read"):
            continue
        spec.components.schema(f"{name}.read", read_schema(model, access))
        spec.components.schema(f"{name}.create", create_schema(model, access))
        spec.components.schema(f"{name}.patch", patch_schema(model, access))
        _record_paths(spec, name)
        file_paths(spec, model, access)
        _record_action_paths(spec, registry, actor, name)
    _auth_paths(spec)
    _approval_paths(spec)
    _notification_paths(spec)
    _rule_paths(spec)
    _meta_paths(spec)
    _report_paths(spec, registry, actor)
    _dashboard_paths(spec, registry, actor)
    spec.path(path=f"{PREFIX}/openapi.json", operations={"get": _op("This document.", ok=(200, ANY_OBJECT))})
    return spec.to_dict()


# -- building blocks -------------------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    *,
    ok: tuple[int, dict[str, Any] | None],
    body: dict[str, Any] | None = None,
    body_required: bool = True,
    params: list[dict[str, Any]] | None = None,
    errors: tuple[int, ...] = tuple(ERRORS),
    public: bool = False,
) -> dict[str, Any]:
    status, schema = ok
    responses: dict[str, Any] = {str(status): {"description": "Done."}}
    if schema is not None:
        responses[str(status)].update(_json(schema))
    for code in errors:
        responses[str(code)] = {"description": ERRORS.get(code, "Refused."), **_json(_ref("Error"))}
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": body_required, **_json(body)}
    if params:
        operation["parameters"] = params
    if public:
        operation["security"] = []
    return operation


def _path_param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _data(items: dict[str, Any], **extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["data", *extra],
        "properties": {"data": {"type": "array", "items": items}, **extra},
    }


RECORD_ID = _path_param("record_id", ID)
LIST_PARAMS = [
    _query("filter", TEXT, "A condition in the expression language, e.g. level == 'vip'."),
    _query("sort", TEXT, "Comma-separated fields, - for descending, e.g. -amount,name."),
    _query("fields", TEXT, "Comma-separated fields to send (id and version always come)."),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "Records per page (50)."),
    _query("cursor", TEXT, "next_cursor of the previous page."),
]


def _record_paths(spec: APISpec, name: str) -> None:
    base = f"{PREFIX}/records/{name}"
    page = {
        "type": "object",
        "required": ["data", "next_cursor"],
        "properties": {
            "data": {"type": "array", "items": _ref(f"{name}.read")},
            "next_cursor": nullable(TEXT),
        },
    }
    spec.path(
        path=base,
        operations={
            "get": _op(f"A page of {name} records.", ok=(200, page), params=LIST_PARAMS),
            "post": _op(f"Create a {name}.", ok=(201, _ref(f"{name}.read")), body=_ref(f"{name}.create")),
        },
    )
    version = _query("version", VERSION, "Refuse if the record changed since.")
    spec.path(
        path=f"{base}/{{record_id}}",
        operations={
            "get": _op(f"One {name}.", ok=(200, _ref(f"{name}.read"))),
            "patch": _op(f"Change a {name}.", ok=(200, _ref(f"{name}.read")), body=_ref(f"{name}.patch")),
            "delete": _op(f"Move a {name} to the recycle bin.", ok=(204, None), params=[version]),
        },
        parameters=[RECORD_ID],
    )
    bulk_body = {
        "type": "object",
        "required": ["records"],
        "properties": {
            "records": {"type": "array", "items": _ref(f"{name}.create"), "minItems": 1, "maxItems": MAX_BULK}
        },
    }
    ids = {"type": "object", "required": ["ids"], "properties": {"ids": {"type": "array", "items": ID}}}
    spec.path(
        path=f"{base}/bulk",
        operations={"post": _op(f"Create many {name} records, all or none.", ok=(201, ids), body=bulk_body)},
    )
    spec.path(
        path=f"{base}/{{record_id}}/timeline",
        operations={
            "get": _op("The record's timeline, newest first.", ok=(200, _data(_ref("TimelineEntry"))))
        },
        parameters=[RECORD_ID],
    )
    submit = {
        "type": "object",
        "properties": {
            "flow": TEXT,
            "comment": TEXT,
            "approvers": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": ["integer", "string"]}},
            },
        },
    }
    spec.path(
        path=f"{base}/{{record_id}}/submit",
        operations={
            "post": _op(
                "Send the record for approval.", ok=(201, _ref("Instance")), body=submit, body_required=False
            )
        },
        parameters=[RECORD_ID],
    )


def _record_action_paths(spec: APISpec, registry: Registry, actor: Actor, name: str) -> None:
    """Transfer owner for every object; claim and return where it has a pool; convert where it converts."""
    base = f"{PREFIX}/records/{name}/{{record_id}}"
    read = _ref(f"{name}.read")
    owner = {
        "type": "object",
        "required": ["owner"],
        "properties": {"owner": ID, "version": VERSION},
    }
    spec.path(
        path=f"{base}/owner",
        operations={"post": _op(f"Give a {name} to another user.", ok=(200, read), body=owner)},
        parameters=[RECORD_ID],
    )
    model = registry.object(name)
    if "pool" in model.spec.extra:
        reason = {"type": "object", "properties": {"reason": {"type": "string", "maxLength": MAX_REASON}}}
        spec.path(
            path=f"{base}/claim",
            operations={"post": _op(f"Claim a {name} from the pool.", ok=(200, read))},
            parameters=[RECORD_ID],
        )
        spec.path(
            path=f"{base}/return",
            operations={
                "post": _op(f"Return a {name} to the pool.", ok=(200, read), body=reason, body_required=False)
            },
            parameters=[RECORD_ID],
        )
    settings = convert_settings(model.spec)
    if settings is None:
        return
    targets = [target.object for target in settings.targets]
    linkable = [target.object for target in settings.targets if target.link_existing]
    optional = [target.object for target in settings.targets if target.optional]
    made = {
        target: _ref(f"{target}.read") if access_for(registry, actor, target).allows("read") else ANY_OBJECT
        for target in targets
    }
    body = {
        "type": "object",
        "properties": {
            "values": {
                "type": "object",
                "description": "Field values per target object, over those mapped from the record.",
                "properties": {target: ANY_OBJECT for target in targets},
                "additionalProperties": False,
            },
            "existing": {
                "type": "object",
                "description": "The id of a record to link instead of making one, per target object.",
                "properties": {target: ID for target in linkable},
                "additionalProperties": False,
            },
            "include": {"type": "array", "items": {"enum": optional or [None]}, "uniqueItems": True},
        },
        "additionalProperties": False,
    }
    done = {
        "type": "object",
        "required": ["source", "records", "linked"],
        "properties": {
            "source": read,
            "records": {"type": "object", "properties": made, "additionalProperties": False},
            "linked": {"type": "array", "items": {"enum": targets}},
        },
    }
    duplicate = {
        "type": "object",
        "required": ["id", "title", "rule"],
        "properties": {"id": ID, "title": TEXT, "rule": TEXT},
    }
    planned = {
        "type": "object",
        "required": [
            "object",
            "link",
            "optional",
            "link_existing",
            "values",
            "duplicates",
            "hidden_duplicates",
        ],
        "properties": {
            "object": {"enum": targets},
            "link": TEXT,
            "optional": {"type": "boolean"},
            "link_existing": {"type": "boolean"},
            "values": ANY_OBJECT,
            "duplicates": {"type": "array", "items": duplicate},
            "hidden_duplicates": {"type": "integer", "minimum": 0},
        },
    }
    plans = {
        "type": "object",
        "required": ["targets"],
        "properties": {"targets": {"type": "array", "items": planned}},
    }
    spec.path(
        path=f"{base}/convert",
        operations={
            "get": _op(f"What converting the {name} would make, with likely duplicates.", ok=(200, plans)),
            "post": _op(
                f"Convert the {name}, all or nothing.", ok=(201, done), body=body, body_required=False
            ),
        },
        parameters=[RECORD_ID],
    )


def _auth_paths(spec: APISpec) -> None:
    credentials = {
        "type": "object",
        "required": ["username", "password", "name"],
        "properties": {"username": NON_EMPTY, "password": NON_EMPTY, "name": NON_EMPTY},
    }
    token = {
        "type": "object",
        "required": ["token", "id", "name"],
        "properties": {"token": TEXT, "id": ID, "name": TEXT},
    }
    spec.path(
        path=f"{PREFIX}/auth/token",
        operations={
            "post": _op(
                "Exchange a username and password for an API token.",
                ok=(201, token),
                body=credentials,
                errors=(400, 401, 403, 422, 429),
                public=True,
            )
        },
    )
    spec.path(
        path=f"{PREFIX}/auth/token/{{token_id}}",
        operations={
            "delete": _op("Revoke one of the caller's tokens.", ok=(204, None), errors=(400, 401, 403, 404))
        },
        parameters=[_path_param("token_id", ID)],
    )
    me = {
        "type": "object",
        "required": ["id", "username", "name", "roles", "locale"],
        "properties": {
            "id": ID,
            "username": TEXT,
            "name": TEXT,
            "roles": {"type": "array", "items": TEXT},
            "department": {"type": ["object", "null"]},
            "locale": TEXT,
        },
    }
    spec.path(path=f"{PREFIX}/me", operations={"get": _op("Who the caller is.", ok=(200, me))})


def _approval_paths(spec: APISpec) -> None:
    task = {
        "type": "object",
        "required": ["task_id", "instance_id", "flow", "object", "record_id"],
        "properties": {
            "task_id": ID,
            "instance_id": ID,
            "flow": TEXT,
            "flow_label": TEXT,
            "node": TEXT,
            "node_label": TEXT,
            "object": TEXT,
            "record_id": ID,
            "title": TEXT,
            "submitter_id": nullable(ID),
            "submitter_name": nullable(TEXT),
            "submitted_at": MOMENT,
            "created_at": MOMENT,
            "due_at": nullable(MOMENT),
            "added_by": nullable(ID),
        },
    }
    spec.path(
        path=f"{PREFIX}/approvals/inbox", operations={"get": _op("My pending tasks.", ok=(200, _data(task)))}
    )
    action_body = {
        "type": "object",
        "description": "comment (reject and comment: required), to_node (reject), to_user_id (transfer), "
        "user_id and position (add_approver).",
        "properties": {
            "comment": TEXT,
            "to_node": TEXT,
            "to_user_id": ID,
            "user_id": ID,
            "position": {"enum": ["before", "after"]},
        },
    }
    spec.path(
        path=f"{PREFIX}/approvals/tasks/{{task_id}}/{{action}}",
        operations={
            "post": _op("Act on a task.", ok=(200, _ref("Instance")), body=action_body, body_required=False)
        },
        parameters=[_path_param("task_id", ID), _path_param("action", {"enum": list(TASK_ACTIONS)})],
    )
    spec.path(
        path=f"{PREFIX}/approvals/instances/{{instance_id}}/withdraw",
        operations={
            "post": _op(
                "Withdraw an approval (the submitter).",
                ok=(200, _ref("Instance")),
                body={"type": "object", "properties": {"comment": TEXT}},
                body_required=False,
            )
        },
        parameters=[_path_param("instance_id", ID)],
    )


def _notification_paths(spec: APISpec) -> None:
    notification = {
        "type": "object",
        "required": ["id", "title", "created_at"],
        "properties": {
            "id": ID,
            "title": TEXT,
            "body": nullable(TEXT),
            "object": nullable(TEXT),
            "record_id": nullable(ID),
            "source": nullable(TEXT),
            "created_at": MOMENT,
            "read_at": nullable(MOMENT),
        },
    }
    limit = _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "At most this many (100).")
    spec.path(
        path=f"{PREFIX}/notifications",
        operations={
            "get": _op(
                "My unread notifications.",
                ok=(200, _data(notification, unread={"type": "integer", "minimum": 0})),
                params=[limit],
            )
        },
    )
    ids = {"type": "object", "required": ["ids"], "properties": {"ids": {"type": "array", "items": ID}}}
    marked = {"type": "object", "required": ["marked"], "properties": {"marked": {"type": "integer"}}}
    spec.path(
        path=f"{PREFIX}/notifications/read",
        operations={"post": _op("Mark read.", ok=(200, marked), body=ids)},
    )


def _rule_paths(spec: APISpec) -> None:
    run = {
        "type": "object",
        "required": ["id", "at", "rule", "object", "trigger", "status"],
        "properties": {
            "id": ID,
            "at": TEXT,
            "rule": TEXT,
            "object": TEXT,
            "record_id": nullable(ID),
            "trigger": TEXT,
            "status": TEXT,
            "condition": nullable(TEXT),
            "condition_value": {},
            "inputs": {},
            "actions": {},
            "error": nullable(TEXT),
            "actor_name": TEXT,
            "depth": {"type": "integer"},
        },
    }
    params = [
        _query("rule", TEXT, "Runs of this rule."),
        _query("object", TEXT, "Runs on a record of this object (with record_id)."),
        _query("record_id", ID, "The record."),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "At most this many (100)."),
    ]
    spec.path(
        path=f"{PREFIX}/rules/runs",
        operations={"get": _op("The rule run log (administrators).", ok=(200, _data(run)), params=params)},
    )
    fired = {
        "type": "object",
        "required": ["rule", "status"],
        "properties": {"rule": TEXT, "status": TEXT, "error": nullable(TEXT)},
    }
    spec.path(
        path=f"{PREFIX}/hooks/{{rule_name}}",
        operations={
            "post": _op(
                "Call an inbound rule with a JSON payload; authenticated by the rule's key.",
                ok=(200, fired),
                body={},
                body_required=False,
                params=[_query("key", TEXT, "The rule's key (or sign the body in X-Loom-Signature).")],
                public=True,
            )
        },
        parameters=[_path_param("rule_name", TEXT)],
    )


def _meta_paths(spec: APISpec) -> None:
    kind = _path_param("kind", {"enum": list(META_KINDS)})
    listing = {
        "type": "object",
        "required": ["name", "revision"],
        "properties": {"name": TEXT, "revision": {"type": "integer"}, "package": nullable(TEXT)},
    }
    change = {
        "type": "object",
        "required": ["kind", "name", "revision"],
        "properties": {
            "kind": TEXT,
            "name": TEXT,
            "revision": {
                "type": ["integer", "null"],
                "description": "The document's revision (null once removed).",
            },
            "revision_id": nullable(ID),
            "at": nullable(MOMENT),
            "changes": {"type": "array", "items": TEXT},
            "document": {"type": ["object", "null"]},
        },
    }
    document = {
        "type": "object",
        "required": ["kind", "name", "revision", "document"],
        "properties": {"kind": TEXT, "name": TEXT, "revision": {"type": "integer"}, "document": ANY_OBJECT},
    }
    spec.path(
        path=f"{PREFIX}/meta/{{kind}}",
        operations={
            "get": _op("The documents of a kind (administrators).", ok=(200, _data(listing))),
            "post": _op("Add a document.", ok=(201, change), body=ANY_OBJECT),
        },
        parameters=[kind],
    )
    spec.path(
        path=f"{PREFIX}/meta/{{kind}}/{{name}}",
        operations={
            "get": _op("One document.", ok=(200, document)),
            "put": _op("Create or replace a document.", ok=(200, change), body=ANY_OBJECT),
            "delete": _op("Remove a document, unless that would lose data.", ok=(200, change)),
        },
        parameters=[kind, _path_param("name", TEXT)],
    )


PARAMETER_HELP = {
    "period": f"A period: {', '.join(PERIODS)}, or YYYY-MM-DD..YYYY-MM-DD",
    "user": "A user's id, me, or my_team (my department and those below it)",
    "department": "A department's id (with those below it), or mine",
}
PARAMETER_SCHEMA = {
    "period": {
        "type": "string",
        "pattern": rf"^({'|'.join(PERIODS)}|\d{{4}}-\d{{2}}-\d{{2}}\.\.\d{{4}}-\d{{2}}-\d{{2}})?$",
    },
    "user": {"type": "string", "pattern": r"^(me|my_team|[0-9]{1,15})?$"},
    "department": {"type": "string", "pattern": r"^(mine|[0-9]{1,15})?$"},
}
PERIOD_JSON = nullable(
    {"type": "object", "required": ["first", "last"], "properties": {"first": TEXT, "last": TEXT}}
)
REPORT_HEAD = {
    "name": TEXT,
    "label": TEXT,
    "object": TEXT,
    "folder": {
        "type": ["string", "null"],
        "description": "The folder the report is listed in; null: the folder named after its object.",
    },
    "sharing": {
        "enum": ["everyone", "roles", "private"],
        "description": "Who may run it: everyone who may read the object, some roles, or its owner.",
    },
    "chart": TEXT,
    "parameters": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["name", "kind", "field"],
            "properties": {
                "name": TEXT,
                "kind": {"enum": ["period", "user", "department"]},
                "field": TEXT,
                "default": nullable(TEXT),
                "label": TEXT,
            },
        },
    },
}
REPORT_RESULT = {
    "type": "object",
    "required": ["name", "object", "columns", "rows", "values"],
    "properties": {
        **REPORT_HEAD,
        "values": {
            "type": "object",
            "additionalProperties": TEXT,
            "description": "The value each parameter took: the one given, else its default.",
        },
        "period": PERIOD_JSON,
        "previous_period": PERIOD_JSON,
        "pivot": {
            "type": ["object", "null"],
            "description": "A report of two groups as a cross table: the first group down, the second across;"
            " each cell is the index of its row in rows, null where there were no records.",
            "properties": {
                "down": TEXT,
                "across": TEXT,
                "rows": {"type": "array"},
                "columns": {"type": "array"},
                "row_labels": {"type": "array", "items": TEXT},
                "column_labels": {"type": "array", "items": TEXT},
                "cells": {
                    "type": "array",
                    "items": {"type": "array", "items": {"type": ["integer", "null"]}},
                },
            },
        },
        "columns": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "role", "label"],
                "properties": {
                    "name": TEXT,
                    "role": {"enum": ["group", "measure"]},
                    "label": TEXT,
                    "field": nullable(TEXT),
                    "bucket": nullable(TEXT),
                    "function": nullable(TEXT),
                },
            },
        },
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["values", "labels", "filter"],
                "properties": {
                    "values": {
                        "type": "object",
                        "description": "Column to value: decimals as exact strings, dates as YYYY-MM-DD.",
                    },
                    "labels": {"type": "object", "additionalProperties": TEXT},
                    "filter": {
                        "type": ["string", "null"],
                        "description": "The condition listing this row's records (GET /records/<object>).",
                    },
                },
            },
        },
    },
}


def _report_paths(spec: APISpec, registry: Registry, actor: Actor) -> None:
    """The reports the caller may run, each with its own parameters."""
    spec.components.schema("ReportResult", REPORT_RESULT)
    listing = {"type": "object", "required": ["name", "object"], "properties": REPORT_HEAD}
    spec.path(
        path=f"{PREFIX}/reports",
        operations={"get": _op("The reports the caller may run.", ok=(200, _data(listing)))},
    )
    for report in readable_reports(registry, actor):
        params = [_query("filter", TEXT, "A condition narrowing the report further, e.g. amount > 1000.")]
        for parameter in report.parameters:
            default = f" (default {parameter.default}; empty: not narrowed)" if parameter.default else ""
            help = PARAMETER_HELP[parameter.kind] + default + "."
            params.append(_query(parameter.name, PARAMETER_SCHEMA[parameter.kind], help))
        label = report.label.get("en") or report.name
        spec.path(
            path=f"{PREFIX}/reports/{report.name}",
            operations={
                "get": _op(f"Run the report {label!r}.", ok=(200, _ref("ReportResult")), params=params)
            },
        )


DASHBOARD_HEAD = {
    "name": TEXT,
    "label": TEXT,
    "filters": {"type": "array", "items": {"enum": ["period", "user", "department"]}},
    "default_period": TEXT,
    "home_for": {"type": "array", "items": TEXT},
}
ERROR_OR_NULL = nullable(
    {"type": "object", "required": ["code", "message"], "properties": {"code": TEXT, "message": TEXT}}
)
DASHBOARD_RESULT = {
    "type": "object",
    "required": ["name", "values", "widgets"],
    "properties": {
        **DASHBOARD_HEAD,
        "values": {
            "type": "object",
            "additionalProperties": TEXT,
            "description": "The value each filter the dashboard shows took: the one given, else its default.",
        },
        "widgets": {
            "type": "array",
            "description": "The widgets the caller may run, in order.",
            "items": {
                "type": "object",
                "required": ["name", "kind", "report", "label", "width", "result", "kpi", "error"],
                "properties": {
                    "name": TEXT,
                    "kind": {"enum": ["kpi", "chart", "list"]},
                    "report": TEXT,
                    "label": TEXT,
                    "width": {"type": "integer", "minimum": 1, "maximum": 4},
                    "result": {"oneOf": [_ref("ReportResult"), {"type": "null"}]},
                    "kpi": nullable(
                        {
                            "type": "object",
                            "required": ["total", "target", "reached"],
                            "description": "Exact decimal strings; reached is total / target (1 = 100%).",
                            "properties": {
                                "total": TEXT,
                                "target": nullable(TEXT),
                                "reached": nullable(TEXT),
                                "target_error": ERROR_OR_NULL,
                            },
                        }
                    ),
                    "error": ERROR_OR_NULL,
                },
            },
        },
    },
}


def _dashboard_paths(spec: APISpec, registry: Registry, actor: Actor) -> None:
    """The dashboards the caller may see, each run with the filters it shows."""
    spec.components.schema("DashboardResult", DASHBOARD_RESULT)
    listing = {"type": "object", "required": ["name"], "properties": DASHBOARD_HEAD}
    spec.path(
        path=f"{PREFIX}/dashboards",
        operations={"get": _op("The dashboards with a widget the caller may run.", ok=(200, _data(listing)))},
    )
    for board in readable_dashboards(registry, actor):
        params = []
        for kind in FILTER_KINDS:
            default = f" (default {board.default_period})" if kind == "period" else " (empty: not narrowed)"
            params.append(_query(kind, PARAMETER_SCHEMA[kind], PARAMETER_HELP[kind] + default + "."))
        label = board.label.get("en") or board.name
        spec.path(
            path=f"{PREFIX}/dashboards/{board.name}",
            operations={
                "get": _op(f"Run the dashboard {label!r}.", ok=(200, _ref("DashboardResult")), params=params)
            },
        )
