"""`loom flow submit|inbox|approve|reject|history`: approvals from the command line."""

from __future__ import annotations

import click

from engine import identity
from engine.flows import Instance
from engine.loom import Loom
from runtime.cli.group import Context, actor_named, cli, pass_context, reports_errors


def _names(loom: Loom, ids: set[int]) -> dict[int, str]:
    return {user_id: identity.get_user(loom, user_id)["display_name"] for user_id in sorted(ids)}


def _waiting_for(loom: Loom, instance: Instance) -> str:
    if not instance.running:
        return instance.status
    pending = [task for task in loom.flows.tasks(instance.id) if task.status == "pending"]
    names = _names(loom, {task.assignee_id for task in pending})
    who = ", ".join(f"{names.get(t.assignee_id, t.assignee_id)} ({t.node}, task {t.id})" for t in pending)
    return f"waiting for {who}" if who else "running"


@cli.group()
def flow() -> None:
    """Approvals: submit records, see an approver's inbox, approve or reject, read the history."""


@flow.command("submit")
@click.argument("object_name")
@click.argument("record_id", type=int)
@click.option("--flow", "flow_name", help="The flow to use (default: the object's only active flow).")
@click.option("--as", "username", required=True, help="The submitter's username.")
@click.option("--comment", help="A note for the approvers.")
@pass_context
@reports_errors
def flow_submit(
    ctx: Context, object_name: str, record_id: int, flow_name: str | None, username: str, comment: str | None
) -> None:
    """Send record RECORD_ID of OBJECT_NAME for approval as USERNAME."""
    loom = ctx.loom
    instance = loom.flows.submit(
        object_name, record_id, flow_name, actor=actor_named(loom, username), comment=comment
    )
    click.echo(
        f"submitted {object_name} {record_id} to {instance.flow} (approval {instance.id}): "
        f"{_waiting_for(loom, instance)}"
    )


@flow.command("inbox")
@click.argument("username")
@pass_context
@reports_errors
def flow_inbox(ctx: Context, username: str) -> None:
    """The approvals waiting for USERNAME, newest first."""
    loom = ctx.loom
    user = identity.user_by_username(loom, username)
    items = loom.flows.pending_for(user["id"], locale=user["locale"])
    if not items:
        click.echo(f"nothing waits for {user['username']}")
    for item in items:
        due = f"  due {item['due_at']:%Y-%m-%d %H:%M} UTC" if item["due_at"] else ""
        click.echo(
            f"task {item['task_id']:<6} {item['flow_label']} · {item['node_label']}  "
            f"{item['object']} {item['record_id']} {item['title']}  "
            f"from {item['submitter_name'] or 'system'}, {item['created_at']:%Y-%m-%d %H:%M}{due}"
        )


@flow.command("approve")
@click.argument("task_id", type=int)
@click.option("--as", "username", required=True, help="The approver's username.")
@click.option("--comment")
@pass_context
@reports_errors
def flow_approve(ctx: Context, task_id: int, username: str, comment: str | None) -> None:
    """Approve task TASK_ID as USERNAME."""
    loom = ctx.loom
    instance = loom.flows.approve(task_id, actor=actor_named(loom, username), comment=comment)
    click.echo(
        f"approved task {task_id}; {instance.object} {instance.record_id}: {_waiting_for(loom, instance)}"
    )


@flow.command("reject")
@click.argument("task_id", type=int)
@click.option("--as", "username", required=True, help="The approver's username.")
@click.option("--comment", required=True, help="Why: the submitter reads it.")
@click.option("--to", "to_node", help="Return to this earlier approval node instead of to the submitter.")
@pass_context
@reports_errors
def flow_reject(ctx: Context, task_id: int, username: str, comment: str, to_node: str | None) -> None:
    """Reject task TASK_ID as USERNAME, back to the submitter or (--to) to an earlier node."""
    loom = ctx.loom
    instance = loom.flows.reject(task_id, actor=actor_named(loom, username), comment=comment, to_node=to_node)
    where = f"returned to {to_node}" if to_node and instance.running else "returned to the submitter"
    click.echo(
        f"rejected task {task_id} ({where}); {instance.object} {instance.record_id}: "
        f"{_waiting_for(loom, instance)}"
    )


@flow.command("history")
@click.argument("object_name")
@click.argument("record_id", type=int)
@pass_context
@reports_errors
def flow_history(ctx: Context, object_name: str, record_id: int) -> None:
    """Every approval of record RECORD_ID, each step with who, when and why."""
    loom = ctx.loom
    instances = loom.flows.instances_of(object_name, record_id)
    if not instances:
        click.echo(f"{object_name} {record_id} has never been submitted for approval")
    for instance in instances:
        click.echo(f"approval {instance.id} ({instance.flow}): {instance.status}")
        for row in loom.flows.history(instance.id):
            node = f" [{row['node']}]" if row["node"] else ""
            comment = f"  “{row['comment']}”" if row["comment"] else ""
            click.echo(
                f"  {row['at']:%Y-%m-%d %H:%M}  {row['actor_name']:<24} {row['action']}{node}{comment}"
            )
