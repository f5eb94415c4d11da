"""Approvals over the API: the caller's inbox, deciding and handing on tasks, and withdrawing.

Each action is one call of the flow engine (`loom.flows`), which checks who may do it.
Sending a record for approval is `POST /records/<object>/<id>/submit` (runtime/web/api/records.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request
from werkzeug.exceptions import NotFound

from engine.base.actors import Actor
from engine.flows import Instance
from engine.flows.field_access import visible_summary
from engine.flows.inbox import INBOX_LIMIT, TABS
from engine.flows.instances import load_task
from engine.loom import Loom
from runtime.web.api.blueprint import blueprint
from runtime.web.api.inputs import (
    BadQuery,
    int_arg,
    json_object,
    optional_text,
    required_id,
    takes_query,
    texts,
)
from runtime.web.api.record_json import moment_json, plain_json
from runtime.web.auth import current_actor, current_loom
from runtime.web.errors import RequestInvalid

POSITIONS = ("before", "after")
INBOX_FIELDS = ("created_at", "due_at", "submitted_at")


def instance_json(instance: Instance) -> dict[str, Any]:
    return {
        "id": instance.id,
        "flow": instance.flow,
        "object": instance.object,
        "record_id": instance.record_id,
        "status": instance.status,
        "submitter_id": instance.submitter_id,
        "started_at": moment_json(instance.started_at),
        "ended_at": moment_json(instance.ended_at),
        "active_nodes": list(instance.active_nodes),
    }


@blueprint.get("/approvals/inbox")
@takes_query("tab", "limit", "before")
def inbox() -> Response:
    """One page of a tab of the caller's inbox (pending by default), newest first."""
    loom, actor = current_loom(), current_actor()
    tab = request.args.get("tab") or "pending"
    if tab not in TABS:
        raise BadQuery(f"tab is one of {', '.join(TABS)} (got {tab!r})")
    limit = int_arg("limit", INBOX_LIMIT, 1, INBOX_LIMIT)
    before = int_arg("before", 0, 1, 2**62) or None
    if actor.user_id is None:
        return jsonify({"data": [], "next_before": None})
    page = loom.flows.inbox(actor.user_id, tab, limit=limit, before=before, locale=actor.locale)
    items = [{**item, "summary": visible_summary(loom, actor, item)} for item in page.items]
    return jsonify({"data": [plain_json(item) for item in items], "next_before": page.next_before})


def _approve(loom: Loom, task_id: int, body: dict[str, Any], actor: Actor) -> Instance:
    return loom.flows.approve(task_id, actor=actor, comment=optional_text(body, "comment"))


def _reject(loom: Loom, task_id: int, body: dict[str, Any], actor: Actor) -> Instance:
    [comment] = texts(body, "comment")  # a rejection always says why
    return loom.flows.reject(task_id, actor=actor, comment=comment, to_node=optional_text(body, "to_node"))


def _transfer(loom: Loom, task_id: int, body: dict[str, Any], actor: Actor) -> Instance:
    to_user = required_id(body, "to_user_id")
    return loom.flows.transfer(task_id, to_user, actor=actor, comment=optional_text(body, "comment"))


def _add_approver(loom: Loom, task_id: int, body: dict[str, Any], actor: Actor) -> Instance:
    user_id = required_id(body, "user_id")
    position = body.get("position", "before")
    if position not in POSITIONS:
        raise RequestInvalid("position is before or after", {"position": ["must be before or after"]})
    return loom.flows.add_approver(
        task_id, user_id, position=position, actor=actor, comment=optional_text(body, "comment")
    )


def _comment(loom: Loom, task_id: int, body: dict[str, Any], actor: Actor) -> Instance:
    [text] = texts(body, "comment")
    with loom.read() as conn:
        instance_id = load_task(conn, task_id).instance_id
    loom.flows.comment(instance_id, text, actor=actor)
    return loom.flows.get(instance_id)


def _remind(loom: Loom, task_id: int, body: dict[str, Any], actor: Actor) -> Instance:
    loom.flows.remind(task_id, actor=actor)
    with loom.read() as conn:
        instance_id = load_task(conn, task_id).instance_id
    return loom.flows.get(instance_id)


TASK_ACTIONS: dict[str, Callable[[Loom, int, dict[str, Any], Actor], Instance]] = {
    "approve": _approve,
    "reject": _reject,
    "transfer": _transfer,
    "add_approver": _add_approver,
    "comment": _comment,
    "remind": _remind,
}


@blueprint.post("/approvals/tasks/<id:task_id>/<action>")
def act_on_task(task_id: int, action: str) -> Response:
    """approve, reject (with a reason), transfer (转交), add_approver (加签), comment, remind (催办)."""
    run = TASK_ACTIONS.get(action)
    if run is None:
        raise NotFound(f"there is no approval action {action!r}; the actions are {', '.join(TASK_ACTIONS)}")
    loom, actor = current_loom(), current_actor()
    body = json_object() if request.get_data() else {}
    return jsonify(instance_json(run(loom, task_id, body, actor)))


@blueprint.post("/approvals/instances/<id:instance_id>/withdraw")
def withdraw(instance_id: int) -> Response:
    """撤回: the submitter takes the record back; it is editable again."""
    loom, actor = current_loom(), current_actor()
    body = json_object() if request.get_data() else {}
    instance = loom.flows.withdraw(instance_id, actor=actor, comment=optional_text(body, "comment"))
    return jsonify(instance_json(instance))
