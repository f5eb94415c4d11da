"""Shared by the flow tests: a small company on the standard CRM, and flows to send its contracts through."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.base.actors import SYSTEM, Actor
from engine.flows import Instance, Task
from engine.identity import actor_for, create_department, create_user, set_head
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE
from engine.schema.changes import apply_objects
from metadata.flows import FlowSpec

PACKAGE_FLOW = CRM_PACKAGE / "flows" / "contract_approval.json"

# The seeds' contract approval: below 100,000 the manager only; from 100,000 the manager, then legal
# and finance side by side (both must approve); from 1,000,000 the CEO last.
CONTRACT_APPROVAL: dict[str, Any] = {
    "name": "contract_approval",
    "object": "contract",
    "label": {"zh_CN": "合同审批", "en": "Contract approval"},
    "submit_when": "status in ['draft', 'rejected']",
    "start": "manager",
    "nodes": {
        "manager": {
            "type": "approval",
            "label": {"zh_CN": "销售经理审批", "en": "Sales manager"},
            "approvers": [{"manager_of": "submitter"}],
            "next": "by_amount",
        },
        "by_amount": {
            "type": "condition",
            "branches": [{"when": "amount < 100000", "next": "approved"}],
            "default": "legal_and_finance",
        },
        "legal_and_finance": {
            "type": "parallel",
            "branches": ["legal", "finance"],
            "join": "all",
            "next": "large_contract",
        },
        "legal": {"type": "approval", "approvers": [{"role": "legal"}]},
        "finance": {"type": "approval", "approvers": [{"role": "finance"}]},
        "large_contract": {
            "type": "condition",
            "branches": [{"when": "amount >= 1000000", "next": "ceo"}],
            "default": "approved",
        },
        "ceo": {
            "type": "approval",
            "approvers": [{"role": "ceo"}],
            "deadline": {"hours": 48, "then": "remind"},
            "next": "approved",
        },
        "approved": {
            "type": "end",
            "actions": [{"type": "set_field", "field": "status", "value": "'approved'"}],
        },
    },
    "on_reject": {
        "return_to": "submitter",
        "actions": [{"type": "set_field", "field": "status", "value": "'rejected'"}],
    },
}


def contract_approval(source: str = "dict") -> FlowSpec:
    """The contract approval built here from a dict, or read from the CRM package's own file."""
    if source == "package":
        return FlowSpec.from_json(json.loads(PACKAGE_FLOW.read_text(encoding="utf-8")))
    return FlowSpec.from_json(copy.deepcopy(CONTRACT_APPROVAL))


def simple_flow(name: str = "review_flow", *, object: str = "contract", **approval: Any) -> FlowSpec:
    """start → one approval node `review` (approvers, mode, share, deadline…) → end."""
    return FlowSpec.from_json(
        {
            "name": name,
            "object": object,
            "label": {"en": name.replace("_", " ").capitalize()},
            "start": "review",
            "nodes": {
                "review": {"type": "approval", "next": "done", **approval},
                "done": {
                    "type": "end",
                    "actions": [{"type": "set_field", "field": "status", "value": "'approved'"}],
                },
            },
            "on_reject": {"actions": [{"type": "set_field", "field": "status", "value": "'rejected'"}]},
        }
    )


def publish(loom: Loom, *flows: FlowSpec | dict[str, Any]) -> None:
    apply_objects(loom, [], flows=[f if isinstance(f, FlowSpec) else FlowSpec.from_json(f) for f in flows])


@dataclass
class World:
    """Departments 总部 (CEO 陈总) ⊃ 销售部 (manager 张经理, reps 王芳 and 李娜), 法务部, 财务部."""

    loom: Loom
    ids: dict[str, int] = field(default_factory=dict)
    customer_id: int = 0

    def actor(self, username: str) -> Actor:
        return actor_for(self.loom, self.ids[username])

    def contract(self, amount: int | str, *, by: str = "wang.fang", name: str = "设备采购合同") -> int:
        values = {"name": name, "customer": self.customer_id, "amount": str(amount)}
        return int(self.loom.records(self.actor(by)).create("contract", values)["id"])

    def submit(self, contract_id: int, *, by: str = "wang.fang", **options: Any) -> Instance:
        return self.loom.flows.submit("contract", contract_id, actor=self.actor(by), **options)

    def pending(self, instance: Instance | int, node: str | None = None) -> list[Task]:
        instance_id = instance if isinstance(instance, int) else instance.id
        return [
            task
            for task in self.loom.flows.tasks(instance_id)
            if task.status == "pending" and (node is None or task.node == node)
        ]

    def task_of(self, instance: Instance | int, username: str) -> Task:
        [task] = [t for t in self.pending(instance) if t.assignee_id == self.ids[username]]
        return task

    def approve(self, instance: Instance | int, username: str, comment: str | None = None) -> Instance:
        task = self.task_of(instance, username)
        return self.loom.flows.approve(task.id, actor=self.actor(username), comment=comment)

    def reject(self, instance: Instance | int, username: str, comment: str, **options: Any) -> Instance:
        task = self.task_of(instance, username)
        return self.loom.flows.reject(task.id, actor=self.actor(username), comment=comment, **options)

    def status(self, contract_id: int) -> str:
        return self.loom.records().get("contract", contract_id)["status"]

    def amount(self, contract_id: int) -> Decimal:
        return self.loom.records().get("contract", contract_id)["amount"]

    def actions(self, instance: Instance | int) -> list[tuple[str, str | None]]:
        instance_id = instance if isinstance(instance, int) else instance.id
        return [(row["action"], row["node"]) for row in self.loom.flows.history(instance_id)]


PEOPLE = [
    # username, display name, roles, department, manager
    ("chen.zong", "陈总", ["ceo"], "hq", None),
    ("zhang.jingli", "张经理", ["sales_manager"], "sales", None),
    ("wang.fang", "王芳", ["sales_rep"], "sales", None),
    ("li.na", "李娜", ["sales_rep"], "sales", "zhang.jingli"),
    ("zhao.fawu", "赵法务", ["legal"], "legal", None),
    ("qian.fawu", "钱法务", ["legal"], "legal", None),
    ("sun.caiwu", "孙财务", ["finance"], "finance", None),
    ("zhou.admin", "周管理员", ["admin"], "hq", None),
    ("wu.yi", "吴一", [], "hq", None),
    ("zheng.er", "郑二", [], "hq", None),
    ("feng.san", "冯三", [], "hq", None),
]


def build_world(loom: Loom, *flows: FlowSpec) -> World:
    """The company, a customer, and the flows given (the contract approval when none are)."""
    world = World(loom)
    departments = {"hq": create_department(loom, "总部", actor=SYSTEM)["id"]}
    for key, name in (("sales", "销售部"), ("legal", "法务部"), ("finance", "财务部")):
        departments[key] = create_department(loom, name, departments["hq"], actor=SYSTEM)["id"]
    for username, display, roles, department, manager in PEOPLE:
        user = create_user(
            loom,
            username,
            display,
            roles=roles,
            department_id=departments[department],
            manager_id=world.ids[manager] if manager else None,
            actor=SYSTEM,
        )
        world.ids[username] = user["id"]
    set_head(loom, departments["hq"], world.ids["chen.zong"], actor=SYSTEM)
    set_head(loom, departments["sales"], world.ids["zhang.jingli"], actor=SYSTEM)
    # 王芳's customer, in the sales department's scope: reps sign contracts only with customers they see
    customer = {"name": "苏州精工机械有限公司", "owner": world.ids["wang.fang"]}
    world.customer_id = loom.records().create("customer", customer)["id"]
    publish(loom, *(flows or (contract_approval(),)))
    return world
