"""The organisation's people: list, create, edit, disable and enable users, and reset passwords.

Every change goes through engine.identity (which audits it); the page checks the input first so
that every field's problem is shown at once, in the page's language.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from builder_ui.blueprint import blueprint
from engine import identity
from engine.identity.errors import IdentityInvalid, UserDisabled, UsernameTaken, UserNotFound
from engine.identity.passwords import MAX_LENGTH as MAX_PASSWORD_LENGTH
from engine.identity.users import LOCALE_PATTERN, ROLE_PATTERN, USERNAME_PATTERN
from engine.loom import Loom
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import LOCALE_NAMES

STATUSES = ("active", "disabled", "all")


def org_context(loom: Loom) -> dict[str, Any]:
    """What every organisation page needs to name people, departments and roles."""
    departments = identity.list_departments(loom)
    return {
        "departments": departments,
        "department_names": {d["id"]: department_label(departments, d) for d in departments},
        "roles": loom.registry.roles,
    }


def department_label(departments: list[dict[str, Any]], department: Mapping[str, Any]) -> str:
    """A department's name with the names above it, e.g. 总部 / 销售部."""
    by_id = {str(d["id"]): d["name"] for d in departments}
    return " / ".join(by_id.get(part, "?") for part in department["path"].strip("/").split("/"))


def int_or_none(raw: str | None) -> int | None:
    """A posted id, or None when empty or not a whole number."""
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 18 else None


@blueprint.get("/org/")
def org_users() -> str:
    loom = current_loom()
    query = request.args.get("q", "").strip().lower()
    status = request.args.get("status", "active")
    status = status if status in STATUSES else "active"
    role = request.args.get("role", "")
    department_id = int_or_none(request.args.get("department"))
    users = identity.list_users(loom)
    shown = [
        user
        for user in users
        if (not query or query in user["username"] or query in user["display_name"].lower())
        and (status == "all" or user["active"] == (status == "active"))
        and (not role or role in user["roles"])
        and (department_id is None or user["department_id"] == department_id)
    ]
    return render_template(
        "builder/org/users.html",
        users=shown,
        names={user["id"]: user["display_name"] for user in users},
        query=query,
        status=status,
        role=role,
        department_id=department_id,
        **org_context(loom),
    )


@blueprint.route("/org/users/new", methods=["GET", "POST"])
def org_user_new() -> str | Response:
    return _user_form(None)


@blueprint.route("/org/users/<int:user_id>", methods=["GET", "POST"])
def org_user_edit(user_id: int) -> str | Response:
    return _user_form(_user_or_404(user_id))


def _user_or_404(user_id: int) -> dict[str, Any]:
    try:
        return identity.get_user(current_loom(), user_id)
    except UserNotFound:
        abort(404)


def _user_form(user: dict[str, Any] | None) -> str | Response:
    loom = current_loom()
    values = _posted() if request.method == "POST" else _values_of(user)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        errors = _problems(loom, values, user)
        if not errors:
            try:
                saved = _save(loom, values, user)
            except UsernameTaken:
                errors["username"] = [_("This username is taken")]
            except UserDisabled:
                errors["manager_id"] = [_("A disabled user cannot be a manager")]
            except IdentityInvalid:
                errors["manager_id"] = [_("The managers would form a loop")]
            else:
                flash(_("Saved"), "success")
                return redirect(url_for("builder.org_user_edit", user_id=saved["id"]))
    people = [u for u in identity.list_users(loom) if u["active"] and (user is None or u["id"] != user["id"])]
    page = render_template(
        "builder/org/user_form.html",
        user=user,
        values=values,
        errors=errors,
        people=people,
        locales=LOCALE_NAMES,
        min_password=identity.MIN_PASSWORD_LENGTH,
        **org_context(loom),
    )
    return page


def _values_of(user: Mapping[str, Any] | None) -> dict[str, Any]:
    if user is None:
        return {"username": "", "display_name": "", "email": "", "locale": "zh_CN", "password": ""}
    return {**user, "email": user["email"] or "", "password": ""}


def _posted() -> dict[str, Any]:
    form = request.form
    return {
        "username": form.get("username", "").strip(),
        "display_name": form.get("display_name", "").strip(),
        "email": form.get("email", "").strip(),
        "locale": form.get("locale", "zh_CN"),
        "password": form.get("password", ""),
        "department_id": int_or_none(form.get("department_id")),
        "manager_id": int_or_none(form.get("manager_id")),
        "roles": [role for role in form.getlist("roles") if isinstance(role, str)],
        "raw_department": form.get("department_id", "").strip(),
        "raw_manager": form.get("manager_id", "").strip(),
    }


def _problems(loom: Loom, values: Mapping[str, Any], user: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Every field's problem at once, in the page's language, before the engine is asked."""
    errors: dict[str, list[str]] = {}
    if user is None:
        name = values["username"].lower()
        if not USERNAME_PATTERN.fullmatch(name):
            errors["username"] = [_("Use 3 to 150 characters: letters a-z, digits, or . _ - @")]
        else:
            try:
                identity.user_by_username(loom, name)
                errors["username"] = [_("This username is taken")]
            except UserNotFound:
                pass
        password = values["password"]
        if password and (len(password) < identity.MIN_PASSWORD_LENGTH or not password.strip()):
            errors["password"] = [_("At least %(count)s characters", count=identity.MIN_PASSWORD_LENGTH)]
        elif len(password) > MAX_PASSWORD_LENGTH:
            errors["password"] = [_("At most %(count)s characters", count=MAX_PASSWORD_LENGTH)]
    if not values["display_name"]:
        errors["display_name"] = [_("Required")]
    elif len(values["display_name"]) > 150:
        errors["display_name"] = [_("At most %(count)s characters", count=150)]
    email = values["email"]
    if email and (len(email) > 255 or not re.fullmatch(r"[^@\s]+@[^@\s]+", email)):
        errors["email"] = [_("Not an e-mail address")]
    if values["locale"] not in LOCALE_NAMES or not LOCALE_PATTERN.fullmatch(values["locale"]):
        errors["locale"] = [_("Choose a language")]
    known_departments = {d["id"] for d in identity.list_departments(loom)}
    if values.get("raw_department") and values["department_id"] not in known_departments:
        errors["department_id"] = [_("There is no such department")]
    active = {u["id"] for u in identity.list_users(loom, include_disabled=False)}
    if values.get("raw_manager"):
        if values["manager_id"] not in active:
            errors["manager_id"] = [_("Choose an active user")]
        elif user is not None and values["manager_id"] == user["id"]:
            errors["manager_id"] = [_("A user cannot be their own manager")]
    unknown = [r for r in values["roles"] if r not in loom.registry.roles or not ROLE_PATTERN.fullmatch(r)]
    if unknown:
        errors["roles"] = [_("Unknown role: %(names)s", names="、".join(unknown))]
    elif user is not None and user["id"] == current_actor().user_id:
        admin_roles = {name for name, role in loom.registry.roles.items() if role.admin}
        if admin_roles & set(user["roles"]) and not admin_roles & set(values["roles"]):
            errors["roles"] = [_("You cannot take the administrator role from yourself")]
    return errors


def _save(loom: Loom, values: Mapping[str, Any], user: Mapping[str, Any] | None) -> dict[str, Any]:
    actor = current_actor()
    with loom.begin() as conn:
        if user is None:
            return identity.create_user(
                loom,
                values["username"],
                values["display_name"],
                values["password"] or None,
                email=values["email"] or None,
                locale=values["locale"],
                department_id=values["department_id"],
                manager_id=values["manager_id"],
                roles=values["roles"],
                actor=actor,
                conn=conn,
            )
        user_id = user["id"]
        profile = {key: values[key] or None for key in ("display_name", "email")}
        identity.update_profile(
            loom, user_id, {**profile, "locale": values["locale"]}, actor=actor, conn=conn
        )
        identity.set_department(loom, user_id, values["department_id"], actor=actor, conn=conn)
        identity.set_manager(loom, user_id, values["manager_id"], actor=actor, conn=conn)
        identity.set_roles(loom, user_id, values["roles"], actor=actor, conn=conn)
        return identity.get_user(loom, user_id, conn=conn)


@blueprint.post("/org/users/<int:user_id>/disable")
def org_user_disable(user_id: int) -> Response:
    user = _user_or_404(user_id)
    actor = current_actor()
    if user_id == actor.user_id:
        flash(_("You cannot disable yourself"), "error")
    else:
        identity.disable_user(current_loom(), user_id, actor=actor)
        flash(_("%(name)s is disabled and can no longer sign in", name=user["display_name"]), "success")
    return redirect(url_for("builder.org_user_edit", user_id=user_id))


@blueprint.post("/org/users/<int:user_id>/enable")
def org_user_enable(user_id: int) -> Response:
    user = _user_or_404(user_id)
    identity.enable_user(current_loom(), user_id, actor=current_actor())
    flash(_("%(name)s may sign in again", name=user["display_name"]), "success")
    return redirect(url_for("builder.org_user_edit", user_id=user_id))


@blueprint.post("/org/users/<int:user_id>/password")
def org_user_password(user_id: int) -> str | Response:
    """Set the password typed, or a new random one shown once; the user's sessions end."""
    user = _user_or_404(user_id)
    typed = request.form.get("password", "")
    if typed and (len(typed) < identity.MIN_PASSWORD_LENGTH or not typed.strip()):
        flash(
            _("The password needs at least %(count)s characters", count=identity.MIN_PASSWORD_LENGTH), "error"
        )
        return redirect(url_for("builder.org_user_edit", user_id=user_id))
    if len(typed) > MAX_PASSWORD_LENGTH:
        flash(_("At most %(count)s characters", count=MAX_PASSWORD_LENGTH), "error")
        return redirect(url_for("builder.org_user_edit", user_id=user_id))
    password = typed or secrets.token_urlsafe(12)
    identity.set_password(current_loom(), user_id, password, actor=current_actor())
    return render_template("builder/org/password_set.html", user=user, password=None if typed else password)
