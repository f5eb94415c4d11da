"""A flow's versions: each published revision of its document, with the instances started on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from engine.store.documents import get_document, revisions
from engine.store.system_tables import flow_instances


@dataclass(frozen=True)
class FlowVersion:
    revision: int  # the metadata revision id; instances name it in flow_revision
    saved_at: datetime
    saved_by: int | None
    current: bool  # the version new submissions start on
    running: int
    finished: int  # approved, rejected or withdrawn


def flow_versions(conn: Connection, flow: str) -> list[FlowVersion]:
    """Every published version of `flow`, newest first, with its running and finished instances."""
    published = [row for row in revisions(conn, "flow", flow) if row["action"] != "delete"]
    if not published:
        return []
    counts: dict[int, dict[str, int]] = {}
    query = (
        select(flow_instances.c.flow_revision, flow_instances.c.status, func.count())
        .where(flow_instances.c.flow == flow, flow_instances.c.flow_revision.is_not(None))
        .group_by(flow_instances.c.flow_revision, flow_instances.c.status)
    )
    for revision, status, count in conn.execute(query):
        tally = counts.setdefault(int(revision), {"running": 0, "finished": 0})
        tally["running" if status == "running" else "finished"] += int(count)
    # The newest revision is live unless the flow has been deleted since.
    live = get_document(conn, "flow", flow) is not None
    return [
        FlowVersion(
            revision=int(row["id"]),
            saved_at=row["at"],
            saved_by=row["actor_id"],
            current=live and index == 0,
            running=counts.get(int(row["id"]), {}).get("running", 0),
            finished=counts.get(int(row["id"]), {}).get("finished", 0),
        )
        for index, row in enumerate(published)
    ]
