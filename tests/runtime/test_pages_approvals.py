"""Approvals through the pages: submit on the record, decide in the inbox, see it on the record."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from engine import identity
from engine.base.actors import SYSTEM
from engine.base.errors import InvalidMetadata
from engine.loom import Loom
from engine.schema.changes import apply_objects
from metadata.roles import RoleSpec
from metadata.specs import ObjectSpec
from runtime.web.pages import approvals as pages_approvals
from tests.runtime.pages_world import PASSWORD, Team, build_team, csrf, text


@pytest.fixture
def team(crm: Loom) -> Team:
    return build_team(crm)


def contract(team: Team, amount: str = "86000") -> dict:
    customer = team.customer("苏州精工机械有限公司")
    return team.loom.records(team.actor("wang.fang")).create(
        "contract", {"name": "数控机床采购合同", "customer": customer["id"], "amount": amount}
    )


def test_a_contract_goes_from_submission_to_approval_through_the_pages(team: Team) -> None:
    record = contract(team)
    path = f"/app/contract/{record['id']}"
    wang = team.client("wang.fang")
    assert "提交审批" in text(wang.get(path))
    submitted = wang.post(
        f"{path}/submit", data={"csrf_token": csrf(wang), "comment": "请审批"}, follow_redirects=True
    )
    page = text(submitted)
    assert "已提交审批" in page and "审批中" in page
    assert 'class="button primary">提交审批' not in page  # not twice while it runs

    manager = team.client("zhang.jingli")
    inbox = text(manager.get("/approvals"))
    assert "数控机床采购合同" in inbox and "提交人：王芳" in inbox
    [task] = team.loom.flows.pending_for(team.ids["zhang.jingli"])
    decided = manager.post(
        f"/approvals/tasks/{task['task_id']}/approve",
        data={
            "csrf_token": csrf(manager),
            "comment": "同意",
            "object": "contract",
            "record_id": record["id"],
        },
        follow_redirects=True,
    )
    assert "已通过" in text(decided)
    assert team.loom.records().get("contract", record["id"])["status"] == "approved"

    after = text(wang.get(path))
    timeline = after[after.index('class="timeline"') :]
    assert "提交了审批" in timeline and "张经理 同意" in timeline
    assert 'class="button primary">提交审批' not in after  # submit_when no longer holds


def test_only_the_approver_sees_the_decision_buttons_and_a_rejection_needs_a_reason(team: Team) -> None:
    record = contract(team)
    team.loom.flows.submit("contract", record["id"], actor=team.actor("wang.fang"))
    path = f"/app/contract/{record['id']}"
    assert "驳回" not in text(team.client("wang.fang").get(path))
    manager = team.client("zhang.jingli")
    [task] = team.loom.flows.pending_for(team.ids["zhang.jingli"])
    response = manager.post(
        f"/approvals/tasks/{task['task_id']}/reject",
        data={"csrf_token": csrf(manager), "comment": "", "object": "contract", "record_id": record["id"]},
        follow_redirects=True,
    )
    assert "驳回需要填写原因" in text(response)
    assert team.loom.flows.instance_of("contract", record["id"]).status == "running"


def test_the_submitter_can_withdraw(team: Team) -> None:
    record = contract(team)
    instance = team.loom.flows.submit("contract", record["id"], actor=team.actor("wang.fang"))
    wang = team.client("wang.fang")
    response = wang.post(
        f"/approvals/{instance.id}/withdraw",
        data={"csrf_token": csrf(wang), "object": "contract", "record_id": record["id"]},
        follow_redirects=True,
    )
    assert "已撤回" in text(response)
    assert team.loom.flows.get(instance.id).status == "withdrawn"


def test_notifications_are_listed_and_marked_read(team: Team) -> None:
    record = contract(team)
    team.loom.flows.submit("contract", record["id"], actor=team.actor("wang.fang"))
    manager = team.client("zhang.jingli")
    page = text(manager.get("/notifications"))
    assert "待审批：合同审批 · 数控机床采购合同" in page
    assert '<span class="count">1</span>' in page
    manager.post("/notifications/read", data={"csrf_token": csrf(manager), "all": "1"})
    assert "所有通知都已读" in text(manager.get("/notifications"))
    assert "待审批：合同审批" in text(manager.get("/notifications?show=all"))


CALLBACK = {
    "name": "callback",
    "label": {"zh_CN": "回访", "en": "Callback"},
    "title_field": "topic",
    "home": {"filter": "owner == user() and not done", "sort": ["-topic"], "fields": ["due_on"]},
    "fields": [
        {"name": "topic", "type": "text", "required": True},
        {"name": "due_on", "type": "date"},
        {"name": "done", "type": "boolean", "default": "False"},
    ],
}


def test_the_home_page_to_dos_come_from_the_object_that_declares_them(team: Team) -> None:
    caller = {
        "name": "caller",
        "label": {"en": "Caller"},
        "objects": {"callback": {"create": True, "read": "own"}},
    }
    apply_objects(team.loom, [ObjectSpec.from_json(CALLBACK)], roles=[RoleSpec.from_json(caller)])
    identity.add_role(team.loom, team.ids["zhang.jingli"], "caller", actor=SYSTEM)
    records = team.loom.records(team.actor("zhang.jingli"))
    records.create("callback", {"topic": "回访甲方", "due_on": "2026-12-01"})
    records.create("callback", {"topic": "回访乙方", "done": True})
    records.create("task", {"subject": "整理报价单", "due_date": "2026-11-30"})
    home = text(team.client("zhang.jingli").get("/work"))  # a manager's home is the sales dashboard
    mine = home[home.index('id="my-tasks"') : home.index('id="my-approvals"')]
    assert "回访甲方" in mine and "2026" in mine  # the callback with its due date
    assert "回访乙方" not in mine  # done: the filter leaves it out
    assert "整理报价单" not in mine  # the first object by name with a home section is the one shown
    broken = {**CALLBACK, "home": {"filter": "owner == user() and not dnoe"}}
    with pytest.raises(InvalidMetadata) as caught:
        apply_objects(team.loom, [ObjectSpec.from_json(broken)])
    assert any(problem.path == "/home/filter" for problem in caught.value.problems)


def test_the_home_page_lists_my_tasks_approvals_and_recent_records(team: Team) -> None:
    record = contract(team)
    team.loom.flows.submit("contract", record["id"], actor=team.actor("wang.fang"))
    team.loom.records(team.actor("zhang.jingli")).create(
        "task", {"subject": "回访苏州精工", "due_date": "2026-11-30", "priority": "high"}
    )
    home = text(team.client("zhang.jingli").get("/work"))  # a manager's home is the sales dashboard
    assert "你好, 张经理" in home
    assert "回访苏州精工" in home  # my open task
    assert "数控机床采购合同" in home  # waiting for my approval
    assert "待审批：合同审批" in home  # the reminder under the bell
    recent = text(team.client("wang.fang").get("/"))
    assert "数控机床采购合同" in recent[recent.index('id="recent"') :]


def main_part(page: str) -> str:
    """The page without its layout (navigation, bell, language switch)."""
    return page[page.index("<main") : page.index("</main>")]


def english_words(page: str) -> set[str]:
    """ASCII words a reader sees in the page's main part."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", main_part(page), flags=re.S)
    return set(re.findall(r"[A-Za-z]{2,}", squeeze(body)))


def test_the_inbox_shows_what_to_decide_and_deciding_keeps_the_manager_in_it(team: Team) -> None:
    record = contract(team, amount="86000")
    team.loom.flows.submit("contract", record["id"], actor=team.actor("wang.fang"))
    assert team.loom.records().get("contract", record["id"])["status"] == "pending"
    team.loom.clock.set(team.loom.clock.now() + timedelta(hours=2))
    manager = team.client("zhang.jingli")

    inbox = text(manager.get("/approvals"))
    [task] = team.loom.flows.pending_for(team.ids["zhang.jingli"])
    card = inbox[inbox.index(f'id="task-{task["task_id"]}"') :]
    assert "数控机床采购合同" in card and "提交人：王芳" in card
    assert "合同金额" in card and "¥86,000.00" in card  # the flow's summary fields
    assert "苏州精工机械有限公司" in card and "已等待 2小时" in card
    assert english_words(inbox) == set()

    decided = manager.post(
        f"/approvals/tasks/{task['task_id']}/approve",
        data={"csrf_token": csrf(manager), "comment": "同意", "tab": "pending"},
    )
    assert decided.status_code == 302 and decided.headers["Location"].endswith("/approvals?tab=pending")
    back = text(manager.get(decided.headers["Location"]))
    assert "已通过" in back and 'aria-current="page">待我审批' in back
    assert f'id="task-{task["task_id"]}"' not in back
    assert team.loom.records().get("contract", record["id"])["status"] == "approved"

    done = text(manager.get("/approvals?tab=done"))
    assert "数控机床采购合同" in done and "同意" in done and 'aria-current="page">我已审批' in done
    assert english_words(done) == set()
    mine = text(team.client("wang.fang").get("/approvals?tab=submitted"))
    assert "数控机床采购合同" in mine and "已通过" in mine
    assert english_words(mine) == set()
    assert "您还没有发起过审批" in text(manager.get("/approvals?tab=submitted"))
    assert manager.get("/approvals?tab=everything").status_code == 404
    assert manager.get("/approvals?tab=done&before=abc").status_code == 200


def test_a_rejection_without_a_reason_stays_in_the_inbox_and_the_submitter_can_remind(team: Team) -> None:
    record = contract(team)
    team.loom.flows.submit("contract", record["id"], actor=team.actor("wang.fang"))
    manager = team.client("zhang.jingli")
    [task] = team.loom.flows.pending_for(team.ids["zhang.jingli"])
    refused = manager.post(
        f"/approvals/tasks/{task['task_id']}/reject",
        data={"csrf_token": csrf(manager), "comment": "", "tab": "pending"},
        follow_redirects=True,
    )
    page = text(refused)
    assert "驳回需要填写原因" in page and f'id="task-{task["task_id"]}"' in page  # still there, in Chinese

    wang = team.client("wang.fang")
    mine = text(wang.get("/approvals?tab=submitted"))
    assert "审批中" in mine and "销售经理审批" in mine and "张经理" in mine and "催办" in mine
    reminded = wang.post(
        f"/approvals/{task['instance_id']}/remind",
        data={"csrf_token": csrf(wang), "tab": "submitted"},
        follow_redirects=True,
    )
    assert "已催办" in text(reminded) and 'aria-current="page">我发起的' in text(reminded)
    assert "催办：合同审批 · 数控机床采购合同" in text(manager.get("/notifications"))
    # Only the submitter (or an administrator) may remind: the engine refuses anyone else.
    li = team.client("li.na")
    other = li.post(
        f"/approvals/{task['instance_id']}/remind", data={"csrf_token": csrf(li), "tab": "submitted"}
    )
    assert other.status_code == 302
    assert "只有提交人或管理员可以催办" in text(li.get("/approvals?tab=submitted"))


def test_the_inbox_pages_through_many_tasks(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages_approvals, "PAGE_SIZE", 2)
    for n in range(3):
        record = team.loom.records(team.actor("wang.fang")).create(
            "contract",
            {"name": f"合同{n + 1}", "customer": team.customer(f"客户{n + 1}")["id"], "amount": "1000"},
        )
        team.loom.flows.submit("contract", record["id"], actor=team.actor("wang.fang"))
    manager = team.client("zhang.jingli")
    first = main_part(text(manager.get("/approvals")))
    assert "合同3" in first and "合同2" in first and "合同1" not in first and "3 项等待您审批" in first
    more = re.search(r'href="(/approvals\?tab=pending&amp;before=\d+)">更多', first).group(1)
    second = main_part(text(manager.get(html.unescape(more))))
    assert "合同1" in second and "合同2" not in second and "更多" not in second


def add_manager(team: Team, username: str = "liu.jingli", name: str = "刘经理") -> int:
    user = identity.create_user(team.loom, username, name, PASSWORD, roles=["sales_manager"], actor=SYSTEM)
    team.ids[username] = user["id"]
    return user["id"]


def test_the_approver_transfers_or_adds_an_approver_from_the_record_and_the_history_names_them(
    team: Team,
) -> None:
    liu = add_manager(team)
    record = contract(team)
    instance = team.loom.flows.submit("contract", record["id"], actor=team.actor("wang.fang"))
    path = f"/app/contract/{record['id']}"
    wang, manager = team.client("wang.fang"), team.client("zhang.jingli")
    own = text(wang.get(path))
    assert "审批中" in own and ">转交<" not in own and ">加签<" not in own and "撤回" in own
    page = text(manager.get(path))
    assert ">转交<" in page and ">加签<" in page and "撤回" not in page
    [task] = team.loom.flows.pending_for(team.ids["zhang.jingli"])

    # 加签 before me: 赵财务 decides first, then the task is 张经理's again.
    added = manager.post(
        f"/approvals/tasks/{task['task_id']}/add_approver",
        data={
            "csrf_token": csrf(manager),
            "user_id": team.ids["zhao.caiwu"],
            "position": "before",
            "comment": "请财务先看",
            "object": "contract",
            "record_id": record["id"],
        },
        follow_redirects=True,
    )
    page = text(added)
    assert "已加签" in page and "张经理 加签 → 赵财务 (前加签)" in squeeze(page)
    [zhao_task] = team.loom.flows.pending_for(team.ids["zhao.caiwu"])
    team.loom.flows.approve(zhao_task["task_id"], actor=team.actor("zhao.caiwu"))

    # 转交 to 刘经理, who then approves from his inbox.
    [task] = team.loom.flows.pending_for(team.ids["zhang.jingli"])
    moved = manager.post(
        f"/approvals/tasks/{task['task_id']}/transfer",
        data={
            "csrf_token": csrf(manager),
            "user_id": liu,
            "comment": "出差，请刘经理审批",
            "object": "contract",
            "record_id": record["id"],
        },
        follow_redirects=True,
    )
    history = squeeze(text(moved))
    assert "已转交" in history and "张经理 转交了审批 → 刘经理" in history and "出差，请刘经理审批" in history
    assert "销售经理审批 · 张经理" in history  # each step is named with its person
    assert team.loom.flows.pending_for(team.ids["zhang.jingli"]) == []
    [liu_task] = team.loom.flows.pending_for(liu)
    assert liu_task["instance_id"] == instance.id


def test_handing_on_is_refused_to_others_and_bad_input_is_explained(team: Team) -> None:
    record = contract(team)
    team.loom.flows.submit("contract", record["id"], actor=team.actor("wang.fang"))
    [task] = team.loom.flows.pending_for(team.ids["zhang.jingli"])
    url = f"/approvals/tasks/{task['task_id']}/transfer"
    wang = team.client("wang.fang")
    refused = wang.post(
        url,
        data={"csrf_token": csrf(wang), "user_id": team.ids["li.na"], "tab": "pending"},
        follow_redirects=True,
    )
    assert "不归你审批" in text(refused)
    manager = team.client("zhang.jingli")
    for data, message in (
        ({}, "请选择转交或加签的人员"),
        ({"user_id": "someone"}, "请选择转交或加签的人员"),
        ({"user_id": "999999"}, "没有编号为 999999 的用户"),
        ({"user_id": team.ids["li.na"], "position": "sideways"}, "请选择在您之前还是之后审批"),
    ):
        operation = "add_approver" if "position" in data else "transfer"
        response = manager.post(
            f"/approvals/tasks/{task['task_id']}/{operation}",
            data={"csrf_token": csrf(manager), "tab": "pending", **data},
            follow_redirects=True,
        )
        assert response.status_code == 200 and message in text(response)
    assert [t["task_id"] for t in team.loom.flows.pending_for(team.ids["zhang.jingli"])] == [task["task_id"]]


def squeeze(page: str) -> str:
    """The page's text with tags removed and runs of white space made one space."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
