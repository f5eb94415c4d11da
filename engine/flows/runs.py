"""A run: one operation on one flow instance, inside one transaction — what every step works with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from engine.base.actors import SYSTEM, Actor
from engine.flows.errors import FlowError
from engine.flows.history import write_history
from engine.flows.instances import Instance, save_instance
from engine.schema.registry import Registry
from metadata.flows import FlowSpec, NodeSpec

if TYPE_CHECKING:
    from engine.loom import Loom

#: One level of parallel nesting a node runs in: the parallel node and the index of its branch.
Frame = dict[str, Any]
Stack = list[Frame]


def flow_actor(flow_name: str) -> Actor:
    """Flows act as the system under their own name (action nodes, deadlines), so the audit says which."""
    return Actor(user_id=None, name=f"flow:{flow_name}", roles=frozenset({"admin"}), is_system=True)


@dataclass
class Run:
    """The instance being changed, the definition it runs on, who acts, and the moment they act."""

    loom: Loom
    conn: Connection
    registry: Registry
    instance: Instance
    flow: FlowSpec
    actor: Actor
    now: datetime
    steps: int = 0  # nodes entered in this operation; a flow that loops without stopping is refused

    @classmethod
    def of(cls, loom: Loom, conn: Connection, instance: Instance, actor: Actor) -> Run:
        registry = loom.registry_for(conn)
        return cls(loom, conn, registry, instance, loom.flows.definition(instance), actor, loom.clock.now())

    @property
    def finished(self) -> bool:
        return not self.instance.running

    @property
    def state(self) -> dict[str, Any]:
        return self.instance.state

    @property
    def system(self) -> Actor:
        return flow_actor(self.flow.name)

    def node(self, name: str) -> NodeSpec:
        try:
            return self.flow.nodes[name]
        except KeyError:
            raise FlowError(f"flow {self.flow.name!r} has no node named {name!r}") from None

    def record(self) -> dict[str, Any]:
        """The record as it is now (actions and rules may have changed it during this run)."""
        return self.loom.records(SYSTEM, self.conn).get(self.instance.object, self.instance.record_id)

    def stack_of(self, node: str) -> Stack:
        """The parallel branches the node was last entered on, outermost first."""
        return [dict(frame) for frame in self.state.get("entered", {}).get(node, [])]

    def round_of(self, node: str) -> int | None:
        """The first task id of the node's current round: a node that runs again starts a new one."""
        return self.state.get("rounds", {}).get(node)

    def note(
        self,
        action: str,
        *,
        node: str | None = None,
        comment: str | None = None,
        detail: Mapping[str, Any] | None = None,
        snapshot: Mapping[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> None:
        """Write one history row for this instance."""
        write_history(
            self.conn,
            self.instance.id,
            self.now,
            actor or self.actor,
            action,
            node=node,
            comment=comment,
            detail=detail,
            snapshot=snapshot,
        )

    def save(self) -> None:
        save_instance(self.conn, self.instance)
