"""Firing one rule on one record: condition, episode, actions, run log — with the depth limit.

Rules that change records trigger rules in turn; a context variable carries the chain of
firings so that rules updating each other stop at the depth limit with an error a person can
read, recorded in the run log even though the change itself rolls back.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import ExpressionError, LoomError
from engine.expressions import EvalContext, evaluate, parse
from engine.rules.actions import ActionContext, ActionFailed
from engine.rules.runlog import RunEntry, json_safe, write_runs
from engine.schema.registry import ObjectModel, Registry
from engine.store.system_tables import rule_episodes
from metadata.rules import RuleSpec

if TYPE_CHECKING:
    from engine.loom import Loom

# The firings in progress in this thread of control: (rule, object, record id), outermost first.
_chain: ContextVar[tuple[tuple[str, str, Any], ...]] = ContextVar("loom_rule_chain", default=())


class RuleLoopError(LoomError):
    """Rules kept triggering each other past the depth limit; the whole change was rolled back."""

    code = "rule_loop"


def rule_actor(rule: RuleSpec) -> Actor:
    """Rules act as the system, under their own name, so the audit log says which rule did what."""
    return Actor(user_id=None, name=f"rule:{rule.name}", roles=frozenset({"admin"}), is_system=True)


@dataclass(frozen=True)
class Firing:
    """What rules fire on: the transaction, the record, the phase and who caused it.

    `occasion` names what a firing is about for idempotency keys; by default the record's version,
    so each save's messages are distinct and a retried one is recognised. `record_id` names the
    record when `record` does not carry its id (before-save); with `held`, runs are added there
    instead of logged, for the caller to log once the record has its id.
    """

    loom: Loom
    conn: Connection
    registry: Registry
    model: ObjectModel
    record: dict[str, Any]
    phase: str
    triggered_by: Actor = SYSTEM
    old: Mapping[str, Any] | None = None
    payload: Mapping[str, Any] | None = None
    occasion: str | None = None
    record_id: int | None = None
    held: list[RunEntry] | None = None


def fire_rule(rule: RuleSpec, firing: Firing) -> RunEntry:
    """Evaluate the rule's condition on the record and, if it holds, run its actions in order."""
    loom, conn, model, record, held = firing.loom, firing.conn, firing.model, firing.record, firing.held
    old, payload, triggered_by, occasion = firing.old, firing.payload, firing.triggered_by, firing.occasion
    trigger = rule.trigger.type
    chain = _chain.get()
    if occasion is None:
        occasion = f"v{record['version']}" if record.get("version") is not None else ""
    frame = (rule.name, model.name, record.get("id"))
    now = loom.clock.now()
    entry = RunEntry(
        rule.name,
        model.name,
        record.get("id", firing.record_id),
        trigger,
        "skipped",
        now,
        rule_actor(rule).name,
        len(chain) + 1,
        condition=rule.condition,
    )
    if len(chain) >= loom.settings.rule_depth_limit:
        _stop(loom, entry, (*chain, frame))
    ectx = EvalContext(
        now=now, actor=triggered_by, old=old, functions=loom.functions, timezone=loom.clock.timezone
    )
    names = record if payload is None else {**record, "payload": payload}
    if not _condition_holds(rule, names, ectx, entry, loom):
        if rule.fire == "once_per_episode" and record.get("id") is not None:
            end_episode(conn, rule.name, record["id"])
        _log(conn, entry, held)
        return entry
    episodic = rule.fire == "once_per_episode" and record.get("id") is not None
    if episodic and not start_episode(conn, rule.name, record["id"], now):
        entry.error = "already fired while the condition has stayed true (once per episode)"
        _log(conn, entry, held)
        return entry
    token = _chain.set((*chain, frame))
    context = ActionContext(
        loom,
        conn,
        firing.registry,
        rule,
        model,
        record,
        old,
        firing.phase,
        rule_actor(rule),
        triggered_by,
        ectx,
        payload,
        occasion=occasion,
    )
    try:
        _run_actions(context, entry)
    finally:
        _chain.reset(token)
    entry.status = "fired"
    _log(conn, entry, held)
    return entry


def _log(conn: Connection, entry: RunEntry, held: list[RunEntry] | None) -> None:
    if held is None:
        write_runs(conn, [entry])
    else:
        held.append(entry)


def end_finished_episodes(
    loom: Loom, conn: Connection, rules: list[RuleSpec], record: Mapping[str, Any], actor: Actor
) -> None:
    """End the record's episodes of scheduled rules whose condition no longer holds for it, at the
    save that made it false, so a pass that comes later starts a new episode if it holds again."""
    ectx = EvalContext(
        now=loom.clock.now(), actor=actor, functions=loom.functions, timezone=loom.clock.timezone
    )
    for rule in rules:
        try:
            holds = not rule.condition or bool(evaluate(rule.condition, record, ectx))
        except ExpressionError:
            continue  # the next pass decides, as it does today
        if not holds:
            end_episode(conn, rule.name, record["id"])


def _condition_holds(
    rule: RuleSpec, names: Mapping[str, Any], ectx: EvalContext, entry: RunEntry, loom: Loom
) -> bool:
    if not rule.condition:
        entry.condition_value = True
        return True
    entry.inputs = {name: names.get(name) for name in sorted(parse(rule.condition).names)}
    try:
        value = evaluate(rule.condition, names, ectx)
    except ExpressionError as error:
        entry.status, entry.error = "failed", f"condition could not be evaluated: {error}"
        _fail(loom, entry, ActionFailed(f"rule {rule.name!r}: {entry.error}"))
    entry.condition_value = json_safe(value)
    return bool(value)


def _run_actions(context: ActionContext, entry: RunEntry) -> None:
    """Run the rule's actions in order; the first failure fails the firing (and its transaction)."""
    loom, rule, phase = context.loom, context.rule, context.phase
    for index, spec in enumerate(rule.actions):
        action = loom.actions.get(spec.type)
        ctx = replace(context, index=index)
        try:
            if phase not in action.phases:
                raise ActionFailed(f"{spec.type} cannot run {phase.replace('_', ' ')}")
            outcome = action.run(ctx, spec)
        except RuleLoopError:
            raise
        except LoomError as error:
            entry.actions.append({"type": spec.type, "error": error.message})
            entry.status, entry.error = "failed", f"action {index + 1} ({spec.type}) failed: {error.message}"
            _fail(
                loom,
                entry,
                error
                if _is_users_error(error, phase, context.model.name)
                else ActionFailed(f"rule {rule.name!r}, action {index + 1} ({spec.type}): {error.message}"),
            )
        entry.actions.append({"type": spec.type, **outcome})


def fire_batch(
    loom: Loom,
    conn: Connection,
    registry: Registry,
    rule: RuleSpec,
    model: ObjectModel,
    records: list[dict[str, Any]],
    *,
    phase: str,
    trigger: str,
    occasion: str,
) -> list[RunEntry]:
    """Fire a rule for many records that SQL selected, running each action once for all of them.

    Used by scheduled rules, where thousands of records may match: episodes and run-log rows
    are written in one statement each, and actions that can (create_record) do so too. An
    action failing fails the batch; the caller then fires the records one by one.
    """
    now = loom.clock.now()
    chain = _chain.get()
    ectx = EvalContext(now=now, actor=SYSTEM, functions=loom.functions, timezone=loom.clock.timezone)
    actor = rule_actor(rule)
    names = sorted(parse(rule.condition).names) if rule.condition else []
    entries, chosen = [], []
    for record in records:
        entry = RunEntry(
            rule.name,
            model.name,
            record["id"],
            trigger,
            "fired",
            now,
            actor.name,
            len(chain) + 1,
            condition=rule.condition,
            condition_value=True,
        )
        if rule.condition:
            entry.inputs = {name: record.get(name) for name in names}
            entry.condition_value = json_safe(evaluate(rule.condition, record, ectx))
            if not entry.condition_value:
                entry.status = "skipped"
        entries.append(entry)
        if entry.status == "fired":
            chosen.append((record, entry))
    if chosen and rule.fire == "once_per_episode":
        conn.execute(
            insert(rule_episodes),
            [{"rule": rule.name, "record_id": record["id"], "started_at": now} for record, _ in chosen],
        )
    token = _chain.set((*chain, (rule.name, model.name, None)))
    try:
        for index, spec in enumerate(rule.actions):
            if not chosen:
                break
            action = loom.actions.get(spec.type)
            ctxs = [
                ActionContext(
                    loom,
                    conn,
                    registry,
                    rule,
                    model,
                    record,
                    None,
                    phase,
                    actor,
                    SYSTEM,
                    ectx,
                    None,
                    index,
                    occasion=occasion,
                )
                for record, _ in chosen
            ]
            outcomes = action.run_batch(ctxs, spec)
            for (_, entry), outcome in zip(chosen, outcomes, strict=True):
                entry.actions.append({"type": spec.type, **outcome})
    finally:
        _chain.reset(token)
    write_runs(conn, entries)
    return entries


def _is_users_error(error: LoomError, phase: str, object_name: str) -> bool:
    """A before-save rule refusing the record being saved speaks to the user: its field errors pass
    through as they are. Any other failure is wrapped so the message names the rule."""
    return (
        phase == "before_save"
        and error.code == "invalid_record"
        and getattr(error, "object_name", None) == object_name
    )


def _fail(loom: Loom, entry: RunEntry, error: LoomError) -> None:
    """Raise `error`, keeping the run log entry: it is written after the rollback it causes."""
    pending = getattr(error, "after_rollback", [])
    pending.append(lambda conn: write_runs(conn, [entry]))
    error.after_rollback = pending  # type: ignore[attr-defined]
    raise error


def _stop(loom: Loom, entry: RunEntry, chain: tuple[tuple[str, str, Any], ...]) -> None:
    steps = " → ".join(f"{rule} ({obj} {record_id})" for rule, obj, record_id in chain)
    repeated = len({step[0] for step in chain}) < len(chain)
    why = "the rules keep triggering each other" if repeated else "too many rules trigger one another"
    message = (
        f"rules stopped after {len(chain) - 1} levels: {steps}. {why.capitalize()}; change a "
        "condition so the chain ends. Nothing was saved."
    )
    entry.status, entry.error = "stopped", message
    _fail(loom, entry, RuleLoopError(message))


def start_episode(conn: Connection, rule: str, record_id: int, now: Any) -> bool:
    """Begin an episode for the record; False when one is already running (the rule fired already)."""
    found = conn.execute(
        select(rule_episodes.c.rule).where(
            rule_episodes.c.rule == rule, rule_episodes.c.record_id == record_id
        )
    ).first()
    if found is not None:
        return False
    conn.execute(insert(rule_episodes).values(rule=rule, record_id=record_id, started_at=now))
    return True


def end_episode(conn: Connection, rule: str, record_id: int) -> None:
    conn.execute(
        delete(rule_episodes).where(rule_episodes.c.rule == rule, rule_episodes.c.record_id == record_id)
    )
