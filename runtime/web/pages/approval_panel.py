"""The approval panel of a record page: its latest approval, each approver's step, its history, and the
buttons the actor may use — deciding, transferring (转交) or adding an approver (加签) to their own task,
reminding or withdrawing their own submission, submitting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from engine import identity
from engine.base.errors import ExpressionError
from engine.expressions import evaluate, parse
from metadata.flows import FlowSpec
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text
from runtime.web.pages.formatting import user_names
from runtime.web.pages.forms import field_control, form_inputs
from runtime.web.pages.objects import ObjectPage, may_change_record


def approval_panel(page: ObjectPage, record: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the record's approval panel shows, or None when the object has no active flow and no history."""
    loom, actor = current_loom(), current_actor()
    flows = [flow for flow in loom.registry.flows_for(page.name) if flow.active]
    instance = loom.flows.instance_of(page.name, record["id"])
    if not flows and instance is None:
        return None
    panel: dict[str, Any] = {
        "flows": [(f.name, label_text(f.label, f.name)) for f in flows],
        "instance": None,
    }
    if instance is not None:
        definition = loom.flows.definition(instance)
        names = user_names(loom)
        tasks = loom.flows.tasks(instance.id)
        panel["instance"] = {
            "id": instance.id,
            "flow": label_text(definition.label, instance.flow),
            "status": instance.status,
            "running": instance.running,
            "submitter": names.get(instance.submitter_id, ""),
            "mine": actor.user_id == instance.submitter_id,
            "tasks": [
                {
                    "id": task.id,
                    "node": label_text(definition.nodes[task.node].label, task.node)
                    if task.node in definition.nodes
                    else task.node,
                    "assignee": names.get(task.assignee_id, f"#{task.assignee_id}"),
                    "status": task.status,
                    "comment": task.comment,
                    "decided_at": task.decided_at,
                }
                for task in tasks
            ],
            "my_task": next(
                (t.id for t in tasks if t.status == "pending" and t.assignee_id == actor.user_id), None
            ),
            "history": _history(loom.flows.history(instance.id), definition, names),
        }
        if panel["instance"]["my_task"] is not None:
            panel["instance"]["fields"] = editable_controls(page, record)
            # Who the task may go to: active people other than those already on it.
            taken = {t.assignee_id for t in tasks if t.status in ("pending", "waiting")}
            panel["instance"]["people"] = [
                (user["id"], user["display_name"])
                for user in identity.list_users(loom, include_disabled=False)
                if user["id"] not in taken
            ]
    running = instance is not None and instance.running
    submittable = [flow for flow in flows if _submittable(flow, record)]
    panel["flows"] = [(f.name, label_text(f.label, f.name)) for f in submittable]
    panel["can_submit"] = bool(submittable) and not running and may_change_record(page.name, record["id"])
    return panel


def editable_controls(page: ObjectPage, record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The inputs of the fields the actor's open task lets them change while deciding (审批人可编辑字段),
    in the object's field order, with the record's values."""
    loom, actor = current_loom(), current_actor()
    with loom.read() as conn:
        grant = loom.flows.task_grant(conn, actor, page.name, record["id"])
    if grant is None or not grant.editable:
        return []
    access = page.access
    task_page = ObjectPage(page.model, replace(access, read_only=access.read_only - grant.editable))
    values = form_inputs(task_page, record)
    return [
        field_control(task_page, name, values, {})
        for name in page.model.fields
        # An attachment needs the form's upload control: it is changed on the edit page, not here.
        if name in grant.editable
        and task_page.editable(name)
        and page.model.fields[name].type != "attachment"
    ]


#: History steps worth a person's reading; routing steps (branch, split, join …) are left out.
SHOWN_STEPS = frozenset(
    {"submit", "approve", "reject", "transfer", "add_approver", "withdraw", "remind", "comment", "cc",
     "return", "deadline", "approved", "rejected"}
)  # fmt: skip


def _history(
    steps: list[dict[str, Any]], definition: FlowSpec, names: Mapping[int, str]
) -> list[dict[str, Any]]:
    """Each step as the panel names it: when, who, what, at which step, and whom it concerned."""
    shown = []
    for step in steps:
        if step["action"] not in SHOWN_STEPS:
            continue
        node = definition.nodes.get(step["node"]) if step["node"] else None
        detail = step["detail"] or {}
        people = [detail["to"]] if isinstance(detail.get("to"), int) else detail.get("to") or []
        if step["action"] == "add_approver":
            people = [detail.get("user")]
        shown.append(
            {
                "at": step["at"],
                "actor": names.get(step["actor_id"], "") if step["actor_id"] else "",
                "action": step["action"],
                "node": label_text(node.label, node.name) if node is not None else "",
                "comment": step["comment"],
                "people": [names.get(person, f"#{person}") for person in people if person is not None],
                "position": detail.get("position"),
            }
        )
    return shown


def _submittable(flow: FlowSpec, record: Mapping[str, Any]) -> bool:
    """Whether the flow's `submit_when` holds for the record (the engine checks again on submitting)."""
    if not flow.submit_when:
        return True
    ectx, _sql = current_loom().contexts(current_actor())
    try:
        return bool(evaluate(parse(flow.submit_when), record, ectx))
    except ExpressionError:
        return False
