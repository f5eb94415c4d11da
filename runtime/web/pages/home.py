"""The home page: the dashboard one of my roles has as its home, else my work — my open tasks, the
approvals waiting for me, my reminders and the records I touched last (a link away from the dashboard)."""

from __future__ import annotations

from typing import Any

from flask import render_template

from engine.base.errors import LoomError
from engine.records.dashboards import home_dashboard
from engine.records.recent import recent_records
from engine.work.notifications import unread_for
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text, page_locale
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.dashboards import render_dashboard
from runtime.web.pages.formatting import ValueFormatter
from runtime.web.pages.objects import may

HOME_LIMIT = 8


@blueprint.get("/")
def home() -> str | tuple[str, int]:
    actor = current_actor()  # not signed in: the error handler sends the browser to /login
    board = home_dashboard(current_loom().registry, actor)
    if board is not None:
        return render_dashboard(board, home=True)
    return my_work()


@blueprint.get("/work")
def my_work() -> str:
    actor = current_actor()
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
    """The actor's open to-dos, as the first object with a `home` section describes them, each
    value formatted; None when no object has one or the actor may not read it."""
    loom, actor = formatter.loom, formatter.actor
    registry = loom.registry
    objects = registry.objects
    model = next((objects[name] for name in sorted(objects) if objects[name].spec.extra.get("home")), None)
    if model is None or not may(actor, loom, model.name, "read"):
        return None
    home = model.spec.extra["home"]
    try:
        page = loom.queries(actor).find(
            model.name, filter=home["filter"], sort=list(home.get("sort", ())) or None, limit=HOME_LIMIT
        )
    except LoomError:
        return None  # the object was changed so that its filter no longer applies
    return {
        "model": model,
        "title_field": model.spec.title_field,
        "fields": [name for name in home.get("fields", ()) if name in model.fields],
        "records": page.records,
    }
