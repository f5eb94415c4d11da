"""Approvals: the inbox (待我审批 / 我已审批 / 我发起的), and the operations of the approval panel and the
inbox cards (submit, approve, reject, transfer, add an approver, withdraw, remind, comment).

Every button is there only for someone the flow engine would let do it, and the engine checks again.
An operation started from the inbox returns to the same tab; one started on a record returns to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_timedelta
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import identity
from engine.base.actors import SYSTEM, Actor
from engine.base.errors import ConflictError, LoomError, RecordInvalid
from engine.flows import FlowError
from engine.flows.field_access import visible_summary
from engine.flows.inbox import TABS
from metadata.specs import FieldSpec
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import babel_locale, error_text, field_errors, label_text, page_locale
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.formatting import Shown, ValueFormatter, field_label
from runtime.web.pages.forms import engine_value, posted_values
from runtime.web.pages.objects import ObjectPage, object_page

PAGE_SIZE = 20


@blueprint.get("/approvals")
def approvals_inbox() -> str:
    loom, actor = current_loom(), current_actor()
    tab = request.args.get("tab", "pending")
    if tab not in TABS:
        abort(404)
    before = request.args.get("before", type=int)
    locale = page_locale()
    if actor.user_id is None:
        items, next_before, waiting = [], None, 0
    else:
        page = loom.flows.inbox(actor.user_id, tab, limit=PAGE_SIZE, before=before, locale=locale)
        items, next_before = page.items, page.next_before
        waiting = loom.flows.pending_count(actor.user_id)
    formatter = ValueFormatter(loom, actor, locale)
    for item in items:
        _describe(item, actor, formatter)
    people = []
    if tab == "pending" and items:  # who a task may be transferred to (the engine checks again)
        people = [
            (user["id"], user["display_name"])
            for user in identity.list_users(loom, include_disabled=False)
            if user["id"] != actor.user_id
        ]
    return render_template(
        "approvals.html",
        tab=tab,
        items=items,
        next_before=next_before,
        first_page=before is None,
        waiting=waiting,
        formatter=formatter,
        people=people,
    )


def _describe(item: dict[str, Any], actor: Actor, formatter: ValueFormatter) -> None:
    """What a card shows beyond the engine's item: labels, the summary fields as formatted values, and
    how long it has waited (a task since it became the approver's, a submission since it was sent)."""
    registry = current_loom().registry
    model = registry.objects.get(item["object"])
    item["object_label"] = label_text(model.spec.label, item["object"]) if model else item["object"]
    item["submitter_name"] = item.get("submitter_name") or ""
    item["fields"] = []
    if model is not None:
        shown = visible_summary(current_loom(), actor, item)
        formatter.prepare(model, [shown], shown)
        item["fields"] = [
            (field_label(model, name), _summary_value(formatter, model.field(name), value))
            for name, value in shown.items()
        ]
    since = item.get("created_at") if item.get("task_status") == "pending" else item["submitted_at"]
    item["waited"] = _waited(since)


def _summary_value(formatter: ValueFormatter, spec: FieldSpec, value: Any) -> Shown:
    """A summary field as the card shows it. A linked record the approver may not open is named all
    the same (they are asked to decide on it), without a link."""
    if spec.type == "lookup" and value is not None:
        target = spec.param("target")
        if value not in formatter.titles[target]:
            title = current_loom().queries(SYSTEM).titles(target, [value]).get(value)
            if title is not None:
                return Shown(str(title))
    return formatter.value(spec, value)


def _waited(since: datetime | None) -> str:
    """How long ago, in words: 2小时 / 3天 (at least a minute)."""
    if since is None:
        return ""
    elapsed = max(current_loom().clock.now() - since, timedelta(minutes=1))
    return format_timedelta(elapsed, locale=babel_locale(page_locale()))


@blueprint.post("/app/<object_name>/<int:record_id>/submit")
def submit_for_approval(object_name: str, record_id: int) -> Response:
    object_page(object_name)
    flow = request.form.get("flow") or None
    comment = request.form.get("comment", "").strip() or None
    return _flow_step(
        lambda actor: current_loom().flows.submit(object_name, record_id, flow, actor=actor, comment=comment),
        _("Submitted for approval"),
        (object_name, record_id),
    )


@blueprint.post("/approvals/tasks/<int:task_id>/<any(approve, reject):decision>")
def decide_task(task_id: int, decision: str) -> Response:
    flows = current_loom().flows
    comment = request.form.get("comment", "").strip()
    if decision == "approve":
        if request.form.get("_task_fields") and not _save_task_fields():
            return _back()
        step = lambda actor: flows.approve(task_id, actor=actor, comment=comment or None)  # noqa: E731
        done = _("Approved")
    else:
        step = lambda actor: flows.reject(task_id, actor=actor, comment=comment)  # noqa: E731
        done = _("Rejected")
    return _flow_step(step, done)


def _save_task_fields() -> bool:
    """Save the fields the approver changed on the record page before approving (审批人可编辑字段);
    the engine lets them change only what their task's node makes editable. False, with the reasons
    flashed, when it refused: nothing is decided then."""
    loom, actor = current_loom(), current_actor()
    object_name, record_id = request.form.get("object", ""), request.form.get("record_id", type=int)
    model = loom.registry.objects.get(object_name)
    if model is None or record_id is None:
        flash(_("The record to change is missing"), "error")
        return False
    records = loom.records(actor)
    try:
        access = records.read_access(object_name, record_id)
        with loom.read() as conn:
            grant = loom.flows.task_grant(conn, actor, object_name, record_id)
        editable = grant.editable if grant is not None else frozenset()
        task_page = ObjectPage(model, replace(access, read_only=access.read_only - editable))
        raw = {name: value for name, value in posted_values(task_page).items() if name in editable}
        changes = {name: engine_value(task_page, name, value) for name, value in raw.items()}
        if changes:
            version = request.form.get("_version", type=int)
            records.update(object_name, record_id, changes, version=version, source="form")
    except RecordInvalid as error:
        for name, messages in field_errors(error.fields).items():
            label = field_label(model, name) if name in model.fields else ""
            text = "; ".join(messages) if page_locale() != "zh_CN" else "；".join(messages)
            flash(_("%(field)s: %(messages)s", field=label, messages=text) if label else text, "error")
        return False
    except ConflictError:
        message = _(
            "Someone else saved this record after you opened it: reload it and make your change again"
        )
        flash(message, "error")
        return False
    except LoomError as error:
        flash(error_text(error), "error")
        return False
    return True


@blueprint.post("/approvals/tasks/<int:task_id>/<any(transfer, add_approver):operation>")
def hand_on_task(task_id: int, operation: str) -> Response:
    """转交 the task to someone else, or 加签: ask someone to approve before or after the approver."""
    flows = current_loom().flows
    person = request.form.get("user_id", type=int)
    comment = request.form.get("comment", "").strip() or None
    if person is None:
        flash(_("Choose the person to hand the approval to"), "error")
        return _back()
    if operation == "transfer":
        step = lambda actor: flows.transfer(task_id, person, actor=actor, comment=comment)  # noqa: E731
        done = _("Transferred")
    else:
        position = request.form.get("position", "before")
        if position not in ("before", "after"):
            flash(_("Choose whether they approve before or after you"), "error")
            return _back()
        step = lambda actor: flows.add_approver(  # noqa: E731
            task_id, person, position=position, actor=actor, comment=comment
        )
        done = _("Approver added")
    return _flow_step(step, done)


@blueprint.post("/approvals/<int:instance_id>/<any(withdraw, remind, comment):operation>")
def instance_operation(instance_id: int, operation: str) -> Response:
    flows = current_loom().flows
    text = request.form.get("comment", "").strip()
    steps = {
        "withdraw": (
            lambda actor: flows.withdraw(instance_id, actor=actor, comment=text or None),
            _("Withdrawn"),
        ),
        "remind": (lambda actor: flows.remind(instance_id=instance_id, actor=actor), _("Reminder sent")),
        "comment": (lambda actor: flows.comment(instance_id, text, actor=actor), _("Comment added")),
    }
    step, done = steps[operation]
    return _flow_step(step, done)


def _flow_step(step: Callable[[Actor], Any], done: str, record: tuple[str, int] | None = None) -> Response:
    """Run one flow operation as the actor; say what happened, or why the engine refused it."""
    try:
        step(current_actor())
    except (FlowError, LoomError) as error:
        flash(error_text(error), "error")
    else:
        flash(done, "success")
    return _back(record)


def _back(record: tuple[str, int] | None = None) -> Response:
    """To the inbox tab the form came from, else to the record (when the actor may still open it)."""
    tab = request.form.get("tab")
    if tab in TABS:
        return redirect(url_for(".approvals_inbox", tab=tab))  # type: ignore[return-value]
    form = request.form
    object_name, record_id = record or (form.get("object", ""), form.get("record_id", type=int))
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
