"""A leaver's handover: choose who leaves and who receives, see how many records move, then move them."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from builder_ui.blueprint import blueprint
from builder_ui.org import int_or_none
from engine import identity
from engine.identity.errors import IdentityInvalid, UserDisabled, UserNotFound
from runtime.web.auth import current_actor, current_loom


@blueprint.route("/org/handover", methods=["GET", "POST"])
def org_handover() -> str:
    """GET: the form; POST: the counts (a trial run rolled back), or with `confirm` the handover itself."""
    loom = current_loom()
    users = identity.list_users(loom)
    objects = sorted(loom.registry.objects.values(), key=lambda model: model.name)
    form = request.form
    chosen = {
        "from": int_or_none(form.get("from_user", request.args.get("from"))),
        "to": int_or_none(form.get("to_user")),
        "objects": [name for name in form.getlist("objects") if name in loom.registry.objects],
    }
    errors: dict[str, str] = {}
    counts: dict[str, int] | None = None
    done = False
    if request.method == "POST":
        errors = _problems(chosen, {user["id"]: user for user in users})
        if not errors:
            try:
                counts = _run(chosen, confirm=bool(form.get("confirm")))
                done = bool(form.get("confirm"))
            except UserDisabled:
                errors["to_user"] = _("A disabled user cannot receive records")
            except (UserNotFound, IdentityInvalid):
                errors["to_user"] = _("Choose two different users")
    page = render_template(
        "builder/org/handover.html",
        users=users,
        objects=objects,
        chosen=chosen,
        errors=errors,
        counts=counts,
        total=sum(counts.values()) if counts else 0,
        done=done,
        posted=request.method == "POST",
    )
    return page


def _problems(chosen: dict[str, Any], users: dict[int, dict[str, Any]]) -> dict[str, str]:
    errors = {}
    if chosen["from"] not in users:
        errors["from_user"] = _("Choose who is leaving")
    receiver = users.get(chosen["to"])
    if receiver is None:
        errors["to_user"] = _("Choose who receives the records")
    elif not receiver["active"]:
        errors["to_user"] = _("A disabled user cannot receive records")
    elif chosen["to"] == chosen["from"]:
        errors["to_user"] = _("Choose two different users")
    if not chosen["objects"]:
        errors["objects"] = _("Choose at least one object")
    return errors


def _run(chosen: dict[str, Any], *, confirm: bool) -> dict[str, int]:
    """The engine's handover; without `confirm` it runs in a transaction rolled back, for the counts."""
    loom, actor = current_loom(), current_actor()
    if confirm:
        return identity.handover(loom, chosen["from"], chosen["to"], objects=chosen["objects"], actor=actor)
    with loom.begin() as conn:
        counts = identity.handover(
            loom, chosen["from"], chosen["to"], objects=chosen["objects"], actor=actor, conn=conn
        )
        conn.rollback()
    return counts
