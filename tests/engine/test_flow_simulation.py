"""Simulating the contract approval on a real contract: the path by amount, who would be asked at
each node — for a published flow and for a draft — and nothing written."""

from __future__ import annotations

import copy

from sqlalchemy import func, select

from engine.flows.simulation import path_of, simulate_flow
from engine.loom import Loom
from engine.store.system_tables import audit_log, flow_history, flow_instances, flow_tasks, notifications
from metadata.flows import FlowSpec
from tests.engine.flow_world import CONTRACT_APPROVAL, World, build_world, contract_approval


def written(loom: Loom) -> dict[str, int]:
    tables = {"instances": flow_instances, "tasks": flow_tasks, "history": flow_history}
    tables |= {"audit": audit_log, "notifications": notifications}
    with loom.read() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(t)).scalar() for name, t in tables.items()
        }


def test_a_600000_contract_goes_past_the_manager_to_legal_and_finance_and_not_the_ceo(crm: Loom) -> None:
    world = build_world(crm, contract_approval())
    contract = world.contract(600_000)
    before = written(crm)

    simulation = simulate_flow(
        crm, crm.registry.flows["contract_approval"], contract, world.actor("wang.fang")
    )

    assert simulation.error is None and simulation.outcome == "approved"
    assert simulation.path == [
        "manager",
        "by_amount",
        "legal_and_finance",
        "legal",
        "finance",
        "large_contract",
        "approved",
    ]
    assert simulation.approvers("manager") == ["张经理"]
    assert sorted(simulation.approvers("legal")) == ["赵法务", "钱法务"]
    assert simulation.approvers("finance") == ["孙财务"]
    assert "ceo" not in simulation.path
    assert written(crm) == before
    assert world.status(contract) == "draft"  # not pending: it was never really submitted


def test_the_path_depends_on_the_amount(crm: Loom) -> None:
    world = build_world(crm, contract_approval())
    flow = crm.registry.flows["contract_approval"]
    small = simulate_flow(crm, flow, world.contract(50_000), world.actor("wang.fang"))
    large = simulate_flow(crm, flow, world.contract(1_200_000), world.actor("wang.fang"))
    assert small.path == ["manager", "by_amount", "approved"]
    assert [step["node"] for step in path_of(large)][-2:] == ["ceo", "approved"]
    assert path_of(large)[-2]["approvers"] == ["陈总"]


def test_a_draft_is_simulated_without_being_published(crm: Loom) -> None:
    world = build_world(crm, contract_approval())
    draft_doc = copy.deepcopy(CONTRACT_APPROVAL)
    draft_doc["nodes"]["large_contract"]["branches"][0]["when"] = "amount >= 500000"  # the CEO from 500,000
    draft = FlowSpec.from_json(draft_doc)

    simulation = simulate_flow(crm, draft, world.contract(600_000), world.actor("wang.fang"))

    assert simulation.path[-2:] == ["ceo", "approved"]
    published = crm.registry.flows["contract_approval"]
    assert published.to_json()["nodes"]["large_contract"]["branches"][0]["when"] == "amount >= 1000000"


def test_a_record_that_cannot_be_submitted_says_why(crm: Loom) -> None:
    world: World = build_world(crm, contract_approval())
    contract = world.contract(80_000)
    world.submit(contract)  # already in approval
    simulation = simulate_flow(
        crm, crm.registry.flows["contract_approval"], contract, world.actor("wang.fang")
    )
    assert simulation.path == [] and "already being approved" in simulation.error


def test_a_draft_is_simulated_on_its_own_steps_after_the_published_flow_has_run(crm: Loom) -> None:
    world = build_world(crm, contract_approval())
    running = world.submit(world.contract(600_000))  # the published definition is now in use
    assert world.pending(running, "manager")
    draft_doc = copy.deepcopy(CONTRACT_APPROVAL)
    draft_doc["nodes"]["boss"] = draft_doc["nodes"].pop("manager")
    draft_doc["start"] = "boss"

    simulation = simulate_flow(
        crm, FlowSpec.from_json(draft_doc), world.contract(50_000), world.actor("wang.fang")
    )

    assert simulation.path == ["boss", "by_amount", "approved"]
