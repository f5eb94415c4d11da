"""Notifications: what a user was told by rules and approvals, newest first; opening one marks it read."""

from __future__ import annotations

from flask import Response, redirect, render_template, request, url_for

from engine.work.notifications import mark_all_read, mark_read, notifications_for
from runtime.web.auth import current_actor, current_loom
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.objects import safe_next

PAGE_SIZE = 50


@blueprint.get("/notifications")
def notifications_page() -> str:
    actor = current_actor()
    loom = current_loom()
    only_unread = request.args.get("show") != "all"
    with loom.read() as conn:
        rows = notifications_for(conn, actor.user_id, PAGE_SIZE, unread_only=only_unread)
    return render_template("notifications.html", items=rows, only_unread=only_unread)


@blueprint.post("/notifications/read")
def notifications_read() -> Response:
    """Mark the given notifications (or all shown) read, then go back or to what one is about."""
    actor = current_actor()
    loom = current_loom()
    ids = [int(value) for value in request.form.getlist("id") if value.isdigit()]
    with loom.begin() as conn:
        if request.form.get("all"):
            mark_all_read(conn, actor.user_id, loom.clock.now())
        else:
            mark_read(conn, actor.user_id, ids, loom.clock.now())
    return redirect(safe_next(url_for(".notifications_page")))  # type: ignore[return-value]
