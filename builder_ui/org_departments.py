"""The department tree: create, re-parent (by dragging or by choosing a parent) and set each head."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from builder_ui.blueprint import blueprint
from builder_ui.org import int_or_none, org_context
from engine import identity
from engine.identity.errors import DepartmentNotFound, IdentityInvalid, UserNotFound
from runtime.web.auth import current_actor, current_loom


@blueprint.get("/org/departments")
def org_departments() -> str:
    loom = current_loom()
    users = identity.list_users(loom, include_disabled=False)
    return render_template(
        "builder/org/departments.html",
        tree=identity.department_tree(loom),
        people=users,
        names={user["id"]: user["display_name"] for user in identity.list_users(loom)},
        **org_context(loom),
    )


@blueprint.post("/org/departments")
def org_department_create() -> Response:
    loom = current_loom()
    name = request.form.get("name", "").strip()
    parent_id = int_or_none(request.form.get("parent_id"))
    if not name or len(name) > 150:
        flash(_("A department needs a name of at most 150 characters"), "error")
    else:
        try:
            identity.create_department(loom, name, parent_id, actor=current_actor())
        except DepartmentNotFound:
            flash(_("There is no such department"), "error")
        except IdentityInvalid:
            flash(_("There is already a department named %(name)s there", name=name), "error")
        else:
            flash(_("Department %(name)s created", name=name), "success")
    return redirect(url_for("builder.org_departments"))


@blueprint.post("/org/departments/<int:department_id>/move")
def org_department_move(department_id: int) -> Response | tuple[Response, int]:
    """Put a department under another (or at the top); JSON for a drag, a redirect for the form."""
    raw = request.form.get("parent_id", "").strip()
    parent_id = int_or_none(raw)
    problem = None
    if raw and parent_id is None:
        problem = _("There is no such department")
    else:
        problem = _move(department_id, parent_id)
    # Flashed for a drag as well: the tree reloads after a drop and shows it.
    flash(problem or _("Department moved"), "error" if problem else "success")
    if request.accept_mimetypes.best == "application/json":
        return (jsonify({"error": problem}), 422) if problem else (jsonify({"ok": True}), 200)
    return redirect(url_for("builder.org_departments"))


def _move(department_id: int, parent_id: int | None) -> str | None:
    loom = current_loom()
    try:
        department = identity.get_department(loom, department_id)
        if parent_id is not None:
            parent = identity.get_department(loom, parent_id)
            if parent["path"].startswith(department["path"]):
                return _("A department cannot move under itself or a department below it")
        identity.move_department(loom, department_id, parent_id, actor=current_actor())
    except DepartmentNotFound:
        return _("There is no such department")
    except IdentityInvalid:
        return _("There is already a department of that name there, or it would nest too deep")
    return None


@blueprint.post("/org/departments/<int:department_id>/head")
def org_department_head(department_id: int) -> Response:
    raw = request.form.get("head_id", "").strip()
    head_id = int_or_none(raw)
    try:
        if raw and head_id is None:
            raise UserNotFound(raw)
        identity.set_head(current_loom(), department_id, head_id, actor=current_actor())
    except (DepartmentNotFound, UserNotFound):
        flash(_("There is no such department or user"), "error")
    else:
        flash(_("Head saved"), "success")
    return redirect(url_for("builder.org_departments"))
