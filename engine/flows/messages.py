"""What approvers and submitters are told, in their own language, under the bell."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.store.system_tables import users
from engine.work.notifications import notify

if TYPE_CHECKING:
    from engine.flows.runs import Run

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "to_approve": {"zh_CN": "待审批：{flow} · {record}", "en": "To approve: {flow} · {record}"},
    "remind": {
        "zh_CN": "催办：{flow} · {record} 等待您审批",
        "en": "Reminder: {flow} · {record} awaits your decision",
    },
    "overdue": {"zh_CN": "审批已超时：{flow} · {record}", "en": "Overdue approval: {flow} · {record}"},
    "cc": {"zh_CN": "抄送：{flow} · {record}", "en": "For your information: {flow} · {record}"},
    "approved": {"zh_CN": "审批通过：{flow} · {record}", "en": "Approved: {flow} · {record}"},
    "rejected": {"zh_CN": "审批被驳回：{flow} · {record}", "en": "Rejected: {flow} · {record}"},
}


def label_text(label: Mapping[str, str], locale: str, fallback: str) -> str:
    """The label in the locale, else in English, else in its first language, else the fallback."""
    return label.get(locale) or label.get("en") or next(iter(label.values()), "") or fallback


def record_title(run: Run) -> str:
    """How the record is named in messages: its title field as submitted, else "object id"."""
    model = run.registry.objects.get(run.instance.object)
    title_field = model.spec.title_field if model is not None else None
    value = run.instance.snapshot.get(title_field) if title_field else None
    return str(value) if value not in (None, "") else f"{run.instance.object} {run.instance.record_id}"


def tell(run: Run, user_ids: Iterable[int], message: str, body: str | None = None) -> list[int]:
    """Notify each user once, in their locale; returns the notification ids."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return []
    rows = run.conn.execute(
        select(users.c.id, users.c.locale).where(users.c.id.in_(wanted), users.c.active)
    ).all()
    by_locale: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_locale[row.locale or "zh_CN"].append(row.id)
    created: list[int] = []
    title = record_title(run)
    for locale, ids in sorted(by_locale.items()):
        template = MESSAGES[message].get(locale) or MESSAGES[message]["en"]
        flow = label_text(run.flow.label, locale, run.flow.name)
        created += notify(
            run.conn,
            ids,
            template.format(flow=flow, record=title),
            body,
            run.instance.object,
            run.instance.record_id,
            f"flow:{run.flow.name}",
            run.now,
        )
    return created
