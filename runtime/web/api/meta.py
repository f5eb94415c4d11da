"""Metadata over the API: read, create, replace and remove objects, rules, roles, flows, forms, reports
and dashboards.

Only administrators may use it. Every change is validated (the JSON path of each problem in
`fields`) and applied through engine/schema/changes.py with schema sync in one transaction,
and answers with the document's new revision. Removing never drops data: an object cannot be
removed through the API, a role while users hold it, nor a flow while an approval runs on it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response, jsonify
from werkzeug.exceptions import NotFound

from engine import identity
from engine.base.actors import Actor
from engine.base.errors import InvalidMetadata, LoomError, SchemaChangeRefused
from engine.flows.instances import has_running
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.rules.schedules import sync_rule_schedules
from engine.schema.changes import apply_objects
from engine.schema.registry import Registry
from engine.store.documents import delete_document, get_document, load_documents, revisions
from metadata import validation
from metadata.problems import Problem
from runtime.web.api.blueprint import blueprint
from runtime.web.api.inputs import json_object
from runtime.web.api.record_json import moment_json
from runtime.web.auth import current_actor, current_loom

Validator = Callable[..., Any]


@dataclass(frozen=True)
class MetaKind:
    """One kind of metadata document as the API serves it."""

    kind: str  # the document kind in the store
    folder: str  # the URL segment and package folder: objects, rules, …
    validate: Validator
    #: The apply_objects keyword taking specs of this kind (None: the positional object specs).
    apply_as: str | None


def _kinds() -> dict[str, MetaKind]:
    found = {
        "objects": MetaKind("object", "objects", validation.validate_object, None),
        "rules": MetaKind("rule", "rules", validation.validate_rule, "rules"),
        "roles": MetaKind("role", "roles", validation.validate_role, "roles"),
        "flows": MetaKind("flow", "flows", validation.validate_flow, "flows"),
    }
    for kind, folder in (("form", "forms"), ("report", "reports"), ("dashboard", "dashboards")):
        validate = getattr(validation, f"validate_{kind}", None)
        if validate is not None:
            found[folder] = MetaKind(kind, folder, validate, folder)
    return found


KINDS = _kinds()
APPLY_KEYWORDS = frozenset(inspect.signature(apply_objects).parameters)


class MetadataRefused(LoomError):
    """A metadata document has problems; `fields` maps each JSON path to its messages."""

    code = "invalid_metadata"

    def __init__(self, problems: list[Problem], own_file: str) -> None:
        self.fields: dict[str, list[str]] = {}
        for problem in problems:
            where = problem.path or "/"
            key = where if problem.file == own_file else f"{problem.file}:{where}"
            self.fields.setdefault(key, []).append(problem.message)
        super().__init__(f"{len(problems)} problem(s) in the metadata; nothing was applied")


class MetadataConflict(LoomError):
    code = "conflict"


class KindNotChangeable(LoomError):
    code = "not_supported"


def is_administrator(registry: Registry, actor: Actor) -> bool:
    """The system, or a user holding a role marked `admin`."""
    return actor.is_system or any(registry.roles[r].admin for r in actor.roles if r in registry.roles)


def require_admin(loom: Loom, actor: Actor) -> None:
    if not is_administrator(loom.registry, actor):
        raise PermissionDenied("only administrators may read and change metadata through the API")


def _kind(folder: str) -> MetaKind:
    found = KINDS.get(folder)
    if found is None:
        raise NotFound(f"there is no metadata kind {folder!r}; the kinds are {', '.join(KINDS)}")
    return found


@blueprint.get("/meta/<folder>")
def list_documents(folder: str) -> Response:
    kind = _kind(folder)
    loom = current_loom()
    require_admin(loom, current_actor())
    with loom.read() as conn:
        documents = load_documents(conn, kind.kind)
    data = [{"name": d.name, "revision": d.revision, "package": d.package} for d in documents]
    return jsonify({"data": data})


@blueprint.get("/meta/<folder>/<name>")
def get_metadata(folder: str, name: str) -> Response:
    kind = _kind(folder)
    loom = current_loom()
    require_admin(loom, current_actor())
    with loom.read() as conn:
        document = get_document(conn, kind.kind, name)
    if document is None:
        raise NotFound(f"there is no {kind.kind} named {name!r}")
    return jsonify(
        {"kind": kind.kind, "name": name, "revision": document.revision, "document": document.body}
    )


@blueprint.post("/meta/<folder>")
def create_metadata(folder: str) -> tuple[Response, int]:
    """Add a new document; 409 when one of that name exists (PUT replaces)."""
    kind = _kind(folder)
    body = json_object()
    name = body.get("name")
    loom = current_loom()
    if isinstance(name, str):
        with loom.read() as conn:
            if get_document(conn, kind.kind, name) is not None:
                require_admin(loom, current_actor())
                raise MetadataConflict(f"a {kind.kind} named {name!r} exists already; PUT it to replace it")
    return _apply(kind, body), 201


@blueprint.put("/meta/<folder>/<name>")
def replace_metadata(folder: str, name: str) -> Response:
    """Create or replace the document `name`; the body's name, when given, must be the same."""
    kind = _kind(folder)
    body = json_object()
    if body.setdefault("name", name) != name:
        problem = Problem(_file(kind, name), "/name", f"the name must be {name!r}, as in the address")
        raise MetadataRefused([problem], _file(kind, name))
    return _apply(kind, body)


@blueprint.delete("/meta/<folder>/<name>")
def delete_metadata(folder: str, name: str) -> Response:
    """Remove a document, unless that would lose data or break what depends on it (409)."""
    kind = _kind(folder)
    loom, actor = current_loom(), current_actor()
    require_admin(loom, actor)
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        if get_document(conn, kind.kind, name) is None:
            raise NotFound(f"there is no {kind.kind} named {name!r}")
        _refuse_removal(loom, conn, registry, kind, name)
        delete_document(conn, kind.kind, name, actor=actor, at=loom.clock.now())
        if kind.kind == "rule":
            remaining = {key: rule for key, rule in registry.rules.items() if key != name}
            sync_rule_schedules(loom, conn, registry.rule_specs(), remaining, registry)
        revision = revisions(conn, kind.kind, name)[0]
    loom.forget_registry()
    return jsonify({"kind": kind.kind, "name": name, "revision": None, "revision_id": revision["id"]})


def _refuse_removal(loom: Loom, conn: Any, registry: Registry, kind: MetaKind, name: str) -> None:
    if kind.kind == "object":
        raise SchemaChangeRefused(
            f"object {name!r} cannot be removed through the API: its table and records would go with it"
        )
    if kind.kind == "role" and identity.roles_in_use(loom, conn=conn).get(name):
        raise MetadataConflict(f"role {name!r} is held by users; take it from them first")
    if kind.kind == "flow":
        if has_running(conn, name):
            raise MetadataConflict(f"flow {name!r} has approvals running; let them end first")
        starters = sorted(
            rule.name
            for rule in registry.rules.values()
            if any(a.type == "start_flow" and a.param("flow") == name for a in rule.actions)
        )
        if starters:
            raise MetadataConflict(f"flow {name!r} is started by rule(s) {', '.join(starters)}")


def _apply(kind: MetaKind, body: dict[str, Any]) -> Response:
    loom, actor = current_loom(), current_actor()
    require_admin(loom, actor)
    if kind.apply_as is not None and kind.apply_as not in APPLY_KEYWORDS:
        raise KindNotChangeable(f"{kind.folder} cannot be changed through the API yet")
    name = body.get("name") if isinstance(body.get("name"), str) else "new"
    file = _file(kind, name)
    registry = loom.registry
    result = kind.validate(body, file, known_objects=registry.specs())
    if result.problems:
        raise MetadataRefused(result.problems, file)
    [spec] = getattr(result, kind.folder)
    specs = [spec] if kind.apply_as is None else []
    extra: Mapping[str, Any] = {} if kind.apply_as is None else {kind.apply_as: [spec]}
    try:
        plan = apply_objects(loom, specs, actor=actor, files={_files_key(kind, name): file}, **extra)
    except InvalidMetadata as error:
        raise MetadataRefused(error.problems, file) from None
    return jsonify(_applied(loom, kind, name, plan.lines()))


def _applied(loom: Loom, kind: MetaKind, name: str, changes: list[str]) -> dict[str, Any]:
    with loom.read() as conn:
        document = get_document(conn, kind.kind, name)
        latest = revisions(conn, kind.kind, name)
    revision = latest[0] if latest else None
    return {
        "kind": kind.kind,
        "name": name,
        "revision": document.revision if document else None,
        "revision_id": revision["id"] if revision else None,
        "at": moment_json(revision["at"]) if revision else None,
        "changes": changes,
        "document": document.body if document else None,
    }


def _file(kind: MetaKind, name: str) -> str:
    return f"{kind.folder}/{name}.json"


def _files_key(kind: MetaKind, name: str) -> str:
    # apply_objects names objects by their bare name and the other kinds as "<kind>:<name>".
    return name if kind.kind == "object" else f"{kind.kind}:{name}"
