"""The approval panel of a record page: its latest approval, each approver's step, and the buttons
the actor may use — deciding their own task, reminding or withdrawing their own submission, submitting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import ExpressionError
from engine.expressions import evaluate, parse
from metadata.flows import FlowSpec
from runtime.auth import current_actor, current_loom
from runtime.i18n import label_text
from runtime.pages_format import user_names
from runtime.pages_objects import ObjectPage, may_change_record


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
        }
    running = instance is not None and instance.running
    submittable = [flow for flow in flows if _submittable(flow, record)]
    panel["flows"] = [(f.name, label_text(f.label, f.name)) for f in submittable]
    panel["can_submit"] = bool(submittable) and not running and may_change_record(page.name, record["id"])
    return panel


def _submittable(flow: FlowSpec, record: Mapping[str, Any]) -> bool:
    """Whether the flow's `submit_when` holds for the record (the engine checks again on submitting)."""
    if not flow.submit_when:
        return True
    ectx, _sql = current_loom().contexts(current_actor())
    try:
        return bool(evaluate(parse(flow.submit_when), record, ectx))
    except ExpressionError:
        return False
