"""Approvals: the inbox, and the operations of the approval panel (submit, approve, reject, withdraw,
remind, comment); see pages_approval_panel for what the panel shows.

Every button is there only for someone the flow engine would let do it, and the engine checks again.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import LoomError
from engine.flows import FlowError
from runtime.auth import current_actor, current_loom
from runtime.i18n import error_text, label_text, page_locale
from runtime.pages import blueprint
from runtime.pages_objects import object_page


@blueprint.get("/approvals")
def approvals_inbox() -> str:
    loom, actor = current_loom(), current_actor()
    items = loom.flows.pending_for(actor.user_id, locale=page_locale()) if actor.user_id else []
    for item in items:
        model = loom.registry.objects.get(item["object"])
        item["object_label"] = label_text(model.spec.label, item["object"]) if model else item["object"]
        item["submitter_name"] = item["submitter_name"] or ""
    return render_template("approvals.html", items=items)


@blueprint.post("/app/<object_name>/<int:record_id>/submit")
def submit_for_approval(object_name: str, record_id: int) -> Response:
    object_page(object_name)
    flow = request.form.get("flow") or None
    comment = request.form.get("comment", "").strip() or None
    return _flow_step(
        lambda actor: current_loom().flows.submit(object_name, record_id, flow, actor=actor, comment=comment),
        _("Submitted for approval"),
        object_name,
        record_id,
    )


@blueprint.post("/approvals/tasks/<int:task_id>/<any(approve, reject):decision>")
def decide_task(task_id: int, decision: str) -> Response:
    flows = current_loom().flows
    comment = request.form.get("comment", "").strip()
    object_name, record_id = request.form.get("object", ""), request.form.get("record_id", type=int)
    if decision == "approve":
        step = lambda actor: flows.approve(task_id, actor=actor, comment=comment or None)  # noqa: E731
        done = _("Approved")
    else:
        step = lambda actor: flows.reject(task_id, actor=actor, comment=comment)  # noqa: E731
        done = _("Rejected")
    return _flow_step(step, done, object_name, record_id)


@blueprint.post("/approvals/<int:instance_id>/<any(withdraw, remind, comment):operation>")
def instance_operation(instance_id: int, operation: str) -> Response:
    flows = current_loom().flows
    text = request.form.get("comment", "").strip()
    object_name, record_id = request.form.get("object", ""), request.form.get("record_id", type=int)
    steps = {
        "withdraw": (
            lambda actor: flows.withdraw(instance_id, actor=actor, comment=text or None),
            _("Withdrawn"),
        ),
        "remind": (lambda actor: flows.remind(instance_id=instance_id, actor=actor), _("Reminder sent")),
        "comment": (lambda actor: flows.comment(instance_id, text, actor=actor), _("Comment added")),
    }
    step, done = steps[operation]
    return _flow_step(step, done, object_name, record_id)


def _flow_step(step: Any, done: str, object_name: str, record_id: int | None) -> Response:
    """Run one flow operation as the actor; say what happened, or why the engine refused it."""
    try:
        step(current_actor())
    except (FlowError, LoomError) as error:
        flash(error_text(error), "error")
    else:
        flash(done, "success")
    if object_name and record_id is not None and _readable(object_name, record_id):
        return redirect(url_for(".record_detail", object_name=object_name, record_id=record_id))  # type: ignore[return-value]
    return redirect(url_for(".approvals_inbox"))  # type: ignore[return-value]


def _readable(object_name: str, record_id: int) -> bool:
    """Whether the actor may still open the record (an approver may decide on one they cannot open)."""
    try:
        current_loom().records(current_actor()).get(object_name, record_id)
    except LoomError:
        return False
    return True
