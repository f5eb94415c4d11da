"""The object designer over HTTP: the plan is shown first, then applied; reps see the change at once."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from engine.store.documents import get_document
from tests.runtime.pages_world import Team, csrf, text, token_in

SEGMENT = {
    "name": "segment",
    "type": "select",
    "label": {"zh_CN": "行业细分", "en": "Segment"},
    "required": True,
    "options": [
        {"value": "smb", "label": {"zh_CN": "中小企业", "en": "SMB"}, "color": "#16a34a"},
        {"value": "mid", "label": {"zh_CN": "中型企业", "en": "Mid-market"}, "color": "#0ea5e9"},
        {"value": "ent", "label": {"zh_CN": "大型企业", "en": "Enterprise"}, "color": "#dc2626"},
    ],
}


def stored(team: Team, name: str) -> dict[str, Any]:
    with team.loom.read() as conn:
        return json.loads(json.dumps(get_document(conn, "object", name).body))


def plan(client: FlaskClient, path: str, doc: dict[str, Any], grants: tuple[str, ...] = ()) -> Any:
    data = {
        "csrf_token": csrf(client, path),
        "document": json.dumps(doc),
        "action": "plan",
        "grant": list(grants),
    }
    return client.post(path, data=data)


def confirm(client: FlaskClient, path: str, page: str) -> Any:
    """Press 确认应用 on a plan page: post back exactly what the plan's form holds."""
    form = re.search(r'<form method="post" class="od-confirm">(.*?)</form>', page, re.S).group(1)
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(html.unescape(value))
    fields["action"] = ["apply"]
    fields["csrf_token"] = [token_in(page)]
    return client.post(path, data=fields)


def plan_lines(page: str) -> list[str]:
    return [html.unescape(line) for line in re.findall(r"<code>([^<]*)</code></li>", page)]


def test_the_designer_lists_objects_and_shows_every_field_type_in_the_palette(team: Team) -> None:
    admin = team.client("guan.li")
    listing = text(admin.get("/builder/objects"))
    assert "客户" in listing and 'href="/builder/objects/customer"' in listing and "新建对象" in listing
    page = text(admin.get("/builder/objects/customer"))
    for kind in ("select", "lookup", "formula", "rollup", "attachment"):
        assert f'data-add="{kind}"' in page
    assert "单选" in page and "公式" in page
    assert "行业细分" not in page


def test_a_required_select_is_planned_then_applied_and_a_rep_cannot_save_without_it(team: Team) -> None:
    admin = team.client("guan.li")
    doc = stored(team, "customer")
    doc["fields"].append(SEGMENT)
    shown = plan(admin, "/builder/objects/customer", doc)
    page = text(shown)
    assert shown.status_code == 200
    assert any("新增列 obj_customer：segment（select）" in line for line in plan_lines(page))
    assert "确认应用" in page
    assert "segment" not in {f["name"] for f in stored(team, "customer")["fields"]}, "a plan changes nothing"

    applied = confirm(admin, "/builder/objects/customer", page)
    assert applied.status_code == 302
    assert "segment" in {f["name"] for f in stored(team, "customer")["fields"]}

    rep = team.client("wang.fang")
    form = text(rep.get("/app/customer/new"))
    assert "行业细分" in form and "中小企业" in form and "大型企业" in form
    token = token_in(form)
    refused = rep.post("/app/customer/new", data={"csrf_token": token, "name": "杭州星河科技有限公司"})
    assert refused.status_code in (200, 422)
    assert "行业细分" in text(refused)
    assert not team.loom.queries().find("customer", filter="name == '杭州星河科技有限公司'").records
    saved = rep.post(
        "/app/customer/new", data={"csrf_token": token, "name": "杭州星河科技有限公司", "segment": "mid"}
    )
    assert saved.status_code == 302
    [record] = team.loom.queries().find("customer", filter="name == '杭州星河科技有限公司'").records
    assert record["segment"] == "mid"


def test_a_plan_made_before_another_change_is_not_applied(team: Team) -> None:
    admin = team.client("guan.li")
    doc = stored(team, "customer")
    doc["fields"].append(SEGMENT)
    page = text(plan(admin, "/builder/objects/customer", doc))
    tampered = page.replace('name="fingerprint" value="', 'name="fingerprint" value="0')
    refused = confirm(admin, "/builder/objects/customer", tampered)
    assert refused.status_code == 409
    assert "segment" not in {f["name"] for f in stored(team, "customer")["fields"]}


@pytest.mark.both_databases("the new table is made by DDL of each database")
def test_a_new_object_is_created_granted_to_reps_and_appears_in_their_navigation(team: Team) -> None:
    admin = team.client("guan.li")
    doc = {
        "name": "",
        "label": {"zh_CN": "竞争对手", "en": "Competitor"},
        "nav_order": 200,
        "title_field": "name",
        "fields": [
            {"name": "name", "type": "text", "label": {"zh_CN": "名称", "en": "Name"}, "required": True},
            {"name": "website", "type": "url", "label": {"zh_CN": "网站", "en": "Website"}},
            {
                "name": "threat",
                "type": "select",
                "label": {"zh_CN": "威胁程度", "en": "Threat"},
                "options": [
                    {"value": "high", "label": {"zh_CN": "高", "en": "High"}},
                    {"value": "low", "label": {"zh_CN": "低", "en": "Low"}},
                ],
            },
            {"name": "strengths", "type": "long_text", "label": {"zh_CN": "优势", "en": "Strengths"}},
        ],
    }
    page = text(plan(admin, "/builder/objects/new", doc, grants=("sales_rep",)))
    lines = plan_lines(page)
    assert "+ 新增对象 competitor" in lines and "~ 修改角色 sales_rep（1 处变更）" in lines
    assert any(line.startswith("+ 新建数据表 obj_competitor") for line in lines)
    applied = confirm(admin, "/builder/objects/new", page)
    assert applied.status_code == 302 and applied.headers["Location"].endswith("/builder/objects/competitor")

    rep = team.client("wang.fang")
    assert 'href="/app/competitor"' in text(rep.get("/"))
    form = text(rep.get("/app/competitor/new"))
    saved = rep.post(
        "/app/competitor/new", data={"csrf_token": token_in(form), "name": "某某软件", "threat": "high"}
    )
    assert saved.status_code == 302
    assert team.loom.queries().find("competitor").records[0]["name"] == "某某软件"
    assert "/app/competitor" not in text(team.client("zhao.caiwu").get("/")), "finance was not granted it"


def test_removing_a_field_with_data_is_marked_destructive_and_its_data_count_is_shown(team: Team) -> None:
    team.customer("甲公司", short_name="甲")
    team.customer("乙公司", short_name="乙")
    admin = team.client("guan.li")
    before = stored(team, "customer")
    doc = stored(team, "customer")
    doc["fields"] = [f for f in doc["fields"] if f["name"] != "short_name"]
    page = text(plan(admin, "/builder/objects/customer", doc))
    destructive = re.findall(r'<li class="od-destructive">.*?<code>([^<]*)</code>', page)
    assert destructive == ["! 归档列 obj_customer：short_name（字段已移除；数据保留，可恢复）"]
    assert "破坏性" in page and "我已了解破坏性步骤" in page
    assert confirm(admin, "/builder/objects/customer", page).status_code == 302
    designer = text(admin.get("/builder/objects/customer"))
    assert "已归档的字段" in designer and "2 条记录有数据" in designer
    assert "short_name" not in team.loom.queries().find("customer").records[0]

    # Restoring: the field comes back with the same type, and its data with it.
    restored = stored(team, "customer")
    restored["fields"].append(next(f for f in before["fields"] if f["name"] == "short_name"))
    page = text(plan(admin, "/builder/objects/customer", restored))
    assert any(line.startswith("~ 恢复归档列及其数据 obj_customer：short_name") for line in plan_lines(page))
    assert confirm(admin, "/builder/objects/customer", page).status_code == 302
    values = {r["name"]: r["short_name"] for r in team.loom.queries().find("customer").records}
    assert values == {"甲公司": "甲", "乙公司": "乙"}
    assert "已归档的字段" not in text(admin.get("/builder/objects/customer"))


@pytest.mark.both_databases("a type change is checked by SQL of each database")
def test_a_type_change_blocked_by_values_names_both_records_and_changes_nothing(team: Team) -> None:
    first = team.customer("甲公司", city="一百")
    team.customer("乙公司", city="42")
    third = team.customer("丙公司", city="N/A")
    admin = team.client("guan.li")
    doc = stored(team, "customer")
    for item in doc["fields"]:
        if item["name"] == "city":
            item["type"] = "integer"
            item.pop("max_length", None)
    shown = plan(admin, "/builder/objects/customer", doc)
    page = text(shown)
    assert shown.status_code == 422
    assert "2 条记录" in page and "确认应用" not in page
    blocking = re.findall(r'<ul class="od-blocking">(.*?)</ul>', page, re.S)[0]
    assert f"#{first['id']} 甲公司" in blocking and f"#{third['id']} 丙公司" in blocking
    assert "乙公司" not in blocking
    city = next(f for f in stored(team, "customer")["fields"] if f["name"] == "city")
    assert city["type"] == "text"


def test_problems_are_shown_against_the_field_and_nothing_changes(team: Team) -> None:
    admin = team.client("guan.li")
    doc = stored(team, "customer")
    doc["fields"].append({"name": "bad", "type": "integer", "label": {"zh_CN": "坏默认值"}, "default": "1 +"})
    shown = plan(admin, "/builder/objects/customer", doc)
    assert shown.status_code == 422
    assert "字段 坏默认值：" in text(shown)
    assert "bad" not in {f["name"] for f in stored(team, "customer")["fields"]}


def test_the_live_check_returns_expression_problems_by_path(team: Team) -> None:
    admin = team.client("guan.li")
    doc = stored(team, "customer")
    doc["fields"].append({"name": "calc", "type": "formula", "result": "integer", "expression": "nosuch + 1"})
    token = csrf(admin, "/builder/objects/customer")
    answer = admin.post("/builder/objects/check", json={"document": doc}, headers={"X-CSRFToken": token})
    assert answer.status_code == 200
    index = len(doc["fields"]) - 1
    problems = answer.get_json()["problems"]
    assert any(path.startswith(f"/fields/{index}") for path in problems), problems
    assert answer.get_json()["preview"] is None


def test_the_live_check_previews_a_formula_on_the_newest_record(team: Team) -> None:
    team.customer("甲公司", short_name="甲")
    newest = team.customer("乙公司", short_name="乙")
    admin = team.client("guan.li")
    doc = stored(team, "customer")
    formula = {"name": "calc", "type": "formula", "result": "text", "expression": "name + '/' + short_name"}
    doc["fields"].append(formula)
    token = csrf(admin, "/builder/objects/customer")
    body = {"document": doc, "field": len(doc["fields"]) - 1}
    answer = admin.post("/builder/objects/check", json=body, headers={"X-CSRFToken": token}).get_json()
    assert answer["problems"] == {}
    assert answer["preview"] == {"record": newest["id"], "title": "乙公司", "value": "乙公司/乙"}


def test_the_live_check_passes_a_good_document(team: Team) -> None:
    admin = team.client("guan.li")
    token = csrf(admin, "/builder/objects/customer")
    good = admin.post(
        "/builder/objects/check", json={"document": stored(team, "customer")}, headers={"X-CSRFToken": token}
    )
    assert good.get_json()["problems"] == {}


def test_bad_drafts_get_a_clear_answer_never_a_server_error(team: Team) -> None:
    admin = team.client("guan.li")
    token = csrf(admin, "/builder/objects/customer")
    for body in ("not json", "[1, 2]", "{}", '{"fields": "x"}'):
        answer = admin.post(
            "/builder/objects/customer", data={"csrf_token": token, "document": body, "action": "plan"}
        )
        assert answer.status_code in (400, 422), body
    assert admin.post("/builder/objects/check", data="x", headers={"X-CSRFToken": token}).status_code == 400
    assert admin.get("/builder/objects/nosuch").status_code == 404
    assert team.client("wang.fang").get("/builder/objects/customer").status_code == 403


def related_data(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="od-related">(.*?)</script>', page, re.S)
    return {item["name"]: item for item in json.loads(found.group(1))}


def test_the_roll_up_source_form_is_offered_each_objects_lookups_and_aggregatable_fields(team: Team) -> None:
    page = text(team.client("guan.li").get("/builder/objects/customer"))
    assert "汇总来源（JSON）" not in page and "Roll-up source (JSON)" not in page
    related = related_data(page)
    contract = related["contract"]
    assert {"name": "customer", "label": "客户", "target": "customer"} in contract["lookups"]
    kinds = {f["name"]: f["kind"] for f in contract["fields"]}
    assert kinds["amount"] == "number" and kinds["signed_at"] == "date"
    assert "name" not in kinds and "status" not in kinds, "text and choices cannot be summed"


def test_a_roll_up_filter_is_checked_live_at_its_own_path(team: Team) -> None:
    admin = team.client("guan.li")
    doc = stored(team, "customer")
    source = {"object": "contract", "via": "customer", "function": "count", "filter": "nosuch == 'active'"}
    doc["fields"].append({"name": "active_contracts", "type": "rollup", "source": source})
    token = csrf(admin, "/builder/objects/customer")
    answer = admin.post("/builder/objects/check", json={"document": doc}, headers={"X-CSRFToken": token})
    index = len(doc["fields"]) - 1
    assert list(answer.get_json()["problems"]) == [f"/fields/{index}/source/filter"]
    source["filter"] = "status == 'active'"
    answer = admin.post("/builder/objects/check", json={"document": doc}, headers={"X-CSRFToken": token})
    assert answer.get_json()["problems"] == {}


def test_a_roll_up_made_by_the_form_is_stored_as_a_package_writes_it_and_counts(team: Team) -> None:
    customer = team.customer("杭州星河科技有限公司")
    records = team.loom.records()
    for name, status in (("一号合同", "active"), ("二号合同", "draft")):
        values = {"name": name, "customer": customer["id"], "amount": "1000", "status": status}
        records.create("contract", {**values, "owner": team.ids["wang.fang"]})
    admin = team.client("guan.li")
    doc = stored(team, "customer")
    source = {"object": "contract", "via": "customer", "function": "count", "filter": "status == 'active'"}
    label = {"zh_CN": "生效合同数", "en": "Active contracts"}
    doc["fields"].append({"name": "active_contracts", "type": "rollup", "label": label, "source": source})
    page = text(plan(admin, "/builder/objects/customer", doc))
    assert confirm(admin, "/builder/objects/customer", page).status_code == 302
    [added] = [f for f in stored(team, "customer")["fields"] if f["name"] == "active_contracts"]
    assert added["source"] == source
    detail = text(admin.get(f"/app/customer/{customer['id']}"))
    assert re.search(r"<dt>生效合同数</dt><dd>\s*1\s*</dd>", detail), "the active contract, not the draft"


# Two or more English words in a row: a sentence, where names and types are single words.
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,;:()'\"]+[A-Za-z]{2,})+")


def plan_section(page: str) -> str:
    section = re.search(r'<section class="od-plan".*?</section>', page, re.S).group(0)
    return html.unescape(re.sub(r"<[^>]+>", " ", section))


def test_a_chinese_admin_reads_the_plan_and_the_problems_in_chinese(team: Team) -> None:
    team.customer("甲公司", short_name="甲")
    admin = team.client("guan.li")
    doc = stored(team, "customer")
    doc["fields"] = [f for f in doc["fields"] if f["name"] != "short_name"] + [SEGMENT]
    shown = plan_section(text(plan(admin, "/builder/objects/customer", doc)))
    assert "! 归档列 obj_customer：short_name（字段已移除；数据保留，可恢复）" in shown
    assert "+ 新增列 obj_customer：segment（select）" in shown
    assert "~ 修改对象 customer（" in shown
    assert ENGLISH.findall(shown) == []

    doc = stored(team, "customer")
    doc["fields"] += [
        {"name": "calc", "type": "formula", "result": "integer", "expression": "nosuch + 1"},
        {"name": "BadName", "type": "text"},
        {"name": "total", "type": "rollup", "required": True, "source": {"object": "contract", "via": "x"}},
    ]
    refused = plan(admin, "/builder/objects/customer", doc)
    assert refused.status_code == 422
    shown = plan_section(text(refused))
    assert "无效：名称须以小写字母 a-z 开头" in shown and "汇总字段由相关记录计算得出，不能设为必填" in shown
    assert ENGLISH.findall(shown) == []

    doc["fields"] = doc["fields"][:-2]
    token = csrf(admin, "/builder/objects/customer")
    answer = admin.post("/builder/objects/check", json={"document": doc}, headers={"X-CSRFToken": token})
    [said] = answer.get_json()["problems"][f"/fields/{len(doc['fields']) - 1}/expression"]
    assert said == "没有字段 'nosuch'（表达式 'nosuch + 1'）"

    english = team.client("guan.li", locale="en")
    page = text(plan(english, "/builder/objects/customer", doc))
    assert "unknown field 'nosuch' in 'nosuch + 1'" in html.unescape(page)
