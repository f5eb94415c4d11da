"""Typed, frozen definitions of approval flows: a graph of nodes bound to one object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from metadata.frozen import Label, freeze, thaw
from metadata.heading import heading_from_json, heading_to_json
from metadata.rules import ActionSpec

NODE_TYPES = ("approval", "condition", "parallel", "cc", "action", "end")
APPROVAL_MODES = ("any", "all", "sequential", "vote")  # 或签, 会签, 依次审批, 票签
APPROVER_KINDS = ("user", "role", "manager_of", "department_head", "field", "chosen_by_submitter")
EMPTY_APPROVERS = ("admin", "skip", "refuse")
DEADLINE_ACTIONS = ("remind", "reassign", "approve", "reject")
RECORD_STATES = ("running", "approved", "rejected", "withdrawn")


@dataclass(frozen=True)
class ApproverSpec:
    """Who approves, resolved when the node is reached.

    Exactly one kind: {"user": "username"}, {"role": "legal"}, {"manager_of": "submitter",
    "levels": 2}, {"department_head": "submitter"} (the submitter's department) or a department
    name, {"field": "signed_by"} (a user field of the record), {"chosen_by_submitter": true}.
    """

    kind: str
    value: Any
    levels: int = 1

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ApproverSpec:
        kind = next(k for k in APPROVER_KINDS if k in doc)
        return cls(kind=kind, value=doc[kind], levels=int(doc.get("levels", 1)))

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {self.kind: self.value}
        if self.kind == "manager_of" and self.levels != 1:
            doc["levels"] = self.levels
        return doc


@dataclass(frozen=True)
class DeadlineSpec:
    """How long a node may wait, and what happens then: remind, reassign (to `to`), approve, reject."""

    hours: float
    then: str = "remind"
    to: ApproverSpec | None = None

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> DeadlineSpec:
        to = doc.get("to")
        return cls(
            hours=float(doc["hours"]),
            then=doc.get("then", "remind"),
            to=ApproverSpec.from_json(to) if to else None,
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "hours": int(self.hours) if self.hours == int(self.hours) else self.hours,
            "then": self.then,
        }
        if self.to is not None:
            doc["to"] = self.to.to_json()
        return doc


@dataclass(frozen=True)
class BranchSpec:
    when: str
    next: str

    def to_json(self) -> dict[str, Any]:
        return {"when": self.when, "next": self.next}


@dataclass(frozen=True)
class NodeSpec:
    """One node. Which keys matter depends on `type`:

    approval: approvers, mode, share (vote), deadline, editable and hidden (its `fields`), next ·
    condition: branches, default ·
    parallel: branches (node names, each a path that ends at the join), join ("all"/"any"), next ·
    cc: to (approvers), next · action: actions (rule actions), next · end: outcome, actions.
    """

    name: str
    type: str
    label: Label = field(default_factory=lambda: MappingProxyType({}))
    next: str | None = None
    approvers: tuple[ApproverSpec, ...] = ()
    mode: str = "any"
    share: float | None = None
    deadline: DeadlineSpec | None = None
    branches: tuple[Any, ...] = ()  # BranchSpec for condition, node names (str) for parallel
    default: str | None = None
    join: str = "all"
    to: tuple[ApproverSpec, ...] = ()
    actions: tuple[ActionSpec, ...] = ()
    outcome: str = "approved"
    editable: tuple[str, ...] = ()  # fields the approver may change while deciding
    hidden: tuple[str, ...] = ()  # fields the approval does not show the approver

    @classmethod
    def from_json(cls, name: str, doc: Mapping[str, Any]) -> NodeSpec:
        kind = doc["type"]
        branches: tuple[Any, ...] = ()
        if kind == "condition":
            branches = tuple(BranchSpec(b["when"], b["next"]) for b in doc.get("branches", ()))
        elif kind == "parallel":
            branches = tuple(doc.get("branches", ()))
        deadline = doc.get("deadline")
        fields = doc.get("fields") or {}
        return cls(
            name=name,
            type=kind,
            label=freeze(doc.get("label", {})),
            next=doc.get("next"),
            approvers=tuple(ApproverSpec.from_json(a) for a in doc.get("approvers", ())),
            mode=doc.get("mode", "any"),
            share=doc.get("share"),
            deadline=DeadlineSpec.from_json(deadline) if deadline else None,
            branches=branches,
            default=doc.get("default"),
            join=doc.get("join", "all"),
            to=tuple(ApproverSpec.from_json(a) for a in doc.get("to", ())),
            actions=tuple(ActionSpec.from_json(a) for a in doc.get("actions", ())),
            outcome=doc.get("outcome", "approved"),
            editable=tuple(fields.get("editable", ())),
            hidden=tuple(fields.get("hidden", ())),
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type}
        if self.label:
            doc["label"] = thaw(self.label)
        if self.type == "approval":
            doc["approvers"] = [a.to_json() for a in self.approvers]
            if self.mode != "any":
                doc["mode"] = self.mode
            if self.share is not None:
                doc["share"] = self.share
            if self.deadline is not None:
                doc["deadline"] = self.deadline.to_json()
            fields = {
                key: list(names) for key, names in (("editable", self.editable), ("hidden", self.hidden))
            }
            if any(fields.values()):
                doc["fields"] = {key: names for key, names in fields.items() if names}
        elif self.type == "condition":
            doc["branches"] = [b.to_json() for b in self.branches]
            if self.default is not None:
                doc["default"] = self.default
        elif self.type == "parallel":
            doc["branches"] = list(self.branches)
            if self.join != "all":
                doc["join"] = self.join
        elif self.type == "cc":
            doc["to"] = [a.to_json() for a in self.to]
        if self.type in ("action", "end") and self.actions:
            doc["actions"] = [a.to_json() for a in self.actions]
        if self.type == "end" and self.outcome != "approved":
            doc["outcome"] = self.outcome
        if self.next is not None:
            doc["next"] = self.next
        return doc


@dataclass(frozen=True)
class RecordStatusSpec:
    """The record field a flow keeps in step with its approval: the value it takes in each state
    (running once submitted, then approved, rejected or withdrawn); a state left out changes nothing."""

    field: str
    values: Mapping[str, str]

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RecordStatusSpec:
        values = {state: doc[state] for state in RECORD_STATES if state in doc}
        return cls(field=doc["field"], values=MappingProxyType(values))

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, **self.values}


@dataclass(frozen=True)
class FlowSpec:
    """An approval flow bound to an object: `start` names the first node; nodes by name.

    `lock_record`: what cannot be edited while an instance runs and once approved (admins excepted,
    audited): True the whole record, False nothing, a tuple of field names only those fields.
    `submit_when`: an expression that must hold for the record to be submitted.
    `on_empty_approvers`: what happens when a node's approvers resolve to nobody — "admin" (give
    it to the administrators), "skip" (treat the node as approved) or "refuse" (refuse the step).
    `on_reject`: "return_to" ("submitter") and rule `actions` run when the flow ends rejected.
    `record_status`: the record field set as the approval is submitted, ends or is withdrawn.
    `summary_fields`: the record's fields an approvals inbox shows on each card (amount, customer …).
    """

    name: str
    object: str
    start: str
    nodes: Mapping[str, NodeSpec]
    label: Label = field(default_factory=lambda: MappingProxyType({}))
    description: Label = field(default_factory=lambda: MappingProxyType({}))
    lock_record: bool | tuple[str, ...] = True
    submit_when: str | None = None
    on_empty_approvers: str = "admin"
    reject_actions: tuple[ActionSpec, ...] = ()
    active: bool = True
    record_status: RecordStatusSpec | None = None
    summary_fields: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> FlowSpec:
        on_reject = doc.get("on_reject", {})
        status = doc.get("record_status")
        return cls(
            **heading_from_json(doc),
            start=doc["start"],
            nodes=MappingProxyType(
                {n: NodeSpec.from_json(n, body) for n, body in doc.get("nodes", {}).items()}
            ),
            lock_record=_lock_from_json(doc.get("lock_record", True)),
            submit_when=doc.get("submit_when"),
            on_empty_approvers=doc.get("on_empty_approvers", "admin"),
            reject_actions=tuple(ActionSpec.from_json(a) for a in on_reject.get("actions", ())),
            active=bool(doc.get("active", True)),
            record_status=RecordStatusSpec.from_json(status) if status else None,
            summary_fields=tuple(doc.get("summary_fields", ())),
        )

    def to_json(self) -> dict[str, Any]:
        doc = heading_to_json(self)
        if not self.active:
            doc["active"] = False
        if self.lock_record is False:
            doc["lock_record"] = False
        elif isinstance(self.lock_record, tuple):
            doc["lock_record"] = {"fields": list(self.lock_record)}
        if self.submit_when is not None:
            doc["submit_when"] = self.submit_when
        if self.on_empty_approvers != "admin":
            doc["on_empty_approvers"] = self.on_empty_approvers
        if self.record_status is not None:
            doc["record_status"] = self.record_status.to_json()
        if self.summary_fields:
            doc["summary_fields"] = list(self.summary_fields)
        doc["start"] = self.start
        doc["nodes"] = {name: node.to_json() for name, node in self.nodes.items()}
        if self.reject_actions:
            doc["on_reject"] = {
                "return_to": "submitter",
                "actions": [a.to_json() for a in self.reject_actions],
            }
        return doc


def _lock_from_json(value: Any) -> bool | tuple[str, ...]:
    if isinstance(value, Mapping):
        return tuple(value.get("fields", ()))
    return bool(value)
