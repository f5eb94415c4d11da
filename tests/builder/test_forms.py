"""The form designer and the list settings at /builder/forms and /builder/lists, over HTTP."""

from __future__ import annotations

import json
import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine import SYSTEM, Loom
from engine.schema.changes import apply_objects
from engine.store.documents import get_document
from metadata.validation import validate_object
from tests.runtime.pages_world import Team, csrf, text


def headers(client: FlaskClient) -> dict[str, str]:
    return {"X-CSRFToken": csrf(client, "/builder/")}


def designer_document(client: FlaskClient, object_name: str) -> dict[str, Any]:
    page = text(client.get(f"/builder/forms/{object_name}"))
    data = re.search(r'<script type="application/json" id="fd-data">(.*?)</script>', page, re.S)
    assert data is not None
    return json.loads(data.group(1))["document"]


def save_form(client: FlaskClient, object_name: str, document: dict[str, Any]) -> TestResponse:
    return client.post(f"/builder/forms/{object_name}", json={"document": document}, headers=headers(client))


def first_section(page: str) -> str:
    start = page.index('<fieldset class="card form-section"')
    return page[start : page.index("</fieldset>", start)]


def field_block(page: str, name: str) -> str:
    start = page.index(f'data-field="{name}"')
    return page[start : page.index(">", start)]


def menu(client: FlaskClient) -> list[str]:
    """The objects in the menu's records group, top to bottom."""
    page = text(client.get("/"))
    records = page[page.index("nav-heading", page.index("<nav")) :]
    return re.findall(r'href="/app/(\w+)"', records[: records.index("</ul>")])


def add_object(loom: Loom, doc: dict[str, Any]) -> None:
    result = validate_object(doc, f"objects/{doc['name']}.json", known_objects=loom.registry.specs())
    assert not result.problems, result.problems
    apply_objects(loom, list(result.objects), actor=SYSTEM)


def test_a_new_field_moved_into_the_first_section_shows_there_on_the_create_form(team: Team) -> None:
    customer = team.loom.registry.specs()["customer"].to_json()
    wechat = {"name": "wechat", "type": "text", "label": {"zh_CN": "微信号", "en": "WeChat"}}
    customer["fields"].append(wechat)
    add_object(team.loom, customer)
    admin = team.client("guan.li")
    assert 'data-field="wechat"' not in first_section(text(admin.get("/app/customer/new")))

    document = designer_document(admin, "customer")
    document["sections"][0]["fields"].insert(1, "wechat")
    saved = save_form(admin, "customer", document)

    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["changes"] == ["~ form customer (1 change(s))"]
    section = first_section(text(admin.get("/app/customer/new")))
    places = [section.index(f'data-field="{name}"') for name in ("code", "wechat", "name")]
    assert places == sorted(places)
    assert "微信号" in section


def test_a_built_condition_is_saved_as_its_expression_and_hides_the_field(team: Team) -> None:
    admin = team.client("guan.li")
    document = designer_document(admin, "customer")
    fields = document["sections"][0]["fields"]
    index = fields.index("short_name")
    # What the condition builder sends for the row "级别 等于 VIP".
    fields[index] = {"field": "short_name", "visible_if": "level == 'vip'"}
    assert save_form(admin, "customer", document).status_code == 200

    with team.loom.read() as conn:
        stored = get_document(conn, "form", "customer").body
    assert {"field": "short_name", "visible_if": "level == 'vip'"} in stored["sections"][0]["fields"]
    assert "hidden" in field_block(text(admin.get("/app/customer/new")), "short_name")
    rep = team.client("wang.fang")
    state = rep.post(
        "/app/customer/form-state", json={"values": {"level": "vip"}}, headers={"X-CSRFToken": csrf(rep)}
    ).get_json()
    assert state["fields"]["short_name"]["visible"] is True


def test_an_invalid_raw_condition_is_refused_with_its_path_and_nothing_changes(team: Team) -> None:
    admin = team.client("guan.li")
    document = designer_document(admin, "customer")
    document["sections"][1]["fields"][0] = {"field": "contact_name", "required_if": "levle == 'vip'"}

    refused = save_form(admin, "customer", document)

    assert refused.status_code == 422
    messages = refused.get_json()["fields"]["/sections/1/fields/0/required_if"]
    assert any("levle" in message for message in messages)
    with team.loom.read() as conn:
        assert "levle" not in str(get_document(conn, "form", "customer").body)


def test_the_condition_check_answers_as_the_engine_checks_conditions(team: Team) -> None:
    admin = team.client("guan.li")
    check = "/builder/forms/customer/check"
    good = admin.post(check, json={"text": "level == 'vip' and not in_pool"}, headers=headers(admin))
    bad = admin.post(check, json={"text": "levle == 'vip'"}, headers=headers(admin)).get_json()
    not_a_condition = admin.post(check, json={"text": "annual_purchase + 1"}, headers=headers(admin))
    assert good.get_json() == {"ok": True, "problems": []}
    assert bad["ok"] is False and "levle" in bad["problems"][0]
    assert not_a_condition.get_json()["ok"] is False
    assert admin.post(check, data="nonsense", headers=headers(admin)).get_json()["ok"] is False


def test_the_preview_evaluates_the_unsaved_draft_for_sample_values(team: Team) -> None:
    admin = team.client("guan.li")
    document = designer_document(admin, "customer")
    document["sections"][0]["fields"][1] = {"field": "name", "readonly_if": "level == 'vip'"}
    preview = "/builder/forms/customer/preview"
    sent = headers(admin)
    vip = admin.post(preview, json={"document": document, "values": {"level": "vip"}}, headers=sent)
    lost = admin.post(preview, json={"document": document, "values": {"lifecycle": "lost"}}, headers=sent)
    assert vip.get_json()["fields"]["name"]["readonly"] is True
    assert lost.get_json()["fields"]["name"]["readonly"] is False
    assert lost.get_json()["sections"][3] is True and vip.get_json()["sections"][3] is False
    assert lost.get_json()["fields"]["lost_reason"]["required"] is True
    half_made = admin.post(preview, json={"document": {"object": "customer"}}, headers=sent)
    assert half_made.status_code == 200 and "/sections" in half_made.get_json()["problems"]
    document["sections"].insert(1, {"label": {}, "fields": []})
    with_empty = admin.post(
        preview, json={"document": document, "values": {"lifecycle": "lost"}}, headers=sent
    )
    assert with_empty.get_json()["sections"][4] is True and with_empty.get_json()["sections"][1] is True


def test_chosen_list_columns_sort_and_board_field_are_what_the_pages_use(team: Team) -> None:
    records = team.loom.records()
    for name, amount in (("甲公司", 100), ("乙公司", 300), ("丙公司", 200)):
        records.create("customer", {"name": name, "annual_purchase": amount, "owner": team.ids["wang.fang"]})
    admin = team.client("guan.li")
    form = {
        "csrf_token": csrf(admin, "/builder/lists/customer"),
        "columns": ["name", "annual_purchase", "level"],
        "sort_field": "annual_purchase",
        "sort_direction": "desc",
        "page_size": "20",
        "kanban_group_by": "level",
        "nav_order": "",
    }
    saved = admin.post("/builder/lists/customer", data=form)
    assert saved.status_code == 302

    page = text(admin.get("/app/customer"))
    head = page[page.index("<thead>") : page.index("</thead>")]
    assert re.findall(r">(客户名称|年采购额|客户级别|客户编号)", head) == ["客户名称", "年采购额", "客户级别"]
    assert 'aria-sort="descending"' in head
    body = page[page.index("<tbody>") :]
    assert body.index("乙公司") < body.index("丙公司") < body.index("甲公司")
    with team.loom.read() as conn:
        listing = get_document(conn, "object", "customer").body["list"]
    assert listing["columns"] == ["name", "annual_purchase", "level"]
    assert listing["sort"] == ["-annual_purchase"] and listing["page_size"] == 20
    board = text(admin.get("/app/customer/kanban"))
    assert 'data-column="vip"' in board and 'data-column="lead"' not in board


def test_bad_list_settings_are_refused_next_to_their_control(team: Team) -> None:
    before = dict(team.loom.registry.object("customer").spec.extra)
    admin = team.client("guan.li")
    token = csrf(admin, "/builder/lists/customer")
    form = {"csrf_token": token, "columns": ["name", "no_such_field"], "page_size": "lots", "nav_order": "-3"}
    refused = admin.post("/builder/lists/customer", data=form)
    assert refused.status_code == 422
    page = text(refused)
    assert 'data-path="/list/page_size"' in page and 'data-path="/nav_order"' in page
    assert "no_such_field" in page
    assert dict(team.loom.registry.object("customer").spec.extra) == before


def test_changing_nav_order_moves_the_object_in_the_menu(team: Team) -> None:
    admin = team.client("guan.li")
    assert menu(admin)[0] != "contract"
    token = csrf(admin, "/builder/lists/contract")
    saved = admin.post("/builder/lists/contract", data={"csrf_token": token, "nav_order": "0"})
    assert saved.status_code == 302
    assert menu(admin)[0] == "contract"


def test_a_new_object_gets_a_form_a_list_and_a_place_in_the_menu(team: Team) -> None:
    add_object(
        team.loom,
        {
            "name": "competitor",
            "label": {"zh_CN": "竞争对手", "en": "Competitor"},
            "title_field": "name",
            "fields": [
                {"name": "name", "type": "text", "label": {"zh_CN": "名称", "en": "Name"}, "required": True},
                {"name": "website", "type": "url", "label": {"zh_CN": "网站", "en": "Website"}},
                {"name": "strength", "type": "long_text", "label": {"zh_CN": "优势", "en": "Strengths"}},
                {
                    "name": "threat",
                    "type": "select",
                    "label": {"zh_CN": "威胁程度", "en": "Threat"},
                    "options": [
                        {"value": "high", "label": {"zh_CN": "高", "en": "High"}},
                        {"value": "low", "label": {"zh_CN": "低", "en": "Low"}},
                    ],
                },
            ],
        },
    )
    admin = team.client("guan.li")
    document = designer_document(admin, "competitor")
    document["sections"] = [
        {"label": {"zh_CN": "概况", "en": "Overview"}, "columns": 2, "fields": ["name", "threat", "website"]},
        {"label": {"zh_CN": "分析", "en": "Analysis"}, "columns": 1, "fields": ["strength"]},
    ]
    assert save_form(admin, "competitor", document).status_code == 200
    token = csrf(admin, "/builder/lists/competitor")
    form = {"csrf_token": token, "columns": ["name", "threat"], "sort_field": "name", "nav_order": "1"}
    assert admin.post("/builder/lists/competitor", data=form).status_code == 302

    new = text(admin.get("/app/competitor/new"))
    assert "<legend>概况</legend>" in new and "<legend>分析</legend>" in new
    page = text(admin.get("/app/competitor"))
    assert re.findall(r'<th scope="col"[^>]*>\s*<a [^>]*>([^<▲▼ ]+)', page)[:2] == ["名称", "威胁程度"]
    assert menu(admin)[0] == "competitor" and "竞争对手" in page


def test_only_administrators_reach_the_designer_and_the_list_settings(team: Team) -> None:
    rep = team.client("wang.fang")
    token = {"X-CSRFToken": csrf(rep)}
    assert rep.get("/builder/forms/").status_code == 403
    assert rep.get("/builder/forms/customer").status_code == 403
    assert rep.get("/builder/lists/customer").status_code == 403
    assert rep.post("/builder/forms/customer", json={"document": {}}, headers=token).status_code == 403
    assert rep.post("/builder/forms/customer/check", json={"text": "True"}, headers=token).status_code == 403
    admin = team.client("guan.li")
    assert admin.get("/builder/forms/no_such_object").status_code == 404
    assert admin.get("/builder/lists/no_such_object").status_code == 404
    index = text(admin.get("/builder/forms/"))
    assert 'href="/builder/forms/customer"' in index and 'href="/builder/lists/customer"' in index


def test_malformed_designer_input_is_answered_with_an_error_never_a_crash(team: Team) -> None:
    admin = team.client("guan.li")
    sent = headers(admin)
    documents: list[Any] = [
        None,
        [],
        {"object": "customer", "sections": "all"},
        {
            "object": "customer",
            "sections": [{"label": {"zh_CN": "x"}, "fields": [{"field": "name", "visible_if": 5}]}],
        },
        {
            "object": "customer",
            "sections": [{"label": "x", "columns": 9, "fields": ["name", "name", "nope"]}],
        },
        {"object": "contact", "sections": [{"label": {"zh_CN": "x"}, "fields": ["name"]}]},
        {"object": "customer", "sections": [{"label": {"zh_CN": "x"}, "fields": ["name"]}], "extra": 1},
    ]
    for document in documents:
        for path in ("/builder/forms/customer", "/builder/forms/customer/preview"):
            answer = admin.post(
                path, json={"document": document, "values": {"level": {"a": 1}}}, headers=sent
            )
            assert answer.status_code in (200, 400, 422), (path, document, answer.status_code)
            assert answer.is_json and ("problems" in answer.get_json() or "fields" in answer.get_json())
    deep = "(" * 300 + "True" + ")" * 300
    for condition in (deep, "__import__('os')", "level ==", 7):
        answer = admin.post("/builder/forms/customer/check", json={"text": condition}, headers=sent)
        assert answer.status_code == 200 and answer.get_json()["ok"] is False
    token = csrf(admin, "/builder/lists/customer")
    for form in (
        {"columns": ["name", "name"]},
        {"sort_field": "Name!"},
        {"page_size": "9" * 40},
        {"nav_order": "1e5"},
        {"kanban_group_by": "name"},
    ):
        assert admin.post("/builder/lists/customer", data={"csrf_token": token, **form}).status_code == 422, (
            form
        )
