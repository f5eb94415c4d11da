"""What an approval flow tells the rest of the engine: that it was submitted, approved or rejected.

The flow engine knows only this interface; the rules engine implements it (on_submit, on_approved
and on_rejected rules), and a Loom wires the two together.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Connection

from engine.base.actors import Actor


class FlowListener(Protocol):
    def fire_flow_event(
        self, conn: Connection, object_name: str, record_id: int, trigger: str, actor: Actor
    ) -> list[Any]:
        """React to a flow event on a record, in the flow's transaction."""
        ...


class NoListener:
    """A flow engine on its own: its events reach nobody."""

    def fire_flow_event(
        self, conn: Connection, object_name: str, record_id: int, trigger: str, actor: Actor
    ) -> list[Any]:
        return []
