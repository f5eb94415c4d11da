"""The action registry and what an action runs with: the rule, the record, the transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Connection

from engine.base.actors import Actor
from engine.base.errors import LoomError
from engine.base.named_registry import NamedRegistry
from engine.expressions import EvalContext, evaluate
from engine.schema.registry import ObjectModel, Registry
from metadata.rules import ActionSpec, RuleSpec
from metadata.specs import ObjectSpec

if TYPE_CHECKING:
    from engine.loom import Loom


class ActionFailed(LoomError):
    """An action could not do its work; the change that triggered the rule is rolled back."""

    code = "rule_action_failed"


@dataclass
class ActionContext:
    """Everything one action run may use. `record` is mutable during before_save, read-only after."""

    loom: Loom
    conn: Connection
    registry: Registry
    rule: RuleSpec
    model: ObjectModel
    record: dict[str, Any]
    old: Mapping[str, Any] | None
    phase: str  # before_save, after_save, schedule, date_offset, flow, inbound
    actor: Actor  # the rule's own system actor, recorded in the audit log
    triggered_by: Actor
    ectx: EvalContext
    payload: Mapping[str, Any] | None = None
    index: int = 0  # position of the action in the rule, for keys and messages
    #: What this firing is about, stable if it is retried: the record's version for a save, the
    #: due time for scheduled and date-offset work. Part of every outgoing message's key.
    occasion: str = ""

    def evaluate(self, text: str) -> Any:
        """Evaluate one of the action's expressions against the triggering record (and payload)."""
        names = self.record if self.payload is None else {**self.record, "payload": self.payload}
        return evaluate(text, names, self.ectx)

    def records(self):  # type: ignore[no-untyped-def]
        """A RecordService in this transaction, acting as the rule."""
        return self.loom.records(self.actor, self.conn)

    def idempotency_key(self, what: str) -> str:
        """A key stable across retries of this firing and distinct for every other firing.

        Two saves of one record in the same second differ by version; a scheduled run retried
        after a crash has the same due time, so its messages are recognised, not sent twice.
        """
        occasion = self.occasion or self.ectx.now.strftime("%Y%m%dT%H%M%S")
        return f"{self.rule.name}:{self.record.get('id')}:{self.index}:{what}:{occasion}"


class Action:
    """Base of rule actions. `run` does the work and returns a JSON summary for the run log."""

    name: ClassVar[str]
    #: JSON Schema of the action's parameters (everything but "type"), checked at install time.
    params_schema: ClassVar[dict[str, Any]] = {}
    #: The trigger phases the action may run in.
    phases: ClassVar[frozenset[str]] = frozenset({"after_save", "schedule", "date_offset", "flow", "inbound"})

    def check(self, spec: ActionSpec, rule: RuleSpec, objects: Mapping[str, ObjectSpec]) -> list[str]:
        """Problems the JSON Schemas cannot see (beyond the metadata layer's own checks)."""
        return []

    def run(self, ctx: ActionContext, spec: ActionSpec) -> dict[str, Any]:
        raise NotImplementedError(f"action {self.name} must implement run")

    def run_batch(self, ctxs: list[ActionContext], spec: ActionSpec) -> list[dict[str, Any]]:
        """Run for many records at once (scheduled rules); override where one statement can serve all."""
        return [self.run(ctx, spec) for ctx in ctxs]


class ActionRegistry(NamedRegistry[Action]):
    """Actions by type name; plugins add their own through the plugin API."""

    kind = "action type"
