"""An instance keeps the flow version it started with: publishing a change affects new submissions only."""

from __future__ import annotations

from engine.flows.versions import flow_versions
from engine.loom import Loom
from engine.schema.changes import apply_objects
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


def test_flow_versions_count_the_instances_of_each_version_and_the_old_one_ends_on_its_route(
    crm: Loom,
) -> None:
    world = build_world(crm, simple_flow(approvers=[{"user": "wu.yi"}]))
    first = world.submit(world.contract(1000), flow_name="review_flow")
    done_on_v1 = world.submit(world.contract(2000), flow_name="review_flow")
    world.approve(done_on_v1, "wu.yi")

    publish(crm, simple_flow(approvers=[{"user": "zheng.er"}]))
    second = world.submit(world.contract(3000), flow_name="review_flow")
    with crm.read() as conn:
        v2, v1 = flow_versions(conn, "review_flow")
    assert (v1.revision, v2.revision) == (first.flow_revision, second.flow_revision)
    assert (v2.current, v2.running, v2.finished) == (True, 1, 0)
    assert (v1.current, v1.running, v1.finished) == (False, 1, 1)
    assert v2.saved_at >= v1.saved_at

    # The first instance still asks v1's approver, and finishing it moves it to v1's finished count.
    assert [t.assignee_id for t in world.pending(first)] == [world.ids["wu.yi"]]
    assert world.approve(first, "wu.yi").status == "approved"
    assert world.status(first.record_id) == "approved"
    with crm.read() as conn:
        assert [(v.running, v.finished) for v in flow_versions(conn, "review_flow")] == [(1, 0), (0, 2)]


def test_a_flow_never_published_has_no_versions_and_a_deleted_one_none_current(crm: Loom) -> None:
    world = build_world(crm, simple_flow(approvers=[{"user": "wu.yi"}]))
    world.submit(world.contract(1000), flow_name="review_flow")
    with crm.read() as conn:
        assert flow_versions(conn, "no_such_flow") == []
        [only] = flow_versions(conn, "review_flow")
    assert (only.current, only.running, only.finished, only.saved_by) == (True, 1, 0, None)

    apply_objects(crm, [], removed=[("flow", "review_flow")])
    with crm.read() as conn:
        [kept] = flow_versions(conn, "review_flow")
    assert (kept.revision, kept.current, kept.running) == (only.revision, False, 1)
