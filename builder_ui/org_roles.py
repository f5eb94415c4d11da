"""Roles as a matrix: per object the operations and their record scopes, per field hidden or read-only.

A role is a metadata document: it is saved as the REST API saves one — validated, then applied
through engine.schema.changes.apply_objects, which records the revision.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from builder_ui.blueprint import blueprint
from engine import identity
from engine.base.errors import InvalidMetadata
from engine.schema.changes import apply_objects
from engine.store.documents import get_document
from metadata import validation
from metadata.roles import FIELD_ACCESS, OPERATIONS, SCOPES
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import field_errors

NAME_PATTERN = r"[a-z][a-z0-9_]{0,63}"


@blueprint.get("/org/roles")
def org_roles() -> str:
    loom = current_loom()
    return render_template(
        "builder/org/roles.html",
        roles=sorted(loom.registry.roles.values(), key=lambda role: role.name),
        held=identity.roles_in_use(loom),
    )


@blueprint.route("/org/roles/new", methods=["GET", "POST"])
def org_role_new() -> str | Response:
    return _matrix(None)


@blueprint.route("/org/roles/<name>", methods=["GET", "POST"])
def org_role_edit(name: str) -> str | Response:
    loom = current_loom()
    with loom.read() as conn:
        document = get_document(conn, "role", name)
    if document is None:
        abort(404)
    return _matrix(document.body)


def _matrix(document: dict[str, Any] | None) -> str | Response:
    loom = current_loom()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        document = _posted(document)
        errors = _save(document, new=request.endpoint == "builder.org_role_new")
        if not errors:
            flash(_("Role saved"), "success")
            return redirect(url_for("builder.org_role_edit", name=document["name"]))
    document = document or {"name": "", "label": {}, "objects": {}, "fields": {}}
    objects = sorted(loom.registry.objects.values(), key=lambda model: model.name)
    page = render_template(
        "builder/org/role_form.html",
        document=document,
        is_new=request.endpoint == "builder.org_role_new",
        objects=objects,
        operations=[op for op in OPERATIONS if op != "create"],
        scopes=SCOPES,
        field_access=FIELD_ACCESS,
        errors=errors,
    )
    return page


def _posted(before: dict[str, Any] | None) -> dict[str, Any]:
    """The role document the matrix describes; what the matrix does not show is kept from `before`."""
    form = request.form
    document: dict[str, Any] = dict(before or {})
    if before is None:
        document["name"] = form.get("name", "").strip()
    label = {locale: form.get(f"label_{locale}", "").strip() for locale in ("zh_CN", "en")}
    document["label"] = {locale: text for locale, text in label.items() if text}
    objects: dict[str, Any] = {}
    for name in current_loom().registry.objects:
        grant: dict[str, Any] = {}
        if form.get(f"{name}.create"):
            grant["create"] = True
        for op in OPERATIONS[1:]:
            scope = form.get(f"{name}.{op}", "")
            if scope:
                grant[op] = scope
        if grant:
            objects[name] = grant
    document["objects"] = objects
    if form.get("build_reports"):
        document["build_reports"] = True
    else:
        document.pop("build_reports", None)
    fields = {}
    for key, access in form.items():
        if key.startswith("field:") and access:
            fields[key.removeprefix("field:")] = access
    document["fields"] = fields
    if not fields:
        document.pop("fields")
    return document


def _save(document: dict[str, Any], *, new: bool) -> dict[str, list[str]]:
    """Validate, then apply; the problems by JSON path (or by form control), empty when saved."""
    loom = current_loom()
    name = document.get("name", "")
    if not re.fullmatch(NAME_PATTERN, name):
        return {"/name": [_("Use lower-case letters, digits and _, starting with a letter")]}
    if new:
        with loom.read() as conn:
            if get_document(conn, "role", name) is not None:
                return {"/name": [_("A role of this name exists already")]}
    if not document.get("label"):
        return {"/label": [_("Give the role a name people see")]}
    file = f"roles/{name}.json"
    result = validation.validate_role(document, file, known_objects=loom.registry.specs())
    problems = list(result.problems)
    if not problems:
        try:
            apply_objects(
                loom, [], roles=list(result.roles), actor=current_actor(), files={f"role:{name}": file}
            )
        except InvalidMetadata as error:
            problems = list(error.problems)
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(problem.path or "/", []).append(problem.message)
    return field_errors(found)
