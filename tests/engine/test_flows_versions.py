"""An instance keeps the flow version it started with: publishing a change affects new submissions only."""

from __future__ import annotations

from engine.loom import Loom
from tests.engine.flow_world import build_world, publish, simple_flow

RUNNING = 100


def test_publishing_a_changed_flow_leaves_100_running_instances_on_their_version(crm: Loom) -> None:
    world = build_world(crm, simple_flow(approvers=[{"user": "wu.yi"}]))
    instances = [world.submit(world.contract(1000 + n), flow_name="review_flow") for n in range(RUNNING)]
    old_revision = instances[0].flow_revision

    # Version 2: other approvers, and the old node is gone altogether.
    changed = simple_flow(approvers=[{"user": "zheng.er"}]).to_json()
    changed["nodes"] = {"check": changed["nodes"]["review"], "done": changed["nodes"]["done"]}
    changed["start"] = "check"
    publish(crm, changed)
    assert crm.registry.flows["review_flow"].start == "check"

    assert len(crm.flows.pending_for(world.ids["wu.yi"], limit=None)) == RUNNING
    for instance in instances:
        assert crm.flows.get(instance.id).flow_revision == old_revision
        assert world.approve(instance, "wu.yi").status == "approved"
    assert {world.status(i.record_id) for i in instances} == {"approved"}

    fresh = world.submit(world.contract(5), flow_name="review_flow")
    assert fresh.flow_revision != old_revision and fresh.definition["start"] == "check"
    assert [(t.node, t.assignee_id) for t in world.pending(fresh)] == [("check", world.ids["zheng.er"])]
