"""The approver of a node with field permissions, on the record page: the fields they may change as
inputs of the decision form, saved as they approve; the fields the node hides left out."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from engine.schema.changes import apply_objects
from metadata.flows import FlowSpec
from tests.runtime.pages_world import PASSWORD, Team, build_team, csrf, text

REVIEW = {
    "name": "price_review",
    "object": "contract",
    "label": {"zh_CN": "价格复核", "en": "Price review"},
    "start": "review",
    "nodes": {
        "review": {
            "type": "approval",
            "label": {"zh_CN": "复核", "en": "Review"},
            "approvers": [{"user": "wu.yi"}],
            "fields": {"editable": ["amount", "payment_terms"], "hidden": ["cost_price", "remark"]},
            "next": "done",
        },
        "done": {"type": "end"},
    },
}


@pytest.fixture
def team(crm: Loom) -> Team:
    team = build_team(crm)
    # 吴一 holds no role: the task alone lets him see the contract.
    user = identity.create_user(crm, "wu.yi", "吴一", PASSWORD, roles=[], actor=SYSTEM)
    team.ids["wu.yi"] = user["id"]
    apply_objects(crm, [], flows=[FlowSpec.from_json(REVIEW)])
    return team


def submitted_contract(team: Team) -> int:
    customer = team.customer("苏州精工机械有限公司")
    values = {"name": "数控机床采购合同", "customer": customer["id"], "amount": "100000"}
    contract = team.loom.records(team.actor("wang.fang")).create("contract", values)["id"]
    team.loom.records().update("contract", contract, {"cost_price": "61234", "remark": "底价保密"})
    team.loom.flows.submit("contract", contract, "price_review", actor=team.actor("wang.fang"))
    return contract


def test_the_approver_changes_the_amount_on_the_record_page_as_they_approve(team: Team) -> None:
    contract = submitted_contract(team)
    wu = team.client("wu.yi")
    page = text(wu.get(f"/app/contract/{contract}"))
    form = page[page.index('class="decide"') : page.index("</form>", page.index('class="decide"'))]
    assert "审批时可修改的字段" in form
    assert 'name="amount"' in form and 'value="100000.00"' in form and 'name="payment_terms"' in form
    assert 'name="name"' not in form  # nothing else of the locked contract
    assert "61234" not in page and "底价保密" not in page  # what the node hides

    [task] = team.loom.flows.pending_for(team.ids["wu.yi"])
    version = team.loom.records().get("contract", contract)["version"]
    form_data = {"csrf_token": csrf(wu), "comment": "改价后同意", "object": "contract", "record_id": contract,
                 "_task_fields": "1", "_version": version,
                 "amount": "95000", "payment_terms": "installments"}  # fmt: skip
    wu.post(f"/approvals/tasks/{task['task_id']}/approve", data=form_data)

    saved = team.loom.records().get("contract", contract)
    assert (saved["amount"], saved["payment_terms"]) == (Decimal("95000"), "installments")
    assert team.loom.flows.instance_of("contract", contract).status == "approved"
    [change] = [
        row for row in team.loom.records().history("contract", contract) if row["actor_name"] == "吴一"
    ]
    assert set(change["changes"]) == {"amount", "payment_terms"}


def test_a_value_the_record_refuses_keeps_the_task_open_and_says_why(team: Team) -> None:
    contract = submitted_contract(team)
    wu = team.client("wu.yi")
    [task] = team.loom.flows.pending_for(team.ids["wu.yi"])
    form_data = {"csrf_token": csrf(wu), "object": "contract", "record_id": contract, "_task_fields": "1",
                 "amount": "十万", "name": "改名"}  # fmt: skip
    after = wu.post(f"/approvals/tasks/{task['task_id']}/approve", data=form_data, follow_redirects=True)

    assert after.status_code == 200 and "金额：" in text(after)
    assert team.loom.flows.instance_of("contract", contract).status == "running"
    saved = team.loom.records().get("contract", contract)
    assert (saved["amount"], saved["name"]) == (Decimal("100000"), "数控机床采购合同")


def test_only_the_approver_gets_the_inputs_and_only_while_the_task_is_open(team: Team) -> None:
    contract = submitted_contract(team)
    page = text(team.client("wang.fang").get(f"/app/contract/{contract}"))
    assert "审批时可修改的字段" not in page  # the submitter decides nothing
    assert team.client("li.na").get(f"/app/contract/{contract}").status_code == 404  # another rep: not hers

    wu = team.client("wu.yi")
    [task] = team.loom.flows.pending_for(team.ids["wu.yi"])
    team.loom.flows.approve(task["task_id"], actor=team.actor("wu.yi"))
    assert wu.get(f"/app/contract/{contract}").status_code in (403, 404)  # decided: no longer his to see


def test_the_edit_form_shows_the_fields_a_running_approval_locks_read_only(team: Team) -> None:
    flow = {**REVIEW, "lock_record": {"fields": ["amount", "customer"]}}
    apply_objects(team.loom, [], flows=[FlowSpec.from_json(flow)])
    contract = submitted_contract(team)
    wang = team.client("wang.fang")
    page = text(wang.get(f"/app/contract/{contract}/edit"))
    assert 'id="field-amount"' in page and 'name="amount"' not in page  # shown, not an input
    assert 'name="remark"' in page

    form = {"csrf_token": csrf(wang), "amount": "1", "remark": "补充付款说明", "_version": 0}
    form["_version"] = team.loom.records().get("contract", contract)["version"]
    wang.post(f"/app/contract/{contract}/edit", data=form)
    saved = team.loom.records().get("contract", contract)
    assert (saved["amount"], saved["remark"]) == (Decimal("100000"), "补充付款说明")
