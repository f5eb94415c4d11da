"""Approvals and notifications over the API: submit, the inbox, every task action, withdraw, the bell."""

from __future__ import annotations

import pytest

from engine.loom import Loom
from tests.engine.flow_world import publish, simple_flow
from tests.runtime.api_world import Api, error_of


@pytest.fixture
def api(crm: Loom) -> Api:
    publish(crm, simple_flow("review_flow", approvers=[{"role": "finance"}]))
    world = Api(crm)
    world.person("admin", ["admin"])
    world.person("wang.fang", ["sales_rep"])
    world.person("zhao.cai", ["finance"])
    world.person("qian.kuai", ["finance"])
    return world


def submitted(api: Api, amount: str = "50000") -> tuple[int, dict]:
    customer = api.create("customer", {"name": "无锡太湖仪器有限公司"}, as_="wang.fang")
    contract = api.create(
        "contract", {"name": "仪器采购合同", "customer": customer["id"], "amount": amount}, as_="wang.fang"
    )
    response = api.post(
        f"/records/contract/{contract['id']}/submit", json={"flow": "review_flow"}, as_="wang.fang"
    )
    assert response.status_code == 201, response.get_json()
    return contract["id"], response.get_json()


def inbox_task(api: Api, username: str) -> dict:
    [task] = api.get("/approvals/inbox", as_=username).get_json()["data"]
    return task


def test_a_submitted_record_waits_in_the_approvers_inbox_and_approving_ends_the_flow(api: Api) -> None:
    contract_id, instance = submitted(api)
    assert instance["status"] == "running"
    assert instance["object"] == "contract"
    task = inbox_task(api, "zhao.cai")
    assert task["record_id"] == contract_id
    assert task["title"] == "仪器采购合同"
    approved = api.post(
        f"/approvals/tasks/{task['task_id']}/approve", json={"comment": "同意"}, as_="zhao.cai"
    )
    assert approved.status_code == 200
    assert approved.get_json()["status"] == "approved"
    assert api.get("/approvals/inbox", as_="zhao.cai").get_json()["data"] == []
    again = api.post(f"/approvals/tasks/{task['task_id']}/approve", as_="zhao.cai")
    assert again.status_code == 409
    timeline = api.get(f"/records/contract/{contract_id}/timeline", as_="wang.fang").get_json()["data"]
    actions = [entry["details"]["action"] for entry in timeline if entry["kind"] == "approval"]
    assert "submit" in actions
    assert "approve" in actions


def test_a_locked_record_cannot_be_changed_while_its_approval_runs(api: Api) -> None:
    contract_id, _ = submitted(api)
    response = api.patch(
        f"/records/contract/{contract_id}", json={"remark": "改一下", "version": 1}, as_="wang.fang"
    )
    assert response.status_code == 409
    assert error_of(response)["code"] == "locked"


def test_a_rejection_needs_a_reason(api: Api) -> None:
    _, _ = submitted(api)
    task = inbox_task(api, "zhao.cai")
    silent = api.post(f"/approvals/tasks/{task['task_id']}/reject", json={}, as_="zhao.cai")
    assert silent.status_code == 422
    assert "comment" in error_of(silent)["fields"]
    rejected = api.post(
        f"/approvals/tasks/{task['task_id']}/reject", json={"comment": "金额不对"}, as_="zhao.cai"
    )
    assert rejected.get_json()["status"] == "rejected"


def test_someone_elses_task_is_a_403_and_unknown_tasks_or_actions_are_404(api: Api) -> None:
    submitted(api)
    task = inbox_task(api, "zhao.cai")
    assert api.post(f"/approvals/tasks/{task['task_id']}/approve", as_="wang.fang").status_code == 403
    assert api.post("/approvals/tasks/999999/approve", as_="zhao.cai").status_code == 404
    assert api.post(f"/approvals/tasks/{task['task_id']}/shrug", as_="zhao.cai").status_code == 404


def test_transfer_add_approver_comment_and_remind(api: Api) -> None:
    _, instance = submitted(api)
    task = inbox_task(api, "zhao.cai")
    path = f"/approvals/tasks/{task['task_id']}"
    commented = api.post(f"{path}/comment", json={"comment": "请补充附件"}, as_="zhao.cai")
    assert commented.status_code == 200
    assert api.post(f"{path}/comment", json={}, as_="zhao.cai").status_code == 422
    reminded = api.post(f"{path}/remind", as_="wang.fang")
    assert reminded.status_code == 200
    assert api.post(f"{path}/transfer", json={}, as_="zhao.cai").status_code == 422
    api.person("sun.ji", ["ceo"])
    api.person("zhou.shen", ["legal"])
    moved = api.post(f"{path}/transfer", json={"to_user_id": api.ids["sun.ji"]}, as_="zhao.cai")
    assert moved.status_code == 200
    assert api.get("/approvals/inbox", as_="zhao.cai").get_json()["data"] == []
    their_task = inbox_task(api, "sun.ji")
    added = api.post(
        f"/approvals/tasks/{their_task['task_id']}/add_approver",
        json={"user_id": api.ids["zhou.shen"], "position": "before"},
        as_="sun.ji",
    )
    assert added.status_code == 200
    assert added.get_json()["id"] == instance["id"]
    assert inbox_task(api, "zhou.shen")["instance_id"] == instance["id"]
    sideways = api.post(
        f"/approvals/tasks/{their_task['task_id']}/add_approver",
        json={"user_id": 1, "position": "beside"},
        as_="sun.ji",
    )
    assert sideways.status_code == 422


def test_the_submitter_withdraws_and_nobody_else_may(api: Api) -> None:
    _, instance = submitted(api)
    path = f"/approvals/instances/{instance['id']}/withdraw"
    assert api.post(path, as_="zhao.cai").status_code == 403
    withdrawn = api.post(path, json={"comment": "写错了"}, as_="wang.fang")
    assert withdrawn.status_code == 200
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert api.post(path, as_="wang.fang").status_code == 409
    assert api.post("/approvals/instances/999999/withdraw", as_="wang.fang").status_code == 404


def test_submitting_what_cannot_be_submitted_says_why(api: Api) -> None:
    contract_id, _ = submitted(api)
    twice = api.post(f"/records/contract/{contract_id}/submit", json={"flow": "review_flow"}, as_="wang.fang")
    assert twice.status_code == 409
    assert api.post("/records/contract/999999/submit", json={"flow": "review_flow"}).status_code == 404
    bad = api.post(f"/records/contract/{contract_id}/submit", json={"approvers": "everyone"}, as_="wang.fang")
    assert bad.status_code == 422


def test_notifications_are_listed_newest_first_and_marked_read(api: Api) -> None:
    submitted(api)
    unread = api.get("/notifications", as_="zhao.cai").get_json()
    assert unread["unread"] >= 1
    first = unread["data"][0]
    assert first["object"] == "contract"
    assert first["read_at"] is None
    marked = api.post("/notifications/read", json={"ids": [first["id"]]}, as_="zhao.cai")
    assert marked.get_json() == {"marked": 1}
    assert api.post("/notifications/read", json={"ids": [first["id"]]}, as_="wang.fang").get_json() == {
        "marked": 0
    }
    assert api.get("/notifications", as_="zhao.cai").get_json()["unread"] == unread["unread"] - 1
    assert api.post("/notifications/read", json={"ids": "all"}, as_="zhao.cai").status_code == 422


@pytest.mark.parametrize("query", ["limit=", "limit=0", "limit=ten", "limit=501"])
def test_a_list_limit_that_is_not_a_whole_number_in_range_is_refused(api: Api, query: str) -> None:
    refused = api.get(f"/notifications?{query}", as_="zhao.cai")
    assert refused.status_code == 400
    assert "limit must be a whole number from 1 to 500" in refused.get_json()["error"]["message"]


def test_the_inbox_has_tabs_for_what_i_decided_and_what_i_submitted(api: Api) -> None:
    contract_id, _instance = submitted(api)
    task = inbox_task(api, "zhao.cai")
    api.post(f"/approvals/tasks/{task['task_id']}/approve", json={"comment": "同意"}, as_="zhao.cai")
    done = api.get("/approvals/inbox?tab=done", as_="zhao.cai").get_json()
    assert [(item["record_id"], item["task_status"], item["comment"]) for item in done["data"]] == [
        (contract_id, "approved", "同意")
    ]
    assert done["next_before"] is None
    mine = api.get("/approvals/inbox?tab=submitted&limit=1", as_="wang.fang").get_json()["data"]
    assert [(item["record_id"], item["status"]) for item in mine] == [(contract_id, "approved")]
    assert mine[0]["title"] == "仪器采购合同" and mine[0]["ended_at"] is not None
    for query in ("tab=cc", "limit=0", "before=x"):
        response = api.get(f"/approvals/inbox?{query}", as_="zhao.cai")
        assert response.status_code == 400, query


def test_an_approver_reads_and_edits_through_the_api_what_their_node_allows(crm: Loom) -> None:
    flow = simple_flow("review_flow", approvers=[{"user": "wu.yi"}]).to_json()
    flow["nodes"]["review"]["fields"] = {"editable": ["amount"], "hidden": ["cost_price"]}
    publish(crm, flow)
    api = Api(crm)
    api.person("admin", ["admin"])
    api.person("wang.fang", ["sales_rep"])
    api.person("wu.yi", [])  # no role: the task alone lets him see the contract
    contract_id, _instance = submitted(api, "80000")
    version = api.get(f"/records/contract/{contract_id}").get_json()["version"]
    priced = api.patch(f"/records/contract/{contract_id}", json={"cost_price": "50000", "version": version})
    assert priced.status_code == 200

    seen = api.get(f"/records/contract/{contract_id}", as_="wu.yi")
    assert seen.status_code == 200 and "cost_price" not in seen.get_json()
    [card] = api.get("/approvals/inbox", as_="wu.yi").get_json()["data"]
    assert card["hidden_fields"] == ["cost_price"]
    version = seen.get_json()["version"]
    changed = api.patch(
        f"/records/contract/{contract_id}", json={"amount": "75000", "version": version}, as_="wu.yi"
    )
    assert changed.status_code == 200 and changed.get_json()["amount"] == "75000.00"
    refused = api.patch(
        f"/records/contract/{contract_id}", json={"name": "改名", "version": version + 1}, as_="wu.yi"
    )
    assert refused.status_code == 422 and "name" in error_of(refused)["fields"]
    locked = api.patch(
        f"/records/contract/{contract_id}", json={"amount": "1", "version": version + 1}, as_="wang.fang"
    )
    assert locked.status_code == 409 and error_of(locked)["code"] == "locked"
