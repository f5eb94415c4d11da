"""notify: an in-app notification to users named by an expression (a record's owner, a user field…)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.rules.actions import Action, ActionContext, ActionFailed
from engine.rules.runlog import json_safe
from engine.store.system_tables import users
from engine.work.notifications import notify
from metadata.rules import ActionSpec

_EXPRESSION = {"type": "string", "minLength": 1}


def recipient_ids(value: Any) -> list[int]:
    """The user ids an expression gave: one id, a list of ids, or nothing (None, an empty list)."""
    items = value if isinstance(value, list | tuple | set | frozenset) else [value]
    ids: list[int] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise ActionFailed(f"'to' must give user ids (got {json_safe(item)!r})")
        if isinstance(item, str):
            if not item.strip().isdigit():
                raise ActionFailed(f"'to' must give user ids, not names or addresses (got {item!r})")
            item = int(item)
        ids.append(item)
    return list(dict.fromkeys(ids))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(json_safe(value)) if not isinstance(value, str) else value
    return text if text.strip() else None


class Notify(Action):
    """Write an unread notification for each user `to` gives; deactivated users are skipped."""

    name = "notify"
    params_schema = {
        "type": "object",
        "required": ["to", "title"],
        "properties": {"to": _EXPRESSION, "title": _EXPRESSION, "body": _EXPRESSION},
        "additionalProperties": False,
    }

    def run(self, ctx: ActionContext, spec: ActionSpec) -> dict[str, Any]:
        wanted = recipient_ids(ctx.evaluate(spec.param("to")))
        if not wanted:
            return {"to": [], "note": "'to' gave no user: nobody was notified"}
        rows = ctx.conn.execute(select(users.c.id, users.c.active).where(users.c.id.in_(wanted))).all()
        active = {row.id for row in rows if row.active}
        missing = sorted(set(wanted) - {row.id for row in rows})
        if missing:
            raise ActionFailed(f"there is no user with id {', '.join(str(i) for i in missing)} to notify")
        recipients = [user_id for user_id in wanted if user_id in active]
        title = _text(ctx.evaluate(spec.param("title"))) or _rule_title(ctx)
        body = _text(ctx.evaluate(spec.param("body"))) if spec.param("body") else None
        created = notify(
            ctx.conn,
            recipients,
            title,
            body,
            ctx.model.name,
            ctx.record.get("id"),
            ctx.actor.name,
            ctx.ectx.now,
        )
        summary: dict[str, Any] = {"to": recipients, "title": title, "notifications": created}
        if len(recipients) < len(wanted):
            summary["skipped"] = [user_id for user_id in wanted if user_id not in active]
        return summary


def _rule_title(ctx: ActionContext) -> str:
    label = ctx.rule.label
    return label.get("en") or next(iter(label.values()), None) or ctx.rule.name
