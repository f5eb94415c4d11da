"""Rule actions written by plugins: they see the rule, the record and the outbox, not the engine.

A plugin action subclasses `PluginAction` and implements `perform(ctx, spec)`. Its context offers
what an outgoing effect needs (evaluate an expression, a stable key, queue a message) and no
database connection or Loom: whatever it sends leaves through the outbox, after commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from engine.rules.actions import Action, ActionContext
from engine.work.outbox import enqueue


class PluginActionContext:
    """One run of a plugin's action: the rule and record it runs for, and a way out."""

    def __init__(self, ctx: ActionContext) -> None:
        self._ctx = ctx

    @property
    def rule_name(self) -> str:
        return self._ctx.rule.name

    @property
    def object_name(self) -> str:
        return self._ctx.model.name

    @property
    def record(self) -> Mapping[str, Any]:
        return MappingProxyType(self._ctx.record)

    @property
    def now(self) -> datetime:
        return self._ctx.ectx.now

    def evaluate(self, text: str) -> Any:
        """One of the action's expressions, against the triggering record (and payload)."""
        return self._ctx.evaluate(text)

    def idempotency_key(self, what: str) -> str:
        """A key stable across retries of this firing and distinct for every other firing."""
        return self._ctx.idempotency_key(what)

    def enqueue(self, channel: str, message: Mapping[str, Any], key: str) -> None:
        """Queue a message for a channel; it is delivered after the transaction commits, once per key."""
        enqueue(self._ctx.conn, channel, dict(message), key, self.now, source=f"rule:{self.rule_name}")


class PluginAction(Action):
    """An action a plugin adds: `perform` gets a `PluginActionContext` instead of the engine's own."""

    def run(self, ctx: ActionContext, spec: Any) -> dict[str, Any]:
        return self.perform(PluginActionContext(ctx), spec)

    def perform(self, ctx: PluginActionContext, spec: Any) -> dict[str, Any]:
        raise NotImplementedError
