"""Notifications: what a user was told by rules and approvals, newest first; opening one marks it read."""

from __future__ import annotations

from flask import Response, redirect, render_template, request, url_for
from sqlalchemy import select

from engine.store.system_tables import notifications
from engine.work.notifications import mark_read
from runtime.web.auth import current_actor, current_loom
from runtime.web.pages.objects import safe_next
from runtime.web.pages.signin import blueprint

PAGE_SIZE = 50


@blueprint.get("/notifications")
def notifications_page() -> str:
    actor = current_actor()
    loom = current_loom()
    only_unread = request.args.get("show") != "all"
    query = select(notifications).where(notifications.c.user_id == actor.user_id)
    if only_unread:
        query = query.where(notifications.c.read_at.is_(None))
    with loom.read() as conn:
        rows = [
            dict(row._mapping)
            for row in conn.execute(query.order_by(notifications.c.id.desc()).limit(PAGE_SIZE))
        ]
    return render_template("notifications.html", items=rows, only_unread=only_unread)


@blueprint.post("/notifications/read")
def notifications_read() -> Response:
    """Mark the given notifications (or all shown) read, then go back or to what one is about."""
    actor = current_actor()
    loom = current_loom()
    ids = [int(value) for value in request.form.getlist("id") if value.isdigit()]
    with loom.begin() as conn:
        if request.form.get("all"):
            ids = [
                row.id
                for row in conn.execute(
                    select(notifications.c.id).where(
                        notifications.c.user_id == actor.user_id, notifications.c.read_at.is_(None)
                    )
                )
            ]
        mark_read(conn, actor.user_id, ids, loom.clock.now())
    return redirect(safe_next(url_for(".notifications_page")))  # type: ignore[return-value]
