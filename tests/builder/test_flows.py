"""The flow designer at /builder/flows: the layout of every shipped flow, checking with problems on the
steps they concern, drafts, publishing a new version, simulating a draft, and refusals of bad input."""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from builder_ui.flows_layout import insertion_points, lay_out, placed_nodes
from engine import Loom
from engine.store.drafts import get_draft
from metadata.flows import FlowSpec
from metadata.validation import validate_flow
from tests.runtime.pages_world import Team, csrf, text

ROOT = Path(__file__).resolve().parents[2]
GALLERY = [
    path for path in ROOT.glob("builder_ui/gallery/*.json") if json.loads(path.read_text())["kind"] == "flow"
]
SHIPPED = sorted(
    [*ROOT.glob("metadata/packages/crm/flows/*.json"), *ROOT.glob("examples/*/flows/*.json"), *GALLERY],
    key=lambda path: path.name,
)


def shipped(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text())
    doc = doc["document"] if path in GALLERY else doc  # a template holds the flow it starts
    doc.pop("$schema", None)
    return doc


def set_at(doc: dict[str, Any], parts: list[str | int], value: str) -> None:
    """What the page's script does to name a new node at a link."""
    here: Any = doc
    for part in parts[:-1]:
        here = here[part]
    here[parts[-1]] = value


def headers(client: FlaskClient) -> dict[str, str]:
    return {"X-CSRFToken": csrf(client, "/builder/")}


def post(client: FlaskClient, path: str, body: Any) -> TestResponse:
    return client.post(path, json=body, headers=headers(client))


def designer_data(client: FlaskClient, name: str) -> dict[str, Any]:
    page = text(client.get(f"/builder/flows/{name}"))
    found = re.search(r'<script type="application/json" id="fl-data">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))


def contract_flow(crm: Loom) -> dict[str, Any]:
    return crm.registry.flows["contract_approval"].to_json()


# -- the layout ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: f"{path.parent.name}-{path.stem}")
def test_every_shipped_flow_lays_out_with_each_node_once_and_round_trips(path: Path) -> None:
    doc = shipped(path)
    tree = lay_out(doc)
    placed = placed_nodes(tree)
    assert sorted(placed) == sorted(doc["nodes"]) and len(placed) == len(set(placed))
    assert not tree["detached"]
    assert FlowSpec.from_json(doc).to_json() == doc


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: f"{path.parent.name}-{path.stem}")
def test_a_cc_step_inserted_at_any_plus_keeps_the_shipped_flow_valid(path: Path, crm: Loom) -> None:
    doc = shipped(path)
    points = insertion_points(lay_out(doc))
    # An example package's flow is bound to its own object: only new problems count.
    before = validate_flow(doc, "flow.json", known_objects=crm.registry.specs()).problems
    assert len(points) >= len(doc["nodes"])
    for point in points:
        changed = copy.deepcopy(doc)
        new = {"type": "cc", "to": [{"manager_of": "submitter"}]}
        if point["target"]:
            new["next"] = point["target"]
        changed["nodes"]["inserted"] = new
        for parts in point["links"]:
            set_at(changed, parts, "inserted")
        result = validate_flow(changed, "flow.json", known_objects=crm.registry.specs())
        assert result.problems == before, (point, result.problems)
        assert "inserted" in placed_nodes(lay_out(changed))


def test_the_contract_flow_is_drawn_as_the_designer_shows_it(crm: Loom) -> None:
    tree = lay_out(contract_flow(crm))
    manager, by_amount = tree["chain"]["items"][:2]
    assert manager["name"] == "manager" and by_amount["kind"] == "condition"
    small, otherwise = by_amount["branches"]
    assert small["when"] == "amount < 100000" and small["items"] == []  # straight to the end
    parallel, large = otherwise["items"]
    assert [b["items"][0]["name"] for b in parallel["branches"]] == ["legal", "finance"]
    assert large["name"] == "large_contract" and large["after"]["target"] == "approved"
    # After the inner condition the "+" relinks both its ways to the end: the CEO's and the default.
    assert sorted(map(tuple, large["after"]["links"])) == [
        ("nodes", "ceo", "next"),
        ("nodes", "large_contract", "default"),
    ]
    assert tree["chain"]["items"][-1]["name"] == "approved"


def test_a_branch_that_jumps_elsewhere_and_an_unreached_node_still_show() -> None:
    doc = {
        "start": "a",
        "nodes": {
            "a": {"type": "approval", "approvers": [], "next": "c"},
            "c": {"type": "condition", "branches": [{"when": "x", "next": "a"}], "default": "end"},
            "lost": {"type": "cc", "to": [], "next": "end"},
            "end": {"type": "end"},
        },
    }
    tree = lay_out(doc)
    [branch, _default] = tree["chain"]["items"][1]["branches"]
    assert branch["items"] == [{"kind": "goto", "target": "a", "missing": False}]
    assert [item.get("name") for item in tree["detached"][0]["items"]] == ["lost", None]
    assert sorted(placed_nodes(tree)) == ["a", "c", "end", "lost"]


def test_branches_that_end_apart_close_the_chain() -> None:
    doc = {
        "start": "c",
        "nodes": {
            "c": {"type": "condition", "branches": [{"when": "x", "next": "yes"}], "default": "no"},
            "yes": {"type": "end"},
            "no": {"type": "end", "outcome": "rejected"},
        },
    }
    [block] = lay_out(doc)["chain"]["items"]
    assert block["after"] is None
    assert [b["items"][0]["name"] for b in block["branches"]] == ["yes", "no"]


def test_any_graph_lays_out_with_each_node_once() -> None:
    rng = random.Random(17)  # a fixed seed: the same graphs on every run
    kinds = ["approval", "cc", "action", "condition", "parallel", "end"]
    for _ in range(300):
        names = [f"n{i}" for i in range(rng.randint(1, 12))]
        targets = [*names, "missing"]
        nodes: dict[str, Any] = {}
        for name in names:
            kind = rng.choice(kinds)
            node: dict[str, Any] = {"type": kind}
            if kind == "condition":
                node["branches"] = [
                    {"when": "x", "next": rng.choice(targets)} for _ in range(rng.randint(0, 3))
                ]
                node["default"] = rng.choice(targets)
            elif kind == "parallel":
                node["branches"] = [rng.choice(targets) for _ in range(rng.randint(0, 3))]
            if kind != "end" and rng.random() < 0.8:
                node["next"] = rng.choice(targets)
            nodes[name] = node
        tree = lay_out({"start": rng.choice(targets), "nodes": nodes})
        placed = placed_nodes(tree)
        assert sorted(placed) == sorted(names), nodes


@pytest.mark.parametrize("doc", [None, [], {"nodes": 3}, {"start": 5, "nodes": {"a": "x", "b": {"type": 2}}}])
def test_a_malformed_document_lays_out_without_failing(doc: Any) -> None:
    lay_out(doc if isinstance(doc, dict) else {"nodes": doc})


# -- the pages ----------------------------------------------------------------------------------


def test_the_index_lists_the_flows_and_a_new_flow_starts_as_a_draft(team: Team) -> None:
    admin = team.client("guan.li")
    page = text(admin.get("/builder/flows/"))
    assert "合同审批" in page and "contract_approval" in page
    assert "/builder/gallery?kind=flow" in page
    assert "审批流" in text(admin.get("/builder/"))
    form = {
        "csrf_token": csrf(admin, "/builder/flows/"),
        "object": "contract",
        "label_zh": "框架合同审批",
        "name": "frame_contract",
    }
    response = admin.post("/builder/flows/", data=form)
    assert response.status_code == 302 and response.location.endswith("/builder/flows/frame_contract")
    with team.loom.read() as conn:
        draft = get_draft(conn, "flow", "frame_contract")
    assert draft is not None and draft.body["nodes"]["manager"]["approvers"] == [{"manager_of": "submitter"}]
    assert "frame_contract" not in team.loom.registry.flows  # a draft is not published
    index = text(admin.get("/builder/flows/"))
    assert "框架合同审批" in index and "草稿待发布" in index
    designer = text(admin.get("/builder/flows/frame_contract"))
    assert "流程设计" in designer and "框架合同审批" in designer
    again = admin.post("/builder/flows/", data=form)
    assert again.status_code == 422 and "已有名为 frame_contract 的审批流" in text(again)
    # Published as it was started, the new flow is installed and its draft gone.
    started = designer_data(admin, "frame_contract")["document"]
    published = post(admin, "/builder/flows/frame_contract/publish", {"document": started})
    assert published.status_code == 200, published.get_json()
    assert team.loom.registry.flows["frame_contract"].start == "manager"
    assert "草稿待发布" not in text(admin.get("/builder/flows/"))


def test_check_puts_each_problem_on_its_step(team: Team) -> None:
    admin = team.client("guan.li")
    doc = contract_flow(team.loom)
    doc["nodes"]["legal"]["approvers"] = []
    doc["nodes"]["orphan"] = {"type": "cc", "to": [{"role": "legal"}], "next": "approved"}
    response = post(admin, "/builder/flows/contract_approval/check", {"document": doc})
    assert response.status_code == 200
    view = response.get_json()
    assert set(view["problems"]) == {"legal", "orphan"} and not view["valid"]
    assert view["cards"]["manager"]["summary"] == "发起人的上级 · 或签"
    assert view["cards"]["ceo"]["summary"] == "角色 总经理 · 或签 · 48 小时未处理：催办"
    assert view["cards"]["legal"]["summary"] == "请选择审批人"
    assert [part["items"][0]["name"] for part in view["layout"]["detached"]] == ["orphan"]
    doc = contract_flow(team.loom)
    doc["nodes"]["by_amount"]["branches"][0]["when"] = "amout < 100000"
    view = post(admin, "/builder/flows/contract_approval/check", {"document": doc}).get_json()
    assert list(view["problems"]) == ["by_amount#0"]  # on the branch card
    assert "amout" in view["problems"]["by_amount#0"][0]
    doc = contract_flow(team.loom)  # valid but for an unknown field, found as installing would find it
    doc["submit_when"] = "no_such_field == 1"
    general = post(admin, "/builder/flows/contract_approval/check", {"document": doc}).get_json()["general"]
    assert [p["path"] for p in general] == ["/submit_when"]


def test_publishing_refuses_an_invalid_flow_and_keeps_the_published_one(team: Team) -> None:
    admin = team.client("guan.li")
    doc = contract_flow(team.loom)
    doc["nodes"]["ceo"]["approvers"] = []
    response = post(admin, "/builder/flows/contract_approval/publish", {"document": doc})
    assert response.status_code == 422
    assert list(response.get_json()["problems"]) == ["ceo"]
    assert team.loom.registry.flows["contract_approval"].nodes["ceo"].approvers


def test_a_draft_is_kept_then_published_as_a_new_version(team: Team) -> None:
    admin = team.client("guan.li")
    doc = contract_flow(team.loom)
    doc["nodes"]["large_contract"]["branches"][0]["when"] = "amount >= 500000"
    doc["nodes"]["ceo"]["approvers"] = []  # a draft may be invalid
    assert post(admin, "/builder/flows/contract_approval/draft", {"document": doc}).status_code == 200
    opened = designer_data(admin, "contract_approval")["document"]  # the designer opens the draft
    assert opened["nodes"]["large_contract"]["branches"][0]["when"] == "amount >= 500000"
    assert team.loom.registry.flows["contract_approval"].nodes["ceo"].approvers  # published one unchanged
    doc["nodes"]["ceo"]["approvers"] = [{"role": "ceo"}]
    published = post(admin, "/builder/flows/contract_approval/publish", {"document": doc})
    assert published.status_code == 200, published.get_json()
    flow = team.loom.registry.flows["contract_approval"]
    assert flow.nodes["large_contract"].branches[0].when == "amount >= 500000"
    with team.loom.read() as conn:
        assert get_draft(conn, "flow", "contract_approval") is None


def test_simulating_a_draft_on_a_contract_shows_the_path_and_writes_nothing(team: Team) -> None:
    admin = team.client("guan.li")
    customer = team.customer("苏州精工机械有限公司")
    contract = team.loom.records(team.actor("wang.fang")).create(
        "contract", {"name": "设备采购合同", "customer": customer["id"], "amount": "600000"}
    )
    records = admin.get("/builder/flows/contract_approval/records?q=设备").get_json()["records"]
    assert [r["id"] for r in records] == [contract["id"]]
    by_id = admin.get(f"/builder/flows/contract_approval/records?q=%23{contract['id']}").get_json()["records"]
    assert by_id[0] == {"id": contract["id"], "title": "设备采购合同", "detail": ""}
    assert admin.get("/builder/flows/contract_approval/records?q=99999999999999999999").status_code == 200
    doc = contract_flow(team.loom)
    doc["nodes"]["large_contract"]["branches"][0]["when"] = "amount >= 500000"
    body = {"document": doc, "record_id": contract["id"], "submitter": "wang.fang"}
    response = post(admin, "/builder/flows/contract_approval/simulate", body)
    assert response.status_code == 200, response.get_json()
    path = response.get_json()["path"]
    assert [step["node"] for step in path][-2:] == ["ceo", "approved"]
    assert path[0] == {"node": "manager", "approvers": ["张经理"]}
    assert team.loom.records().get("contract", contract["id"])["status"] == "draft"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"record_id": 999999, "submitter": "wang.fang"}, 422),
        ({"record_id": "x", "submitter": "wang.fang"}, 400),
        ({"record_id": 1, "submitter": "nobody"}, 400),
        ({"record_id": True, "submitter": "wang.fang"}, 400),
    ],
)
def test_simulating_with_a_bad_record_or_submitter_is_refused(team: Team, body: dict, status: int) -> None:
    admin = team.client("guan.li")
    body = {"document": contract_flow(team.loom), **body}
    response = post(admin, "/builder/flows/contract_approval/simulate", body)
    assert response.status_code == status and response.get_json()["error"]


def test_bad_input_is_refused_never_a_server_error(team: Team) -> None:
    admin = team.client("guan.li")
    base = "/builder/flows/contract_approval"
    assert admin.get("/builder/flows/no_such_flow").status_code == 404
    assert admin.get("/builder/flows/BAD%20NAME").status_code == 404
    assert post(admin, "/builder/flows/no_such_flow/check", {"document": {}}).status_code == 404
    bad_json = admin.post(
        f"{base}/check", data="{nope", headers={**headers(admin), "Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400
    assert post(admin, f"{base}/check", {"document": [1]}).status_code == 400
    huge = {"document": {"nodes": {f"n{i}": {"type": "cc", "to": ["x" * 100]} for i in range(3000)}}}
    assert post(admin, f"{base}/check", huge).status_code == 400
    weird = {"document": {"object": 5, "start": [], "nodes": {"a": {"type": "approval", "approvers": "x"}}}}
    response = post(admin, f"{base}/check", weird)
    assert response.status_code == 200 and not response.get_json()["valid"]
    assert post(admin, f"{base}/publish", weird).status_code == 422
    deep = '{"document": ' + "[" * 50000 + "]" * 50000 + "}"
    sent = admin.post(
        f"{base}/check", data=deep, headers={**headers(admin), "Content-Type": "application/json"}
    )
    assert sent.status_code == 400
    nested = contract_flow(team.loom)  # conditions nested in conditions, as deep as a flow may be long
    for i in range(190):
        nested["nodes"][f"c{i}"] = {
            "type": "condition",
            "branches": [{"when": "amount > 1", "next": f"c{i + 1}"}],
            "default": "approved",
        }
    nested["nodes"]["c190"] = {"type": "end"}
    nested["nodes"]["manager"]["next"] = "c0"
    assert post(admin, f"{base}/check", {"document": nested}).status_code == 200
    not_a_step = {"document": {**contract_flow(team.loom), "nodes": {"manager": "x"}}}
    general = post(admin, f"{base}/check", not_a_step).get_json()["general"]
    assert "/nodes/manager" in [problem["path"] for problem in general]  # no card to show it on
    assert post(admin, f"{base}/expression", {"text": "amount * 2"}).get_json()["ok"]
    assert not post(admin, f"{base}/expression", {"text": "nope +"}).get_json()["ok"]


def test_only_administrators_and_only_with_the_csrf_token(team: Team) -> None:
    rep = team.client("wang.fang")
    assert rep.get("/builder/flows/").status_code == 403
    assert rep.get("/builder/flows/contract_approval").status_code == 403
    admin = team.client("guan.li")
    doc = {"document": contract_flow(team.loom)}
    assert admin.post("/builder/flows/contract_approval/publish", json=doc).status_code == 400
    assert admin.post("/builder/flows/contract_approval/draft", json=doc).status_code == 400


def test_the_designer_page_carries_the_document_and_the_org(team: Team) -> None:
    admin = team.client("guan.li")
    data = designer_data(admin, "contract_approval")
    assert data["document"]["name"] == "contract_approval"
    assert {"value": "legal", "label": "法务"} in data["catalogue"]["roles"]
    assert any(user["label"] == "张经理" for user in data["catalogue"]["users"])
    assert any(field["name"] == "amount" for field in data["catalogue"]["fields"])


def test_field_permissions_and_a_lock_on_listed_fields_are_published_as_the_panel_writes_them(
    team: Team,
) -> None:
    admin = team.client("guan.li")
    doc = contract_flow(team.loom)
    doc["nodes"]["legal"]["fields"] = {"editable": ["amount"], "hidden": ["cost_price"]}
    doc["lock_record"] = {"fields": ["amount", "customer"]}
    doc["on_reject"] = {
        "return_to": "submitter",
        "actions": [{"type": "set_field", "field": "status", "value": "'draft'"}],
    }
    response = post(admin, "/builder/flows/contract_approval/publish", {"document": doc})
    assert response.status_code == 200, response.get_json()
    published = team.loom.registry.flows["contract_approval"].to_json()
    assert published["nodes"]["legal"]["fields"] == {"editable": ["amount"], "hidden": ["cost_price"]}
    assert published["lock_record"] == {"fields": ["amount", "customer"]}
    versions = admin.get("/builder/flows/contract_approval/versions").get_json()["versions"]
    assert [v["current"] for v in versions] == [True, False]
    assert versions[0]["by"] == "管理员"


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"name": "Bad Name"}, "标识为小写"),
        ({"name": "x" * 5000}, "标识为小写"),
        ({"object": "no_such_object"}, "请选择审批流所审批记录的对象"),
        ({"label_zh": "  "}, "请填写审批流的中文名称"),
        ({"name": "contract_approval"}, "已有名为 contract_approval 的审批流"),
    ],
)
def test_a_new_flow_is_refused_with_the_reason(team: Team, fields: dict[str, str], said: str) -> None:
    admin = team.client("guan.li")
    form = {
        "csrf_token": csrf(admin, "/builder/flows/"),
        "object": "contract",
        "label_zh": "审批",
        "name": "ok",
    }
    response = admin.post("/builder/flows/", data={**form, **fields})
    assert response.status_code == 422 and said in text(response)


def test_the_designer_speaks_english_to_an_english_page(team: Team) -> None:
    admin = team.client("guan.li", locale="en")
    assert "New approval flow" in text(admin.get("/builder/flows/"))
    texts = designer_data(admin, "contract_approval")["texts"]
    assert texts["add_condition"] == "Condition branches" and texts["start"] == "Submitter"
    view = post(
        admin, "/builder/flows/contract_approval/check", {"document": contract_flow(team.loom)}
    ).get_json()
    assert view["cards"]["manager"]["summary"] == "Manager of the submitter · Any one approves"
    assert view["cards"]["manager"]["title"] == "Sales manager"


def test_discarding_the_draft_goes_back_to_the_published_flow(team: Team) -> None:
    admin = team.client("guan.li")
    doc = contract_flow(team.loom)
    doc["nodes"]["ceo"]["approvers"] = []
    post(admin, "/builder/flows/contract_approval/draft", {"document": doc})
    page = text(admin.get("/builder/flows/contract_approval"))
    assert "放弃草稿" in page
    token = {"csrf_token": csrf(admin, "/builder/flows/contract_approval")}
    response = admin.post("/builder/flows/contract_approval/draft/discard", data=token)
    assert response.status_code == 303 and response.location.endswith("/builder/flows/contract_approval")
    opened = designer_data(admin, "contract_approval")["document"]
    assert opened["nodes"]["ceo"]["approvers"] == [{"role": "ceo"}]
    assert "放弃草稿" not in text(admin.get("/builder/flows/contract_approval"))
    again = admin.post("/builder/flows/contract_approval/draft/discard", data=token)
    assert again.status_code == 404
