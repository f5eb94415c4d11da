"""Flows are metadata documents of kind "flow": checked against the engine, stored with revisions,
loaded into the registry, installed with packages."""

from __future__ import annotations

import pytest

from engine.base.errors import InvalidMetadata
from engine.loom import Loom
from engine.store.documents import get_document, revisions
from tests.engine.flow_world import contract_approval, publish, simple_flow


def test_the_crm_package_installs_its_flows(crm: Loom) -> None:
    flows = crm.registry.flows
    assert {"contract_approval", "discount_approval"} <= set(flows)
    assert [flow.name for flow in crm.registry.flows_for("contract")] == ["contract_approval"]
    assert crm.registry.flows_for("lead") == ()


def test_a_published_flow_is_a_document_with_revisions(crm: Loom) -> None:
    publish(crm, simple_flow(approvers=[{"user": "wu.yi"}]))
    publish(crm, simple_flow(approvers=[{"user": "zheng.er"}]))
    with crm.read() as conn:
        stored = get_document(conn, "flow", "review_flow")
        history = revisions(conn, "flow", "review_flow")
    assert stored is not None and stored.body["nodes"]["review"]["approvers"] == [{"user": "zheng.er"}]
    assert [row["action"] for row in history] == ["update", "create"]
    assert crm.registry.flows["review_flow"].nodes["review"].approvers[0].value == "zheng.er"


def test_expressions_of_a_flow_are_checked_against_its_object(crm: Loom) -> None:
    flow = contract_approval().to_json()
    flow["nodes"]["by_amount"]["branches"][0]["when"] = "amont < 100000"
    flow["nodes"]["approved"]["actions"][0]["value"] = "nosuch('approved')"
    with pytest.raises(InvalidMetadata) as refused:
        publish(crm, flow)
    paths = {(problem.file, problem.path) for problem in refused.value.problems}
    assert ("flows/contract_approval.json", "/nodes/by_amount/branches/0/when") in paths
    assert ("flows/contract_approval.json", "/nodes/approved/actions/0/value") in paths
    assert "amont" in str(refused.value)


def test_actions_a_flow_cannot_run_are_refused_where_they_are_written(crm: Loom) -> None:
    flow = simple_flow(approvers=[{"user": "wu.yi"}]).to_json()
    flow["nodes"]["done"]["actions"] = [{"type": "reject", "message": {"en": "no"}}]
    flow["on_reject"]["actions"] = [{"type": "frobnicate"}]
    with pytest.raises(InvalidMetadata) as refused:
        publish(crm, flow)
    found = {(problem.path, problem.message) for problem in refused.value.problems}
    assert ("/nodes/done/actions/0/type", "reject cannot run in a flow") in found
    assert any(
        path == "/on_reject/actions/0/type" and message.startswith("unknown action type 'frobnicate'")
        for path, message in found
    )
    assert "review_flow" not in crm.registry.flows  # nothing was applied


def test_a_broken_graph_is_refused_before_it_is_stored(crm: Loom) -> None:
    flow = simple_flow(approvers=[{"user": "wu.yi"}]).to_json()
    flow["nodes"]["review"]["next"] = "nowhere"
    with pytest.raises(InvalidMetadata, match="nowhere"):
        publish(crm, flow)
