"""Rule actions run by a flow: those of action and end nodes, and `on_reject`'s.

They are the rules engine's own actions, run the way an on_approved rule runs them (phase
"flow"), as the system acting under the flow's name, so the audit log says which flow did what.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.base.errors import LoomError
from engine.expressions import EvalContext
from engine.flows.errors import FlowError
from engine.flows.runs import Run
from engine.rules.actions import ActionContext, ActionFailed
from engine.rules.firing import RuleLoopError
from engine.rules.runlog import json_safe
from engine.schema.checks import flow_rule
from metadata.rules import ActionSpec


def run_actions(run: Run, actions: Sequence[ActionSpec], where: str) -> list[dict[str, Any]]:
    """Run the actions in order on the record; a failure fails the whole flow operation."""
    if not actions:
        return []
    loom = run.loom
    model = run.registry.object(run.instance.object)
    record = run.record()
    rule = flow_rule(run.flow, tuple(actions))
    ectx = EvalContext(now=run.now, actor=run.actor, functions=loom.functions, timezone=loom.clock.timezone)
    occasion = f"i{run.instance.id}:{where}:{run.now:%Y%m%dT%H%M%S%f}"
    outcomes = []
    for index, spec in enumerate(actions):
        if spec.type not in loom.actions:
            raise FlowError(f"flow {run.flow.name!r}, {where}: unknown action type {spec.type!r}")
        action = loom.actions.get(spec.type)
        if "flow" not in action.phases:
            raise FlowError(f"flow {run.flow.name!r}, {where}: {spec.type} cannot run in a flow")
        ctx = ActionContext(
            loom,
            run.conn,
            run.registry,
            rule,
            model,
            record,
            None,
            "flow",
            run.system,
            run.actor,
            ectx,
            None,
            index,
            occasion=occasion,
        )
        try:
            outcome = action.run(ctx, spec)
        except RuleLoopError:
            raise
        except LoomError as error:
            raise ActionFailed(
                f"flow {run.flow.name!r}, {where}, action {index + 1} ({spec.type}): {error.message}"
            ) from None
        outcomes.append({"type": spec.type, **json_safe(outcome)})
    return outcomes
