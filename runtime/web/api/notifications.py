"""The caller's notifications over the API: what is unread under the bell, and marking it read."""

from __future__ import annotations

from flask import Response, jsonify

from engine.work import notifications
from runtime.web.api.blueprint import blueprint
from runtime.web.api.inputs import MAX_ID, int_arg, json_object, takes_query
from runtime.web.api.record_json import plain_json
from runtime.web.auth import current_actor, current_loom
from runtime.web.errors import RequestInvalid

LIST_LIMIT = 100
NOTIFICATION_KEYS = ("id", "title", "body", "object", "record_id", "source", "created_at", "read_at")


@blueprint.get("/notifications")
@takes_query("limit")
def unread_notifications() -> Response:
    """The caller's unread notifications, newest first, and how many are unread in all."""
    loom, actor = current_loom(), current_actor()
    limit = int_arg("limit", LIST_LIMIT, 1, 500)
    if actor.user_id is None:
        return jsonify({"data": [], "unread": 0})
    with loom.read() as conn:
        rows = notifications.unread_for(conn, actor.user_id, limit)
        unread = notifications.unread_count(conn, actor.user_id)
    data = [plain_json({key: row[key] for key in NOTIFICATION_KEYS}) for row in rows]
    return jsonify({"data": data, "unread": unread})


@blueprint.post("/notifications/read")
def mark_read() -> Response:
    """Mark some of the caller's notifications read (`ids`); other people's ids are ignored."""
    loom, actor = current_loom(), current_actor()
    ids = json_object().get("ids")
    if not isinstance(ids, list) or not all(type(i) is int and 0 < i <= MAX_ID for i in ids):
        raise RequestInvalid(
            "ids must be a list of notification ids", {"ids": ["required, as a list of ids"]}
        )
    if actor.user_id is None:
        return jsonify({"marked": 0})
    with loom.begin() as conn:
        marked = notifications.mark_read(conn, actor.user_id, ids, loom.clock.now())
    return jsonify({"marked": marked})
