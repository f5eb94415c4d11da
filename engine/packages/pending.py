"""Work still waiting on a package's objects: running approvals, due work and undelivered messages.

Uninstalling leaves records behind as archives; work that waits on them would act later on whatever
record then has the same name and id, so uninstall refuses while any waits, or cancels it when told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, or_, select, update

from engine.base.actors import SYSTEM
from engine.packages.store import base_documents
from engine.store.system_tables import due_work, flow_instances, outbox

if TYPE_CHECKING:
    from engine.loom import Loom

# Cron rules keep one standing row each; it goes with the rule and acts on no record.
RECORD_WORK = "rule.date_offset"
WAITING_MESSAGES = ("pending", "sending")
SHOWN = 5


@dataclass
class PendingWork:
    """What waits on the package: approvals (id, flow, object, record id), due rows and outbox rows."""

    approvals: list[tuple[int, str, str, int]] = field(default_factory=list)
    due: list[tuple[int, str]] = field(default_factory=list)  # (id, key)
    messages: list[tuple[int, str]] = field(default_factory=list)  # (id, source)

    def __bool__(self) -> bool:
        return bool(self.approvals or self.due or self.messages)

    def parts(self) -> list[str]:
        """Each kind of work in words, naming the first few of each."""
        said = []
        if self.approvals:
            named = [f"{flow.replace('_', ' ')} on {obj} {record}" for _, flow, obj, record in self.approvals]
            said.append(f"{len(self.approvals)} running approval(s) ({_some(named)})")
        if self.due:
            said.append(f"{len(self.due)} due work item(s) ({_some([key for _, key in self.due])})")
        if self.messages:
            sources = sorted({source for _, source in self.messages})
            said.append(f"{len(self.messages)} outbox message(s) waiting to be sent ({_some(sources)})")
        return said


def _some(names: list[str]) -> str:
    more = len(names) - SHOWN
    return ", ".join(names[:SHOWN]) + (f" and {more} more" if more > 0 else "")


def pending_work(conn: Connection, package: str) -> PendingWork:
    """The running approvals on the package's objects or of its flows, the due work of its rules on
    records, and the outbox messages its rules wrote that are not delivered yet."""
    documents = base_documents(conn, package)
    objects = {name for (kind, name), doc in documents.items() if kind == "object" and doc.extends is None}
    flows = {name for kind, name in documents if kind == "flow"}
    rules = sorted(name for kind, name in documents if kind == "rule")
    work = PendingWork()
    if objects or flows:
        found = conn.execute(
            select(
                flow_instances.c.id,
                flow_instances.c.flow,
                flow_instances.c.object,
                flow_instances.c.record_id,
            )
            .where(
                flow_instances.c.status == "running",
                or_(flow_instances.c.object.in_(objects), flow_instances.c.flow.in_(flows)),
            )
            .order_by(flow_instances.c.id)
        ).all()
        work.approvals = [(row.id, row.flow, row.object, row.record_id) for row in found]
    if rules:
        prefixes = [due_work.c.key.startswith(f"rule:{name}:record:", autoescape=True) for name in rules]
        rows = conn.execute(
            select(due_work.c.id, due_work.c.key)
            .where(
                due_work.c.kind == RECORD_WORK, due_work.c.status.in_(("pending", "running")), or_(*prefixes)
            )
            .order_by(due_work.c.id)
        ).all()
        work.due = [(row.id, row.key) for row in rows]
        sources = [f"rule:{name}" for name in rules]
        rows = conn.execute(
            select(outbox.c.id, outbox.c.source)
            .where(outbox.c.status.in_(WAITING_MESSAGES), outbox.c.source.in_(sources))
            .order_by(outbox.c.id)
        ).all()
        work.messages = [(row.id, row.source) for row in rows]
    return work


def cancel_work(loom: Loom, package: str, work: PendingWork) -> None:
    """Withdraw the approvals (noted in each one's history), delete the due rows and mark the messages
    failed with the reason, so nothing of it acts after the package is gone."""
    for instance_id, *_ in work.approvals:
        loom.flows.withdraw(
            instance_id,
            actor=SYSTEM,
            comment=f"cancelled: package {package} uninstalled",
            detail={"package": package},
        )
    with loom.begin() as conn:
        if work.due:
            conn.execute(delete(due_work).where(due_work.c.id.in_([row for row, _ in work.due])))
        if work.messages:
            conn.execute(
                update(outbox)
                .where(
                    outbox.c.id.in_([row for row, _ in work.messages]), outbox.c.status.in_(WAITING_MESSAGES)
                )
                .values(
                    status="failed", locked_until=None, last_error=f"cancelled: package {package} uninstalled"
                )
            )
