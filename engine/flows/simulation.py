"""Simulating an approval flow on a record: the path it would take and who would get each task.

The flow (published or a draft) is submitted for real in a transaction that is always rolled
back, and every task is approved as it comes up, the way the approvers would if all said yes; the
nodes entered and the tasks made are read back before the rollback. Condition branches, parallel
branches, 依次/会签/或签/票签 and approvers from the org chart are thereby the engine's own, not a
second reading of the flow that could disagree with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import LoomError
from engine.flows.decisions import decide
from engine.flows.instances import load_task, tasks_of
from engine.flows.runs import Run
from engine.flows.submission import start_instance
from engine.store.system_tables import users
from metadata.flows import FlowSpec

if TYPE_CHECKING:
    from engine.loom import Loom

#: Rounds of approvals a simulation walks before it gives up on a flow that never ends.
MAX_ROUNDS = 200


@dataclass
class SimulatedTask:
    node: str
    assignee_id: int
    assignee: str  # the approver's display name


@dataclass
class Simulation:
    """The nodes the flow would pass through, in order, and each approval task it would make."""

    flow: str
    object: str
    record_id: int
    path: list[str] = field(default_factory=list)
    tasks: list[SimulatedTask] = field(default_factory=list)
    outcome: str = ""  # approved when every approver says yes, or why it stopped
    error: str | None = None

    def approvers(self, node: str) -> list[str]:
        """Who would be asked to approve at `node`, in the order they would be asked."""
        return [task.assignee for task in self.tasks if task.node == node]


def simulate_flow(loom: Loom, flow: FlowSpec, record_id: int, submitter: Actor) -> Simulation:
    """Submit `record_id` to `flow` as `submitter` and approve every task; nothing is kept."""
    simulation = Simulation(flow.name, flow.object, record_id)
    with loom.rehearsal() as conn:
        try:
            instance = start_instance(loom, conn, flow.object, record_id, None, submitter, definition=flow)
            run = Run.of(loom, conn, instance, SYSTEM)
            for _ in range(MAX_ROUNDS):
                pending = tasks_of(conn, instance.id, statuses=["pending"])
                if run.finished or not pending:
                    break
                for waiting in pending:
                    # One approval may settle the others' tasks (或签): each is read again first.
                    task = load_task(conn, waiting.id)
                    if not run.finished and task.status == "pending":
                        run.steps = 0  # each decision is its own operation, as in real use
                        decide(run, task, "approved", None)
            run.save()
            instance = run.instance
        except LoomError as error:
            simulation.error = error.message
            return simulation
        simulation.path = list(instance.state.get("entered", {}))
        simulation.outcome = instance.status if not instance.running else "still waiting"
        made = tasks_of(conn, instance.id)
        names = dict(conn.execute(select(users.c.id, users.c.display_name)).all()) if made else {}
        made.sort(key=lambda task: task.id)
        simulation.tasks = [
            SimulatedTask(task.node, task.assignee_id, names.get(task.assignee_id, str(task.assignee_id)))
            for task in made
        ]
    return simulation


def path_of(simulation: Simulation) -> list[dict[str, Any]]:
    """The path as the designer highlights it: each node with the approvers asked there."""
    return [{"node": node, "approvers": simulation.approvers(node)} for node in simulation.path]
