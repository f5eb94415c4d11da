"""The home page: my open tasks, the approvals waiting for me, my reminders and the records I touched last."""

from __future__ import annotations

from typing import Any

from flask import render_template

from engine.errors import LoomError
from engine.notifications import unread_for
from engine.recent_records import recent_records
from runtime.auth import current_actor, current_loom
from runtime.i18n import label_text, page_locale
from runtime.pages import blueprint
from runtime.pages_format import ValueFormatter
from runtime.pages_objects import may

TASK_OBJECT = "task"
OPEN_TASKS = "owner == user() and status not in ['completed', 'cancelled']"
HOME_LIMIT = 8


@blueprint.get("/")
def home() -> str:
    actor = current_actor()  # not signed in: the error handler sends the browser to /login
    loom = current_loom()
    formatter = ValueFormatter(loom, actor, page_locale())
    with loom.read() as conn:
        reminders = unread_for(conn, actor.user_id, limit=HOME_LIMIT) if actor.user_id else []
    approvals = (
        loom.flows.pending_for(actor.user_id, limit=HOME_LIMIT, locale=page_locale()) if actor.user_id else []
    )
    recent = recent_records(loom, actor, limit=HOME_LIMIT)
    for item in recent:
        item["object_label"] = label_text(loom.registry.object(item["object"]).spec.label, item["object"])
    for item in approvals:
        item["object_label"] = (
            label_text(loom.registry.object(item["object"]).spec.label, item["object"])
            if loom.registry.has_object(item["object"])
            else item["object"]
        )
    return render_template(
        "home.html",
        name=actor.name,
        tasks=_my_tasks(formatter),
        approvals=approvals,
        reminders=reminders,
        recent=recent,
        formatter=formatter,
    )


def _my_tasks(formatter: ValueFormatter) -> dict[str, Any] | None:
    """The actor's open tasks, soonest first, with each value formatted; None without a task object."""
    loom, actor = formatter.loom, formatter.actor
    if not loom.registry.has_object(TASK_OBJECT) or not may(actor, loom, TASK_OBJECT, "read"):
        return None
    model = loom.registry.object(TASK_OBJECT)
    try:
        page = loom.queries(actor).find(TASK_OBJECT, filter=OPEN_TASKS, sort=["due_date"], limit=HOME_LIMIT)
    except LoomError:
        return None  # the task object was changed so that this filter no longer applies
    return {"model": model, "records": page.records}
