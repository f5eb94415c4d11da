"""Two people deciding one approval at the same moment: exactly one decision counts, the other is told."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from engine.flows import FlowConflict, decisions
from engine.loom import Loom
from tests.engine.flow_world import World, build_world, simple_flow

SQLITE_SERIALISES = pytest.mark.not_on_sqlite(
    "SQLite takes the write lock at BEGIN IMMEDIATE, so two decisions can never overlap there"
)


def race(*decisions: Callable[[], object]) -> tuple[list[object], list[BaseException]]:
    """Run the decisions in threads released at the same moment; their results and errors."""
    start = threading.Barrier(len(decisions))
    results: list[object] = []
    errors: list[BaseException] = []

    def run(decision: Callable[[], object]) -> None:
        try:
            start.wait()
            results.append(decision())
        except BaseException as error:  # reported by the caller's assertions
            errors.append(error)

    threads = [threading.Thread(target=run, args=(decision,)) for decision in decisions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def slow_saves(loom: Loom) -> None:
    """Keep each deciding transaction open a while after its claim, so the other one arrives meanwhile."""
    loom.events.subscribe("after_save", lambda event: time.sleep(0.2))


@SQLITE_SERIALISES
def test_two_decisions_on_one_task_at_once_exactly_one_counts(crm: Loom, database_url: str) -> None:
    world = build_world(crm, simple_flow(approvers=[{"user": "wu.yi"}]))
    instance = world.submit(world.contract(1), flow_name="review_flow")
    task = world.task_of(instance, "wu.yi")
    other = Loom(database_url, clock=crm.clock)  # a second process on the same database
    slow_saves(crm)
    slow_saves(other)
    try:
        actor = world.actor("wu.yi")
        results, errors = race(
            lambda: crm.flows.approve(task.id, actor=actor, comment="同意"),
            lambda: other.flows.reject(task.id, actor=actor, comment="不同意"),
        )
    finally:
        other.close()
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], FlowConflict) and errors[0].code == "conflict"
    winner = results[0]
    decided = [t for t in crm.flows.tasks(instance.id) if t.status in ("approved", "rejected")]
    assert len(decided) == 1 and winner.status == decided[0].status  # type: ignore[attr-defined]
    decisions = [row for row in crm.flows.history(instance.id) if row["action"] in ("approve", "reject")]
    assert len(decisions) == 1


@SQLITE_SERIALISES
def test_two_approvers_of_an_any_node_at_once_only_the_first_decides(crm: Loom) -> None:
    world: World = build_world(crm, simple_flow(approvers=[{"user": "wu.yi"}, {"user": "zheng.er"}]))
    instance = world.submit(world.contract(1), flow_name="review_flow")
    first, second = world.task_of(instance, "wu.yi"), world.task_of(instance, "zheng.er")
    wu, zheng = world.actor("wu.yi"), world.actor("zheng.er")
    slow_saves(crm)
    results, errors = race(
        lambda: crm.flows.approve(first.id, actor=wu),
        lambda: crm.flows.approve(second.id, actor=zheng),
    )
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], FlowConflict)
    assert crm.flows.get(instance.id).status == "approved"
    statuses = sorted(t.status for t in crm.flows.tasks(instance.id))
    assert statuses == ["approved", "skipped"]
    assert [row["action"] for row in crm.flows.history(instance.id)].count("approve") == 1
    assert [row["action"] for row in crm.flows.history(instance.id)].count("approved") == 1


@SQLITE_SERIALISES
def test_the_last_two_approvals_of_an_all_node_at_once_complete_it_once(
    crm: Loom, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each would see the other's task still open unless decisions on one approval queue up: then
    # neither would complete the node, and the approval would wait for ever.
    world: World = build_world(
        crm, simple_flow(approvers=[{"user": "wu.yi"}, {"user": "zheng.er"}], mode="all")
    )
    instance = world.submit(world.contract(1), flow_name="review_flow")
    first, second = world.task_of(instance, "wu.yi"), world.task_of(instance, "zheng.er")
    wu, zheng = world.actor("wu.yi"), world.actor("zheng.er")
    claim = decisions.claim

    def slow_claim(*args: object) -> None:
        claim(*args)  # type: ignore[arg-type]
        time.sleep(0.2)  # the claim is made; the other decision arrives meanwhile

    monkeypatch.setattr(decisions, "claim", slow_claim)
    results, errors = race(
        lambda: crm.flows.approve(first.id, actor=wu), lambda: crm.flows.approve(second.id, actor=zheng)
    )
    assert errors == [] and len(results) == 2
    assert crm.flows.get(instance.id).status == "approved"
    assert [row["action"] for row in crm.flows.history(instance.id)].count("approved") == 1
