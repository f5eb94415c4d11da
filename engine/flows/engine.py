"""The flow engine: `loom.flows` — submit, decide, hand on, withdraw, remind, comment, and read.

Every operation is one transaction that locks the instance first (PostgreSQL) and claims a task
only if it is still pending, so of two people deciding one task at the same moment exactly one
counts; the other gets a "conflict" error and nothing of theirs is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, select

from engine.base.actors import Actor
from engine.base.errors import RecordNotFound
from engine.base.messages import Message
from engine.flows.approvers import ApproverResolvers, builtin_resolvers
from engine.flows.deadlines import run_deadline
from engine.flows.decisions import decide
from engine.flows.delegation import add_approver, transfer_task
from engine.flows.errors import FlowConflict, FlowError, status_named
from engine.flows.field_access import TaskGrant, task_grant
from engine.flows.history import history_of
from engine.flows.inbox import INBOX_LIMIT, InboxPage, inbox_page, pending_count, pending_for
from engine.flows.instances import (
    Instance,
    Task,
    instances_of_record,
    latest_instance,
    load_instance,
    load_task,
    tasks_of,
)
from engine.flows.listeners import FlowListener, NoListener
from engine.flows.locking import lock_records, locked_fields, locking_status
from engine.flows.messages import tell
from engine.flows.record_status import keep_status
from engine.flows.runs import Run
from engine.flows.submission import require_submit_right, start_instance
from engine.flows.tasks import DEADLINE_KIND, close_tasks
from engine.identity.permissions import PermissionDenied, access_for
from metadata.flows import FlowSpec

if TYPE_CHECKING:
    from engine.loom import Loom

T = TypeVar("T")
DEFINITION_CACHE = 256
# Records and approvals are stamped by whichever server handled them; their clocks may differ this much.
CLOCK_SKEW = timedelta(seconds=5)


class FlowEngine:
    """Approval flows over the records of one Loom instance."""

    def __init__(self, loom: Loom, listener: FlowListener | None = None) -> None:
        self.loom = loom
        # Told of every submission, approval and rejection (the rules engine, in a Loom).
        self.listener: FlowListener = listener or NoListener()
        self.approvers: ApproverResolvers = builtin_resolvers()
        self._definitions: dict[tuple[str, int], FlowSpec] = {}
        loom.due_handlers[DEADLINE_KIND] = run_deadline
        lock_records(loom)

    def definition(self, instance: Instance) -> FlowSpec:
        """The definition an instance runs on: the one it started with, parsed once per revision."""
        if instance.flow_revision is None:
            return FlowSpec.from_json(instance.definition)
        key = (instance.flow, instance.flow_revision)
        found = self._definitions.get(key)
        if found is None:
            if len(self._definitions) >= DEFINITION_CACHE:
                self._definitions.clear()
            found = self._definitions[key] = FlowSpec.from_json(instance.definition)
        return found

    # -- submitting ---------------------------------------------------------------------------------

    def submit(
        self,
        object_name: str,
        record_id: int,
        flow_name: str | None = None,
        *,
        actor: Actor,
        chosen_approvers: Mapping[str, Iterable[int | str]] | None = None,
        comment: str | None = None,
    ) -> Instance:
        """Send a record for approval. Without a flow name, the object's one active flow is used.

        `chosen_approvers` maps each node whose approvers the submitter chooses to user ids or
        usernames. Refused (nothing written) when the actor may not change the record, it is
        already being approved, `submit_when` does not hold, or a node reached has no approvers
        and the flow says to refuse.
        """
        with self.loom.begin() as conn:
            require_submit_right(self.loom, conn, actor, object_name, record_id)
            return start_instance(
                self.loom,
                conn,
                object_name,
                record_id,
                flow_name,
                actor,
                chosen_approvers=chosen_approvers,
                comment=comment,
            )

    def start(
        self, conn: Connection, object_name: str, record_id: int, flow_name: str, actor: Actor
    ) -> Instance:
        """Start an approval in the caller's transaction (the start_flow rule action): no permission check."""
        return start_instance(self.loom, conn, object_name, record_id, flow_name, actor)

    # -- deciding -----------------------------------------------------------------------------------

    def approve(self, task_id: int, *, actor: Actor, comment: str | None = None) -> Instance:
        return self._on_task(task_id, actor, lambda run, task: decide(run, task, "approved", comment))

    def reject(self, task_id: int, *, actor: Actor, comment: str, to_node: str | None = None) -> Instance:
        """Reject with a reason: back to the submitter (the flow ends rejected), or to an earlier
        approval node, which then runs again."""
        if not isinstance(comment, str) or not comment.strip():
            raise FlowError(Message("rejection_needs_reason"))
        target = None if to_node in (None, "", "submitter") else to_node
        return self._on_task(task_id, actor, lambda run, task: decide(run, task, "rejected", comment, target))

    def transfer(
        self, task_id: int, to_user_id: int, *, actor: Actor, comment: str | None = None
    ) -> Instance:
        """转交: the task goes to another user (its approver, or an administrator, may do this)."""
        return self._on_task(
            task_id,
            actor,
            lambda run, task: transfer_task(run, task, to_user_id, comment),
            administrators_too=True,
        )

    def add_approver(
        self,
        task_id: int,
        user_id: int,
        *,
        position: str = "before",
        actor: Actor,
        comment: str | None = None,
    ) -> Instance:
        """加签: ask `user_id` to approve before this task's approver, or after them."""
        return self._on_task(
            task_id, actor, lambda run, task: add_approver(run, task, user_id, position, comment)
        )

    def _on_task(
        self,
        task_id: int,
        actor: Actor,
        operation: Callable[[Run, Task], Any],
        *,
        administrators_too: bool = False,
    ) -> Instance:
        with self.loom.begin() as conn:
            first = load_task(conn, task_id)
            run = self._open(conn, first.instance_id, actor)
            task = load_task(conn, task_id)  # as it is now that the instance is ours
            if task.status == "waiting":
                raise FlowError(Message("task_not_yet", task=task_id))
            if task.status != "pending":
                raise FlowConflict(
                    Message("task_already_decided", task=task_id, status=status_named(task.status))
                )
            if not (
                actor.is_system
                or actor.user_id == task.assignee_id
                or (administrators_too and self._administrator(run, actor))
            ):
                raise PermissionDenied(Message("task_not_yours", task=task_id))
            _require_its_record(run)
            operation(run, task)
            run.save()
            return run.instance

    def _open(self, conn: Connection, instance_id: int, actor: Actor) -> Run:
        instance = load_instance(conn, instance_id, lock=True)
        if not instance.running:
            ended = status_named(instance.status)
            raise FlowConflict(
                Message("approval_ended", object=instance.object, id=instance.record_id, status=ended)
            )
        return Run.of(self.loom, conn, instance, actor)

    @staticmethod
    def _administrator(run: Run, actor: Actor) -> bool:
        return access_for(run.registry, actor, run.instance.object).unrestricted

    # -- the submitter's and everyone's operations ----------------------------------------------------

    def withdraw(
        self,
        instance_id: int,
        *,
        actor: Actor,
        comment: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> Instance:
        """撤回: the submitter takes the record back while it is being approved; it is editable again.

        `detail` is kept in the history with the cancelled tasks (why the system withdrew it)."""
        with self.loom.begin() as conn:
            run = self._open(conn, instance_id, actor)
            if not actor.is_system and actor.user_id != run.instance.submitter_id:
                raise PermissionDenied(Message("withdraw_submitter_only"))
            cancelled = close_tasks(run, "cancelled")
            run.instance.status, run.instance.ended_at = "withdrawn", run.now
            run.instance.active_nodes = []
            run.state.pop("joins", None)
            run.save()  # the record is no longer locked by this approval when its status changes
            keep_status(run, "withdrawn")
            noted = {**(detail or {}), "cancelled": [task.id for task in cancelled]}
            run.note("withdraw", comment=comment, detail=noted)
            run.save()
            return run.instance

    def remind(self, task_id: int | None = None, *, instance_id: int | None = None, actor: Actor) -> int:
        """催办: notify the approvers a task (or a whole approval) waits for; returns how many were told."""
        if (task_id is None) == (instance_id is None):
            raise FlowError(Message("remind_needs_target"))
        with self.loom.begin() as conn:
            if task_id is not None:
                task = load_task(conn, task_id)
                run = self._open(conn, task.instance_id, actor)
                waiting_on = [task] if task.status == "pending" else []
            else:
                run = self._open(conn, int(instance_id), actor)  # type: ignore[arg-type]
                waiting_on = tasks_of(conn, run.instance.id, statuses=["pending"])
            if not (actor.user_id == run.instance.submitter_id or self._administrator(run, actor)):
                raise PermissionDenied(Message("remind_not_allowed"))
            if not waiting_on:
                raise FlowError(Message("nobody_to_remind"))
            people = [task.assignee_id for task in waiting_on]
            tell(run, people, "remind")
            run.note("remind", detail={"to": people, "tasks": [task.id for task in waiting_on]})
            return len(set(people))

    def comment(self, instance_id: int, text: str, *, actor: Actor) -> None:
        """Add a comment to the approval's history; anyone taking part or able to see the record may."""
        if not isinstance(text, str) or not text.strip():
            raise FlowError(Message("comment_needs_text"))
        with self.loom.begin() as conn:
            instance = load_instance(conn, instance_id, lock=True)
            run = Run.of(self.loom, conn, instance, actor)
            if not self._takes_part(run, actor):
                raise PermissionDenied(Message("may_not_comment"))
            run.note("comment", comment=text.strip())

    def _takes_part(self, run: Run, actor: Actor) -> bool:
        if actor.is_system or actor.user_id == run.instance.submitter_id:
            return True
        if any(task.assignee_id == actor.user_id for task in tasks_of(run.conn, run.instance.id)):
            return True
        try:
            self.loom.records(actor, run.conn).get(run.instance.object, run.instance.record_id)
        except (RecordNotFound, PermissionDenied):
            return False
        return True

    # -- reading --------------------------------------------------------------------------------------

    def pending_for(
        self, user_id: int, *, limit: int | None = INBOX_LIMIT, locale: str = "zh_CN"
    ) -> list[dict[str, Any]]:
        """The user's approvals inbox: pending tasks, newest first, with flow, step, record and submitter."""
        return pending_for(self.loom, user_id, limit=limit, locale=locale)

    def pending_count(self, user_id: int) -> int:
        """How many tasks wait for the user's decision (the inbox's badge)."""
        return pending_count(self.loom, user_id)

    def inbox(
        self,
        user_id: int,
        tab: str = "pending",
        *,
        limit: int = 20,
        before: int | None = None,
        locale: str = "zh_CN",
    ) -> InboxPage:
        """One page of a tab of the user's inbox: "pending" (待我审批), "done" (我已审批: tasks they
        decided or transferred) or "submitted" (我发起的); `before` is the previous page's next_before."""
        return inbox_page(self.loom, user_id, tab, limit=limit, before=before, locale=locale)

    def instance_of(self, object_name: str, record_id: int) -> Instance | None:
        """The record's latest approval (running or ended), or None if it was never submitted."""
        with self.loom.read() as conn:
            return latest_instance(conn, object_name, record_id)

    def lock_on(self, object_name: str, record_id: int, actor: Actor) -> str | None:
        """The status of the approval ("running", "approved") keeping `actor` from changing the record."""
        with self.loom.read() as conn:
            return locking_status(conn, self.loom.registry_for(conn), actor, object_name, record_id)

    def locked_fields(self, object_name: str, record_id: int, actor: Actor) -> frozenset[str]:
        """The fields the approval keeps `actor` from changing, less those their task lets them edit."""
        with self.loom.read() as conn:
            return locked_fields(conn, self.loom.registry_for(conn), actor, object_name, record_id)

    def task_grant(
        self, conn: Connection, actor: Actor, object_name: str, record_id: int
    ) -> TaskGrant | None:
        """What `actor`'s open tasks on the record let them edit and keep from them, or None without one."""
        return task_grant(conn, actor, object_name, record_id)

    def instances_of(self, object_name: str, record_id: int) -> list[Instance]:
        """Every approval of the record, oldest first (the record's approval timeline)."""
        with self.loom.read() as conn:
            return instances_of_record(conn, object_name, record_id)

    def get(self, instance_id: int) -> Instance:
        with self.loom.read() as conn:
            return load_instance(conn, instance_id)

    def tasks(self, instance_id: int) -> list[Task]:
        """Every task of an approval, in node order then position."""
        with self.loom.read() as conn:
            return tasks_of(conn, instance_id)

    def history(self, instance_id: int) -> list[dict[str, Any]]:
        """Every step of an approval, oldest first: who, what, when, comment, detail and snapshot."""
        with self.loom.read() as conn:
            load_instance(conn, instance_id)
            return history_of(conn, instance_id)


def _require_its_record(run: Run) -> None:
    """A decision acts only on the record the approval started on: not on one made later under the same
    id (a table made again by an older Loom, which gave ids again), nor on nothing."""
    instance = run.instance
    if run.registry.has_object(instance.object):
        table = run.registry.object(instance.object).table
        query = select(table.c.created_at).where(table.c.id == instance.record_id)
        created = run.conn.execute(query).scalar()
        if created is not None and created <= instance.started_at + CLOCK_SKEW:
            return
    raise FlowConflict(Message("approval_record_gone", object=instance.object, id=instance.record_id))
