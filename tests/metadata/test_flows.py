"""Approval flows: one document per flow, a graph from start to an end node, checked where each mistake is."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from metadata.flow_graph import FlowGraph
from metadata.flows import ApproverSpec, FlowSpec
from metadata.loading import KIND_FOLDERS, Document, PackageSource, read_package, write_package
from metadata.problems import Problem
from metadata.specs import ObjectSpec, PackageManifest
from metadata.validation import (
    ExpressionSite,
    ValidationResult,
    flow_expressions_in,
    validate_flow,
    validate_package,
)

MANIFEST = {"name": "crm", "version": "1.0.0", "label": {"en": "CRM"}}
CRM_PACKAGE = Path(__file__).parents[2] / "metadata" / "packages" / "crm"

CUSTOMER = {
    "name": "customer",
    "label": {"zh_CN": "客户", "en": "Customer"},
    "fields": [
        {"name": "name", "type": "text", "required": True},
        {"name": "lifecycle", "type": "select", "options": [{"value": "prospect"}, {"value": "customer"}]},
    ],
}
CONTRACT = {
    "name": "contract",
    "label": {"zh_CN": "合同", "en": "Contract"},
    "fields": [
        {"name": "code", "type": "autonumber", "pattern": "HT-{0000}"},
        {"name": "name", "type": "text", "required": True},
        {"name": "customer", "type": "lookup", "target": "customer"},
        {"name": "amount", "type": "currency"},
        {"name": "signed_by", "type": "user"},
        {"name": "status", "type": "select", "options": [{"value": "draft"}, {"value": "approved"}]},
    ],
}
OBJECTS = (CUSTOMER, CONTRACT)
KNOWN = {doc["name"]: ObjectSpec.from_json(doc) for doc in OBJECTS}

APPROVE = {"type": "set_field", "field": "status", "value": "'approved'"}
CONTRACT_APPROVAL = {
    "$schema": "../../../schema/flow.schema.json",
    "name": "contract_approval",
    "object": "contract",
    "start": "manager",
    "nodes": {
        "manager": {"type": "approval", "approvers": [{"manager_of": "submitter"}], "next": "by_amount"},
        "by_amount": {
            "type": "condition",
            "branches": [{"when": "amount < 100000", "next": "approved"}],
            "default": "legal_and_finance",
        },
        "legal_and_finance": {"type": "parallel", "branches": ["legal", "finance"], "next": "approved"},
        "legal": {"type": "approval", "approvers": [{"role": "legal"}]},
        "finance": {"type": "approval", "approvers": [{"role": "finance"}]},
        "approved": {"type": "end", "actions": [APPROVE]},
    },
}


def flow(changed: dict | None = None, **keys) -> dict:
    """The contract approval above, changed: a node given with a type replaces that node, one without
    merges into it, None removes it; keys replace the flow's own keys."""
    doc = copy.deepcopy(CONTRACT_APPROVAL)
    for name, body in (changed or {}).items():
        if body is None:
            del doc["nodes"][name]
        elif "type" in body:
            doc["nodes"][name] = body
        else:
            doc["nodes"][name].update(body)
    return {**doc, **keys}


def validated(*flows: dict, objects=OBJECTS, files: dict | None = None, **options) -> ValidationResult:
    """A package of `objects` and `flows` (plus other documents in `files`), validated."""
    documents = [Document(f"objects/{doc['name']}.json", "object", doc) for doc in objects]
    documents += [Document(f"flows/{doc['name']}.json", "flow", doc) for doc in flows]
    documents += [
        Document(file, KIND_FOLDERS[file.split("/")[0]], doc) for file, doc in (files or {}).items()
    ]
    return validate_package(PackageSource(MANIFEST, tuple(documents)), **options)


def problems(*flows: dict, **options) -> dict[str, str]:
    """Problems in flows/ documents by JSON pointer, for tests of one flow."""
    found = validated(*flows, **options).problems
    return {problem.path: problem.message for problem in found if problem.file.startswith("flows/")}


# The standard CRM's flows.


def crm_flows() -> list[tuple[str, dict]]:
    return [
        (path.name, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted((CRM_PACKAGE / "flows").glob("*.json"))
    ]


def test_the_crm_package_defines_its_flows_and_they_validate():
    result = validate_package(read_package(CRM_PACKAGE))

    assert [str(problem) for problem in result.problems] == []
    assert {flow.name: flow.object for flow in result.flows} == {
        "contract_approval": "contract",
        "discount_approval": "sales_order",
    }


@pytest.mark.parametrize(("file", "doc"), crm_flows(), ids=lambda v: v if isinstance(v, str) else "")
def test_crm_flows_are_written_normalised_with_both_labels(file, doc):
    body = {key: value for key, value in doc.items() if key != "$schema"}

    # Same keys in the same order: exporting the package rewrites the file unchanged.
    assert json.dumps(FlowSpec.from_json(body).to_json(), ensure_ascii=False) == json.dumps(
        body, ensure_ascii=False
    )
    assert set(doc["label"]) == set(doc["description"]) == {"zh_CN", "en"}
    assert all(set(node["label"]) == {"zh_CN", "en"} for node in doc["nodes"].values())


def test_contract_approval_routes_by_amount_through_legal_and_finance_to_the_ceo():
    [contract] = [
        flow for flow in validate_package(read_package(CRM_PACKAGE)).flows if flow.name == "contract_approval"
    ]
    nodes = contract.nodes
    graph = FlowGraph(contract)

    assert contract.submit_when == "status in ['draft', 'rejected']"
    assert nodes[contract.start].approvers == (ApproverSpec("manager_of", "submitter"),)
    by_amount = nodes[nodes[contract.start].next]
    assert [(b.when, b.next) for b in by_amount.branches] == [("amount < 100000", "approved")]
    parallel = nodes[by_amount.default]
    assert (parallel.type, parallel.join) == ("parallel", "all")  # 会签: legal and finance both approve
    assert [nodes[name].approvers[0].value for name in parallel.branches] == ["legal", "finance"]
    assert {graph.after_join(name) for name in parallel.branches} == {parallel.next}
    large = nodes[parallel.next]
    assert [(b.when, b.next) for b in large.branches] == [("amount >= 1000000", "ceo")]
    assert (nodes["ceo"].deadline.hours, nodes["ceo"].deadline.then) == (48, "remind")
    # The contract's status follows its approval: 审批中 once submitted, then approved or rejected.
    assert contract.record_status.field == "status"
    assert dict(contract.record_status.values) == {
        "running": "pending",
        "approved": "approved",
        "rejected": "rejected",
        "withdrawn": "draft",
    }
    assert contract.summary_fields == ("customer", "amount", "type", "signed_at")


def test_discount_approval_asks_the_manager_above_10_and_finance_above_20_percent():
    [discount] = [
        flow for flow in validate_package(read_package(CRM_PACKAGE)).flows if flow.name == "discount_approval"
    ]
    nodes = discount.nodes

    first = nodes[discount.start]
    assert [(b.when, b.next) for b in first.branches] == [("coalesce(max_discount, 0) > 10", "manager")]
    assert nodes[first.default].type == "end"  # up to 10 %: confirmed without approval
    assert nodes["manager"].approvers == (ApproverSpec("manager_of", "submitter"),)
    deep = nodes[nodes["manager"].next]
    assert [(b.when, b.next) for b in deep.branches] == [("coalesce(max_discount, 0) > 20", "finance")]
    assert nodes["finance"].approvers == (ApproverSpec("role", "finance"),)
    cc = nodes[nodes["finance"].next]
    assert (cc.type, cc.to, cc.name) == ("cc", (ApproverSpec("department_head", "submitter"),), deep.default)
    assert nodes[cc.next].actions[0].params == {"field": "status", "value": "'confirmed'"}


# Valid flows.


def test_the_example_flow_is_valid():
    result = validated(CONTRACT_APPROVAL)

    assert result.problems == []
    [spec] = result.flows
    assert (spec.name, spec.object, spec.start, list(spec.nodes)) == (
        "contract_approval",
        "contract",
        "manager",
        ["manager", "by_amount", "legal_and_finance", "legal", "finance", "approved"],
    )


APPROVERS = [
    {"user": "zhang.wei"},
    {"role": "legal"},
    {"manager_of": "submitter"},
    {"manager_of": "submitter", "levels": 3},
    {"department_head": "submitter"},
    {"department_head": "华东销售部"},
    {"field": "signed_by"},
    {"chosen_by_submitter": True},
]


@pytest.mark.parametrize("approver", APPROVERS, ids=lambda a: "-".join(map(str, a)))
def test_every_kind_of_approver_is_valid(approver):
    assert problems(flow({"legal": {"approvers": [approver]}})) == {}


@pytest.mark.parametrize(
    "settings",
    [
        {"mode": "any"},
        {"mode": "all"},
        {"mode": "sequential"},
        {"mode": "vote", "share": 0.6},
        {"mode": "vote", "share": 1},
        {"deadline": {"hours": 48}},
        {"deadline": {"hours": 0.5, "then": "approve"}},
        {"deadline": {"hours": 72, "then": "reject"}},
        {"deadline": {"hours": 24, "then": "reassign", "to": {"manager_of": "submitter", "levels": 2}}},
        {"deadline": {"hours": 24, "then": "reassign", "to": {"manager_of": "assignee"}}},
    ],
    ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()),
)
def test_approval_modes_and_deadlines_are_valid(settings):
    assert problems(flow({"legal": settings})) == {}


def test_every_node_type_may_be_used():
    doc = flow(
        {
            "manager": {"next": "inform"},
            "inform": {"type": "cc", "to": [{"department_head": "submitter"}], "next": "mark"},
            "mark": {
                "type": "action",
                "actions": [{"type": "notify", "to": "owner", "title": "'审批中：' + name"}],
                "next": "by_amount",
            },
            "legal_and_finance": {"join": "any"},
            "refused": {"type": "end", "outcome": "rejected"},
            "by_amount": {"branches": [{"when": "amount > 5000000", "next": "refused"}]},
        }
    )

    assert problems(doc) == {}


def test_a_branch_may_be_a_path_with_conditions_and_a_nested_parallel():
    doc = flow(
        {
            "legal": {"next": "legal_check"},
            "legal_check": {
                "type": "condition",
                "branches": [{"when": "amount > 1000000", "next": "legal_head"}],
                "default": "legal_note",
            },
            "legal_head": {"type": "approval", "approvers": [{"department_head": "法务部"}]},
            "legal_note": {"type": "cc", "to": [{"role": "legal"}]},
            "finance": {"next": "finance_checks"},
            "finance_checks": {"type": "parallel", "branches": ["tax", "audit"]},
            "tax": {"type": "approval", "approvers": [{"user": "li.na"}]},
            "audit": {"type": "approval", "approvers": [{"user": "wang.fang"}]},
        }
    )

    assert problems(doc) == {}
    graph = FlowGraph(FlowSpec.from_json(doc))
    assert graph.branch_of("tax").parallel == "finance_checks"
    assert graph.branch_of("finance").parallel == "legal_and_finance"
    assert graph.after_join("tax") == graph.after_join("legal_note") == "approved"


def test_a_loop_with_a_way_out_is_valid():
    doc = flow(
        {
            "by_amount": {
                "branches": [{"when": "amount < 100000", "next": "approved"}],
                "default": "recheck",
            },
            "recheck": {
                "type": "condition",
                "branches": [{"when": "amount > 0", "next": "manager"}],
                "default": "legal_and_finance",
            },
        }
    )

    assert problems(doc) == {}


def test_a_flow_may_be_bound_to_an_installed_object():
    result = validated(CONTRACT_APPROVAL, objects=(), installed=KNOWN)

    assert result.problems == []


def test_validate_flow_checks_one_document():
    assert validate_flow(CONTRACT_APPROVAL, "flows/contract_approval.json", known_objects=KNOWN).ok
    result = validate_flow(CONTRACT_APPROVAL, "flows/contract_approval.json")

    assert [(p.path, p.message) for p in result.problems] == [
        (
            "/object",
            "flow 'contract_approval' is bound to object 'contract',"
            " which is neither in this package nor installed",
        )
    ]
    assert validate_flow({"name": "x"}, "flows/x.json").flows == ()


# Round trips.

NORMALISED = [
    {k: v for k, v in CONTRACT_APPROVAL.items() if k != "$schema"},
    {
        "name": "contract_approval",
        "object": "contract",
        "label": {"zh_CN": "合同审批", "en": "Contract approval"},
        "description": {"en": "By amount"},
        "active": False,
        "lock_record": False,
        "submit_when": "status == 'draft'",
        "on_empty_approvers": "skip",
        "start": "board",
        "nodes": {
            "board": {
                "type": "approval",
                "label": {"en": "Board"},
                "approvers": [{"role": "board"}, {"user": "zhang.wei"}],
                "mode": "vote",
                "share": 0.6,
                "deadline": {"hours": 24, "then": "reassign", "to": {"manager_of": "submitter", "levels": 2}},
                "next": "split",
            },
            "split": {"type": "parallel", "branches": ["a", "b"], "join": "any", "next": "check"},
            "a": {"type": "cc", "to": [{"field": "signed_by"}]},
            "b": {"type": "action", "actions": [{"type": "erp.sync", "mapping": {"a": ["b", 1]}}]},
            "check": {
                "type": "condition",
                "branches": [{"when": "amount > 0", "next": "done"}],
                "default": "refused",
            },
            "done": {"type": "end", "actions": [APPROVE]},
            "refused": {"type": "end", "outcome": "rejected"},
        },
        "on_reject": {"return_to": "submitter", "actions": [APPROVE]},
    },
]


@pytest.mark.parametrize("doc", NORMALISED, ids=lambda doc: doc["start"])
def test_flows_round_trip_through_their_spec(doc):
    assert FlowSpec.from_json(doc).to_json() == doc


def test_written_flows_read_back_the_same(tmp_path):
    manifest = PackageManifest.from_json(MANIFEST)
    specs = [ObjectSpec.from_json(doc) for doc in OBJECTS] + [FlowSpec.from_json(CONTRACT_APPROVAL)]

    written = write_package((manifest, specs), tmp_path / "out")

    assert "flows/contract_approval.json" in written
    result = validate_package(read_package(tmp_path / "out"))
    assert result.ok
    assert result.flows == (FlowSpec.from_json(CONTRACT_APPROVAL),)


# Mistakes, each reported at its own place.

LEADS_NOWHERE = (
    "leads nowhere: give it next (only a node on a parallel branch may leave next out,"
    " which ends the branch at the join)"
)
VOTE_NEEDS_SHARE = (
    "vote mode (票签) needs share: the part of the approvers who must approve, e.g. 0.6 for 60 %"
)

REVIEW_LOOP = {
    "by_amount": {
        "branches": [
            {"when": "amount < 100000", "next": "approved"},
            {"when": "amount > 5000000", "next": "review"},
        ]
    },
    "review": {"type": "approval", "approvers": [{"role": "legal"}], "next": "recheck"},
    "recheck": {
        "type": "condition",
        "branches": [{"when": "amount > 0", "next": "review"}],
        "default": "review",
    },
}
TO_ARCHIVE = {
    "branches": [
        {"when": "amount < 100000", "next": "approved"},
        {"when": "amount > 5000000", "next": "archive"},
    ]
}
TO_FINANCE = {
    "branches": [
        {"when": "amount < 100000", "next": "approved"},
        {"when": "amount > 5000000", "next": "finance"},
    ]
}

GRAPH_MISTAKES = [
    (
        {"orphan": {"type": "approval", "approvers": [{"role": "legal"}], "next": "approved"}},
        {"/nodes/orphan": "node 'orphan' is never reached: no path from start 'manager' leads to it"},
    ),
    (
        {"manager": {"type": "approval", "approvers": [{"manager_of": "submitter"}]}},
        {
            "/nodes/manager": LEADS_NOWHERE,
            "/nodes/by_amount": "node 'by_amount' is never reached: no path from start 'manager' leads to"
            " it, nor to 'legal_and_finance', 'legal', 'finance', 'approved' after it",
        },
    ),
    (
        {"by_amount": TO_ARCHIVE, "archive": {"type": "cc", "to": [{"role": "legal"}]}},
        {"/nodes/archive": LEADS_NOWHERE},
    ),
    (
        {"legal_and_finance": {"type": "parallel", "branches": ["legal", "finance"]}},
        {"/nodes/legal_and_finance": "a parallel node needs next: the node the flow goes to after the join"},
    ),
    (
        REVIEW_LOOP,
        {
            "/nodes/review": "node 'review' never reaches an end node: from here the flow only goes round"
            " 'review', 'recheck'; give one of them a way on to an end node"
        },
    ),
    (
        {"by_amount": {"branches": [{"when": "amount < 100000", "next": "aproved"}]}},
        {
            "/nodes/by_amount/branches/0/next": "the flow has no node named 'aproved'"
            " (did you mean 'approved'?)"
        },
    ),
    (
        {"legal_and_finance": {"next": "done"}},
        {"/nodes/legal_and_finance/next": "the flow has no node named 'done'"},
    ),
    (
        {"legal": {"next": "approved"}},
        {
            "/nodes/legal/next": "leaves branch 'legal' of parallel 'legal_and_finance' for 'approved',"
            " where the flow goes after the join; a branch ends at the join at a node without next"
        },
    ),
    (
        {"legal": {"next": "refused"}, "refused": {"type": "end", "outcome": "rejected"}},
        {
            "/nodes/legal/next": "leads from branch 'legal' of parallel 'legal_and_finance' to the end node"
            " 'refused', which would end the whole flow while the other branches run; a branch ends at the"
            " join at a node without next"
        },
    ),
    (
        {"legal": {"next": "legal_and_finance"}},
        {
            "/nodes/legal/next": "leads from branch 'legal' of parallel 'legal_and_finance' back to the"
            " parallel node; a branch ends at the join at a node without next"
        },
    ),
    (
        {"legal": {"next": "finance"}},
        {
            "/nodes/legal/next": "leads from branch 'legal' of parallel 'legal_and_finance' to 'finance',"
            " which is on branch 'finance': each node belongs to one branch"
        },
    ),
    (
        {"by_amount": TO_FINANCE},
        {
            "/nodes/legal_and_finance/branches/1": "'finance' is also reached without this parallel (from"
            " 'by_amount'); a branch's nodes belong to that branch alone",
            "/nodes/finance": LEADS_NOWHERE,
        },
    ),
    (
        {"legal_and_finance": {"branches": ["legal", "finance", "approved"]}},
        {
            "/nodes/legal_and_finance/branches/2": "'approved' is where the flow goes after the join, so this"
            " branch would be empty; name the first node of the branch"
        },
    ),
    (
        {"approved": {"outcome": "rejected"}},
        {
            "/nodes": 'the flow has no end node with "outcome": "approved", so no record could ever be'
            ' approved; add one: {"type": "end"}'
        },
    ),
]


@pytest.mark.parametrize(("nodes", "expected"), GRAPH_MISTAKES, ids=lambda v: next(iter(v)).strip("/"))
def test_graph_mistakes_are_reported_at_their_place(nodes, expected):
    assert problems(flow(nodes)) == expected


def test_a_misspelt_start_is_reported_once():
    assert problems(flow(start="manger")) == {
        "/start": "the flow has no node named 'manger' (did you mean 'manager'?)"
    }


NODE_MISTAKES = [
    ({"by_amount": {"type": "condition", "branches": [{"when": "amount < 100000", "next": "approved"}]}},
     "/nodes/by_amount",
     "a condition node needs default: the node the flow takes when no branch's when holds"),
    ({"by_amount": {"branches": []}}, "/nodes/by_amount/branches",
     "a condition node needs at least one branch"),
    ({"by_amount": {"branches": [{"when": "amount < 100000"}]}}, "/nodes/by_amount/branches/0",
     "'next' is required"),
    ({"legal": {"mode": "vote"}}, "/nodes/legal", VOTE_NEEDS_SHARE),
    ({"legal": {"share": 0.5}}, "/nodes/legal/share",
     'only vote mode takes a share: add "mode": "vote" or remove share'),
    ({"legal": {"mode": "vote", "share": 1.5}}, "/nodes/legal/share", "must be at most 1, not 1.5"),
    ({"legal": {"mode": "vote", "share": 0}}, "/nodes/legal/share", "must be greater than 0, not 0"),
    ({"legal": {"mode": "majority"}}, "/nodes/legal/mode",
     '"majority" is not one of "any", "all", "sequential", "vote"'),
    ({"legal": {"approvers": []}}, "/nodes/legal/approvers", "an approval node needs at least one approver"),
    ({"legal": {"deadline": {"hours": 24, "then": "reassign"}}}, "/nodes/legal/deadline",
     'reassign needs to: the approver the tasks pass to, e.g. {"manager_of": "submitter", "levels": 2}'),
    ({"legal": {"deadline": {"hours": 24, "to": {"role": "legal"}}}}, "/nodes/legal/deadline/to",
     'only "then": "reassign" passes the tasks to someone: remove to or reassign'),
    ({"legal": {"deadline": {"hours": 0}}}, "/nodes/legal/deadline/hours", "must be greater than 0, not 0"),
    ({"legal": {"deadline": {"hours": 24, "then": "escalate"}}}, "/nodes/legal/deadline/then",
     '"escalate" is not one of "remind", "reassign", "approve", "reject"'),
    ({"manager": {"approvers": [{"manager_of": "owner"}]}}, "/nodes/manager/approvers/0/manager_of",
     'managers are counted up from the submitter: write "manager_of": "submitter" (or, in a deadline\'s to,'
     ' "assignee" for the late approver\'s manager)'),
    ({"manager": {"approvers": [{"manager_of": "submitter", "levels": 6}]}},
     "/nodes/manager/approvers/0/levels", "must be at most 5, not 6"),
    ({"legal": {"approvers": [{"role": "legal", "levels": 2}]}}, "/nodes/legal/approvers/0/levels",
     "only manager_of takes levels: how many managers up from the submitter"),
    ({"legal": {"approvers": [{"role": "legal", "user": "li.na"}]}}, "/nodes/legal/approvers/0",
     "an approver names exactly one of user, role, manager_of, department_head, field"
     " or chosen_by_submitter"),
    ({"legal": {"approvers": [{"chosen_by_submitter": False}]}},
     "/nodes/legal/approvers/0/chosen_by_submitter",
     'write "chosen_by_submitter": true: the submitter picks the approver when submitting'),
    ({"legal_and_finance": {"branches": ["legal"]}, "finance": None}, "/nodes/legal_and_finance/branches",
     "a parallel node splits the flow into two or more branches; for one path, link its nodes with next"),
    ({"legal_and_finance": {"branches": ["legal", "legal"]}}, "/nodes/legal_and_finance/branches/1",
     '"legal" is listed twice'),
    ({"legal_and_finance": {"join": "half"}}, "/nodes/legal_and_finance/join",
     '"half" is not one of "all", "any"'),
    ({"approved": {"next": "manager"}}, "/nodes/approved/next",
     "unknown key 'next'; an end node takes label, outcome, actions"),
    ({"manager": {"nxet": "by_amount"}}, "/nodes/manager/nxet",
     "unknown key 'nxet' (did you mean 'next'?); an approval node takes label, approvers, mode, share,"
     " deadline, fields, next"),
    ({"approved": {"type": "ending"}}, "/nodes/approved/type",
     '"ending" is not one of "approval", "condition", "parallel", "cc", "action", "end"'
     " (did you mean 'end'?)"),
    ({"mark": {"type": "action", "actions": [], "next": "approved"}}, "/nodes/mark/actions",
     "an action node needs at least one action"),
    ({"Legal Review": {"type": "end"}}, "/nodes/Legal Review",
     "key 'Legal Review' is not valid: node names are lowercase identifiers: a letter a-z, then letters a-z,"
     " digits or _ (63 characters at most)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nodes", "path", "message"),
    NODE_MISTAKES,
    ids=lambda v: v if isinstance(v, str) and v.startswith("/") else "",
)
def test_node_mistakes_are_reported_at_their_place(nodes, path, message):
    assert problems(flow(nodes)) == {path: message}


@pytest.mark.parametrize(
    ("keys", "path", "message"),
    [
        ({"on_empty_approvers": "nobody"}, "/on_empty_approvers",
         '"nobody" is not one of "admin", "skip", "refuse"'),
        ({"on_reject": {"return_to": "manager"}}, "/on_reject/return_to",
         'a rejected record returns to the submitter: write "return_to": "submitter"'),
        ({"nodes": {}}, "/nodes", "must not be empty"),
        ({"lock_recrod": True}, "/lock_recrod", "unknown key 'lock_recrod' (did you mean 'lock_record'?)"),
    ],
)  # fmt: skip
def test_flow_key_mistakes_are_reported_at_their_place(keys, path, message):
    assert problems(flow(**keys)) == {path: message}


@pytest.mark.parametrize(
    ("nodes", "path", "message"),
    [
        ({"manager": {"approvers": [{"manager_of": "assignee"}]}}, "/nodes/manager/approvers/0/manager_of",
         '"assignee" is the approver whose time ran out, so it is only for a deadline\'s to; here write'
         ' "submitter"'),
        ({"legal": {"approvers": [{"field": "amount"}]}}, "/nodes/legal/approvers/0/field",
         "approver: needs a user field; 'amount' is a currency field"),
        ({"legal": {"approvers": [{"field": "signed_bye"}]}}, "/nodes/legal/approvers/0/field",
         "approver: object 'contract' has no field 'signed_bye' (did you mean 'signed_by'?)"),
        ({"legal": {"deadline": {"hours": 24, "then": "reassign", "to": {"field": "name"}}}},
         "/nodes/legal/deadline/to/field", "approver: needs a user field; 'name' is a text field"),
        ({"legal": {"type": "cc", "to": [{"field": "owner_name"}]}}, "/nodes/legal/to/0/field",
         "approver: object 'contract' has no field 'owner_name'"),
        ({"approved": {"actions": [{"type": "set_field", "field": "stauts", "value": "'approved'"}]}},
         "/nodes/approved/actions/0/field",
         "set_field: object 'contract' has no field 'stauts' (did you mean 'status'?)"),
        ({"manager": {"next": "mark"},
          "mark": {"type": "action", "next": "by_amount",
                   "actions": [{"type": "create_record", "object": "task", "values": {"subject": "name"}}]}},
         "/nodes/mark/actions/0/object",
         "create_record makes a record of object 'task', which is neither in this package nor installed"),
    ],
)  # fmt: skip
def test_names_of_fields_and_objects_are_checked_where_they_are(nodes, path, message):
    assert problems(flow(nodes)) == {path: message}


@pytest.mark.parametrize(
    ("keys", "path", "message"),
    [
        ({"record_status": {"field": "stauts", "running": "draft"}}, "/record_status/field",
         "object 'contract' has no field 'stauts' (did you mean 'status'?)"),
        ({"record_status": {"field": "amount", "running": "1"}}, "/record_status/field",
         "record_status needs a select or text field; 'amount' is a currency field"),
        ({"record_status": {"field": "status", "running": "pending", "approved": "approved"}},
         "/record_status/running", "'pending' is not an option of 'status'; its options are draft, approved"),
        ({"record_status": {"field": "status"}}, "/record_status",
         "record_status names a field and the value it takes in at least one state: running, approved,"
         " rejected or withdrawn"),
        ({"record_status": {"field": "status", "submitted": "draft"}}, "/record_status/submitted",
         "unknown key 'submitted'"),
        ({"summary_fields": ["customer", "amuont"]}, "/summary_fields/1",
         "summary field: object 'contract' has no field 'amuont' (did you mean 'amount'?)"),
        ({"summary_fields": ["Amount"]}, "/summary_fields/0", None),
    ],
)  # fmt: skip
def test_record_status_and_summary_fields_name_fields_of_the_object(keys, path, message):
    found = problems(flow(**keys))
    assert list(found) == [path]
    assert message is None or found[path] == message


def test_record_status_and_summary_fields_round_trip():
    doc = flow(
        record_status={"field": "status", "running": "draft", "approved": "approved"},
        summary_fields=["amount", "customer"],
    )
    assert problems(doc) == {}
    spec = FlowSpec.from_json(doc)
    assert spec.to_json()["record_status"] == {"field": "status", "running": "draft", "approved": "approved"}
    assert spec.to_json()["summary_fields"] == ["amount", "customer"]


def test_reject_actions_are_checked_like_a_rules():
    doc = flow(on_reject={"actions": [{"type": "set_field", "field": "code", "value": "'HT-1'"}]})

    assert problems(doc) == {
        "/on_reject/actions/0/field": "set_field: 'code' is a autonumber field; Loom gives its value,"
        " so a rule cannot set it"
    }


def test_the_bound_object_must_exist():
    assert problems(flow(object="contrct")) == {
        "/object": "flow 'contract_approval' is bound to object 'contrct', which is neither in this package"
        " nor installed (did you mean 'contract'?)"
    }


def test_a_flow_of_a_broken_object_is_reported_only_in_the_object():
    broken = {**CONTRACT, "label": "Contract"}
    doc = flow({"approved": {"actions": [{"type": "set_field", "field": "nope", "value": "1"}]}})

    result = validated(doc, objects=(CUSTOMER, broken))

    assert [(p.file, p.path) for p in result.problems] == [("objects/contract.json", "/label")]


def test_schema_problems_stop_the_semantic_checks_of_that_flow():
    doc = flow({"legal": {"next": "nowhere", "mode": "vote"}}, object="nothing")

    assert problems(doc) == {"/nodes/legal": VOTE_NEEDS_SHARE}


def test_file_must_be_named_after_the_flow():
    result = validated(files={"flows/approval.json": CONTRACT_APPROVAL})

    assert result.problems == [
        Problem(
            "flows/approval.json",
            "/name",
            "flow 'contract_approval' must be in a file named contract_approval.json",
        )
    ]


def test_a_flow_defined_in_two_files_is_reported_at_the_second():
    result = validated(CONTRACT_APPROVAL, files={"flows/zz_copy.json": CONTRACT_APPROVAL})

    assert [(p.file, p.message) for p in result.problems] == [
        ("flows/zz_copy.json", "flow 'contract_approval' must be in a file named contract_approval.json"),
        ("flows/zz_copy.json", "flow 'contract_approval' is already defined in flows/contract_approval.json"),
    ]


# Expressions, for the engine to check.


def test_flow_expressions_are_listed_with_their_pointers():
    doc = flow(
        {
            "manager": {"next": "mark"},
            "mark": {
                "type": "action",
                "actions": [
                    {
                        "type": "update_related",
                        "lookup": "customer",
                        "filter": "lifecycle == 'prospect'",
                        "values": {"lifecycle": "'customer'"},
                    }
                ],
                "next": "by_amount",
            },
        },
        submit_when="status == 'draft'",
        on_reject={"actions": [{"type": "notify", "to": "owner", "title": "'驳回'"}]},
    )

    sites = flow_expressions_in(FlowSpec.from_json(doc), KNOWN)

    def site(path: str, text: str, role: str, scope: str = "contract") -> ExpressionSite:
        return ExpressionSite(path, text, "contract", scope, role)  # type: ignore[arg-type]

    assert sites == [
        site("/submit_when", "status == 'draft'", "submit_when"),
        site("/nodes/by_amount/branches/0/when", "amount < 100000", "branch"),
        site("/nodes/approved/actions/0/value", "'approved'", "action"),
        site("/nodes/mark/actions/0/values/lifecycle", "'customer'", "action"),
        site("/nodes/mark/actions/0/filter", "lifecycle == 'prospect'", "related_filter", "customer"),
        site("/on_reject/actions/0/to", "owner", "action"),
        site("/on_reject/actions/0/title", "'驳回'", "action"),
    ]


# What an approval node lets its approvers edit and see, and what lock_record locks.


def test_field_permissions_and_a_field_lock_round_trip():
    doc = flow(
        {"legal": {"fields": {"editable": ["amount"], "hidden": ["signed_by", "customer"]}},
         "finance": {"fields": {"hidden": ["signed_by"]}}},
        lock_record={"fields": ["amount", "customer"]},
    )  # fmt: skip
    assert problems(doc) == {}
    spec = FlowSpec.from_json(doc)
    assert (spec.nodes["legal"].editable, spec.nodes["legal"].hidden) == (
        ("amount",),
        ("signed_by", "customer"),
    )
    assert spec.lock_record == ("amount", "customer")
    written = spec.to_json()
    assert written["nodes"]["legal"]["fields"] == {
        "editable": ["amount"],
        "hidden": ["signed_by", "customer"],
    }
    assert written["nodes"]["finance"]["fields"] == {"hidden": ["signed_by"]}
    assert written["lock_record"] == {"fields": ["amount", "customer"]}
    assert FlowSpec.from_json(written) == spec
    assert "lock_record" not in FlowSpec.from_json(flow()).to_json()
    assert FlowSpec.from_json(flow(lock_record=False)).to_json()["lock_record"] is False


@pytest.mark.parametrize(
    ("nodes", "keys", "path", "message"),
    [
        ({"legal": {"fields": {"editable": ["amount", "amuont"]}}}, {}, "/nodes/legal/fields/editable/1",
         "editable field: object 'contract' has no field 'amuont' (did you mean 'amount'?)"),
        ({"legal": {"fields": {"hidden": ["cost"]}}}, {}, "/nodes/legal/fields/hidden/0",
         "hidden field: object 'contract' has no field 'cost'"),
        ({"legal": {"fields": {"editable": ["amount"], "hidden": ["customer", "amount"]}}}, {},
         "/nodes/legal/fields/hidden/1",
         "'amount' is also editable: an approver cannot edit a field they do not see"),
        ({"legal": {"fields": {"editable": ["code"]}}}, {}, "/nodes/legal/fields/editable/0",
         "'code' is a autonumber field, which Loom computes: nobody can edit it, so it cannot be"
         " editable here"),
        ({"legal": {"fields": {"shown": ["amount"]}}}, {}, "/nodes/legal/fields/shown",
         "unknown key 'shown'"),
        ({"manager": {"type": "cc", "to": [{"role": "legal"}], "next": "by_amount",
                      "fields": {"hidden": ["amount"]}}}, {}, "/nodes/manager/fields", None),
        ({}, {"lock_record": {"fields": ["amount", "stauts"]}}, "/lock_record/fields/1",
         "locked field: object 'contract' has no field 'stauts' (did you mean 'status'?)"),
        ({}, {"lock_record": {"fields": []}}, "/lock_record/fields",
         'name at least one field to lock, or write "lock_record": false to lock nothing'),
        ({}, {"lock_record": {"field": ["amount"]}}, "/lock_record", None),
        ({}, {"lock_record": "amount"}, "/lock_record", None),
    ],
)  # fmt: skip
def test_field_permission_and_lock_mistakes_are_reported_at_their_place(nodes, keys, path, message):
    found = problems(flow(nodes, **keys))
    assert path in found, found
    assert message is None or found[path] == message
