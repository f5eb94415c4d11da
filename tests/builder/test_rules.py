"""The rule builder at /builder/rules, over HTTP: the list, editing and saving, the live checks,
trying a rule on a record (nothing written), and the run log and explanations after."""

from __future__ import annotations

import json
import re
from datetime import UTC, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from builder_ui.cron_words import cron_words
from engine import Loom
from engine.store.documents import get_document
from engine.store.drafts import get_draft
from engine.store.system_tables import audit_log, notifications, rule_runs
from engine.work.due_work import run_due
from tests.runtime.pages_world import Team, csrf, text

VIP_RULE: dict[str, Any] = {
    "name": "vip_silent",
    "object": "customer",
    "label": {"zh_CN": "VIP客户未跟进"},
    "trigger": {"type": "schedule", "cron": "0 9 * * *"},
    "condition": "level == 'vip' and days_silent > 15",
    "fire": "once_per_episode",
    "actions": [
        {
            "type": "create_record",
            "object": "task",
            "values": {"subject": "'请跟进：' + name", "owner": "owner", "customer": "id"},
        },
        {"type": "notify", "to": "owner", "title": "'VIP客户未跟进：' + name"},
    ],
}


def headers(client: FlaskClient) -> dict[str, str]:
    return {"X-CSRFToken": csrf(client, "/builder/")}


def post(client: FlaskClient, path: str, body: Any) -> TestResponse:
    return client.post(path, json=body, headers=headers(client))


def editor_data(client: FlaskClient, name: str) -> dict[str, Any]:
    page = text(client.get(f"/builder/rules/{name}"))
    found = re.search(r'<script type="application/json" id="rb-data">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))


def customer(loom: Loom, name: str, silent_days: int, level: str = "vip", owner: int | None = None) -> int:
    """A customer whose last follow-up was `silent_days` ago, set through the engine."""
    last = loom.clock.now() - timedelta(days=silent_days, hours=1)
    values = {"name": name, "level": level, "last_followup_at": last, "owner": owner}
    return loom.records().create("customer", values)["id"]


def counts(loom: Loom) -> dict[str, int]:
    model = loom.registry.object("task")
    with loom.read() as conn:
        found = {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar()
            for table in (audit_log, notifications, rule_runs)
        }
        found["tasks"] = conn.execute(select(func.count()).select_from(model.table)).scalar()
    return found


@pytest.mark.parametrize(
    ("cron", "zh", "en"),
    [
        ("0 9 * * *", "每天 09:00", "every day at 09:00"),
        ("0 9 * * 1", "每周一 09:00", "every Monday at 09:00"),
        ("30 8 1 * *", "每月1日 08:30", "on day 1 of every month at 08:30"),
        ("0 9 * * 1-5", "工作日 09:00", "on weekdays at 09:00"),
        ("0 9,14 * * *", "每天 09:00、14:00", "every day at 09:00, 14:00"),
        ("0 10 * * 1,3,5", "每周一、三、五 10:00", "every Monday, Wednesday, Friday at 10:00"),
        ("*/30 * * * *", "每30分钟", "every 30 minutes"),
        ("0 * * * *", "每小时整点", "every hour on the hour"),
        ("0 9 25 12 *", "每年12月25日 09:00", "every year on 12/25 at 09:00"),
    ],
)
def test_common_crons_are_said_in_words(cron: str, zh: str, en: str) -> None:
    assert cron_words(cron) == zh
    assert cron_words(cron, "en") == en


@pytest.mark.parametrize(
    "cron", ["0 9 1-7 * 1", "5-10 9 * * *", "0 9 * * 1#2", "0 25 * * *", "nonsense", "", "0 9 * *"]
)
def test_unusual_crons_have_no_words_so_the_page_shows_the_text(cron: str) -> None:
    assert cron_words(cron) is None


def test_the_rule_list_shows_each_rule_with_its_trigger_in_words_and_links_to_the_gallery(
    team: Team,
) -> None:
    client = team.client("guan.li")
    page = text(client.get("/builder/rules/"))
    assert "VIP客户超过15天未跟进" in page
    assert "每天 09:00" in page  # vip_followup_overdue runs on "0 9 * * *"
    assert "合同到期前30天提醒" in page and "结束日期前30天 09:00" in page
    assert "/builder/gallery?kind=rule" in page and "新建规则" in page
    assert len(re.findall(r'href="/builder/rules/[a-z_]+"', page)) >= len(team.loom.registry.rules)


def test_only_administrators_reach_the_rule_builder(team: Team) -> None:
    rep = team.client("wang.fang")
    assert rep.get("/builder/rules/").status_code == 403
    assert rep.get("/builder/rules/vip_followup_overdue").status_code == 403
    assert rep.post("/builder/rules/vip_followup_overdue", json={"document": {}}).status_code in (400, 403)


def test_the_editor_offers_every_trigger_type_and_every_registered_action_with_its_schema(team: Team) -> None:
    data = editor_data(team.client("guan.li"), "vip_followup_overdue")
    assert data["document"]["condition"].startswith("level == 'vip'")
    assert {t["type"] for t in data["triggers"]} == {
        "on_create", "on_update", "on_save", "on_delete", "on_submit",
        "on_approved", "on_rejected", "schedule", "date_offset", "inbound",
    }  # fmt: skip
    offered = {a["type"]: a for a in data["actions"]}
    assert set(offered) == set(team.loom.actions)
    assert {"send_email", "call_webhook"} <= set(offered)  # the plugins' actions too
    assert offered["create_record"]["schema"]["required"] == ["object", "values"]
    assert offered["notify"]["expressions"] == ["to", "title", "body"]
    assert "未跟进天数" in [f["label"] for f in data["fields"]["customer"]]


def test_an_unknown_rule_is_not_found(team: Team) -> None:
    client = team.client("guan.li")
    assert client.get("/builder/rules/no_such_rule").status_code == 404
    assert client.get("/builder/rules/no_such_rule/runs").status_code == 404


def test_saving_applies_the_rule_and_records_a_revision(team: Team) -> None:
    client = team.client("guan.li")
    document = editor_data(client, "vip_followup_overdue")["document"]
    document["order"] = 7
    document["active"] = False
    answer = post(client, "/builder/rules/vip_followup_overdue", {"document": document})
    assert answer.status_code == 200, text(answer)
    assert answer.json["saved"] is True
    rule = team.loom.registry.rules["vip_followup_overdue"]
    assert (rule.order, rule.active) == (7, False)
    with team.loom.read() as conn:
        assert get_document(conn, "rule", "vip_followup_overdue").body["order"] == 7
    page = text(client.get("/builder/rules/"))
    row = page[page.index("VIP客户超过15天未跟进") :]
    assert "<td>否</td>" in row[: row.index("</tr>")]


def test_a_bad_rule_is_refused_with_each_problem_at_its_json_path(team: Team) -> None:
    client = team.client("guan.li")
    bad = json.loads(json.dumps(VIP_RULE))
    bad["condition"] = "levle == 'vip'"
    bad["actions"][0]["values"]["subject"] = "'请跟进' + nmae"
    bad["trigger"] = {"type": "schedule", "cron": "every morning"}
    answer = post(client, "/builder/rules/vip_silent", {"document": bad})
    assert answer.status_code == 422
    assert "/trigger/cron" in answer.json["fields"]
    bad["trigger"] = VIP_RULE["trigger"]
    answer = post(client, "/builder/rules/vip_silent", {"document": bad})
    assert answer.status_code == 422
    fields = answer.json["fields"]
    assert "/condition" in fields and "levle" in " ".join(fields["/condition"])
    assert "/actions/0/values/subject" in fields
    assert "vip_silent" not in team.loom.registry.rules
    checked = post(client, "/builder/rules/vip_silent/check", {"document": bad})
    assert checked.status_code == 200 and set(checked.json["fields"]) == set(fields)


@pytest.mark.parametrize("body", ["not json", {"document": "x"}, {"document": None}, [], {"nothing": 1}])
def test_a_malformed_post_is_a_400_not_a_500(team: Team, body: Any) -> None:
    client = team.client("guan.li")
    for path in (
        "/builder/rules/vip_silent",
        "/builder/rules/vip_silent/check",
        "/builder/rules/vip_silent/try",
    ):
        if isinstance(body, str):
            answer = client.post(
                path, data=body, headers={**headers(client), "Content-Type": "application/json"}
            )
        else:
            answer = post(client, path, body)
        assert answer.status_code == 400, (path, text(answer))


def test_a_document_of_the_wrong_shape_is_a_422_with_paths(team: Team) -> None:
    client = team.client("guan.li")
    for document in (
        {},
        {"object": 3, "trigger": "x", "actions": {}},
        {**VIP_RULE, "actions": [{"type": 7}]},
    ):
        answer = post(client, "/builder/rules/vip_silent", {"document": document})
        assert answer.status_code == 422, text(answer)
        assert answer.json["fields"]


def test_saving_without_the_csrf_token_is_refused(team: Team) -> None:
    client = team.client("guan.li")
    assert client.post("/builder/rules/vip_silent", json={"document": VIP_RULE}).status_code == 400
    assert "vip_silent" not in team.loom.registry.rules


def test_the_cron_preview_is_computed_by_the_server(team: Team) -> None:
    client = team.client("guan.li")
    assert post(client, "/builder/rules/cron", {"cron": "30 8 1 * *"}).json == {"words": "每月1日 08:30"}
    assert post(client, "/builder/rules/cron", {"cron": "1-5 * * * 2"}).json == {"words": None}
    assert post(client, "/builder/rules/cron", {"cron": 5}).json == {"words": None}


def test_trying_the_unsaved_rule_shows_the_condition_its_inputs_and_the_task_it_makes(
    team: Team,
) -> None:
    loom = team.loom
    client = team.client("guan.li")
    silent = customer(loom, "上海云杉科技", 16, owner=team.ids["wang.fang"])
    before = counts(loom)
    answer = post(client, "/builder/rules/vip_silent/try", {"document": VIP_RULE, "record_id": silent})
    assert answer.status_code == 200, text(answer)
    trial = answer.json
    assert trial["would_fire"] is True and trial["condition_value"] is True
    assert trial["inputs"]["days_silent"] == {"label": "未跟进天数", "value": 16, "shown": "16"}
    assert trial["inputs"]["level"]["value"] == "vip"
    [created] = [e for e in trial["effects"] if e["kind"] == "create"]
    assert created["object"] == "任务" and created["values"]["任务主题"] == "请跟进：上海云杉科技"
    [note] = [e for e in trial["effects"] if e["kind"] == "notify"]
    assert (note["user"], note["title"]) == ("王芳", "VIP客户未跟进：上海云杉科技")
    assert counts(loom) == before  # a dry run: nothing was written
    assert "vip_silent" not in loom.registry.rules


def test_the_values_a_trial_read_are_written_as_the_record_page_writes_them(team: Team) -> None:
    """A moment in business time (the clock is UTC 09:00, Beijing 17:00), an option by its label,
    a system field by its label."""
    loom = team.loom
    client = team.client("guan.li")
    silent = customer(loom, "上海云杉科技", 16)
    document = {**VIP_RULE, "condition": "level == 'vip' and last_followup_at < created_at"}
    trial = post(client, "/builder/rules/vip_silent/try", {"document": document, "record_id": silent}).json
    read = trial["inputs"]
    assert read["level"]["shown"] == "VIP客户"
    assert read["created_at"]["label"] == "创建时间"
    local = (
        (loom.clock.now() - timedelta(days=16, hours=1)).replace(tzinfo=UTC).astimezone(loom.clock.timezone)
    )
    assert read["last_followup_at"]["shown"].endswith(local.strftime("%H:%M"))
    assert "T" not in read["last_followup_at"]["shown"]


def test_trying_it_on_a_customer_followed_up_lately_shows_false_with_the_values_read(team: Team) -> None:
    loom = team.loom
    client = team.client("guan.li")
    recent = customer(loom, "北京华信", 3)
    trial = post(client, "/builder/rules/vip_silent/try", {"document": VIP_RULE, "record_id": recent}).json
    assert trial["would_fire"] is False and trial["condition_value"] is False
    assert trial["inputs"]["days_silent"]["value"] == 3
    assert [e for e in trial["effects"] if e["kind"] == "create"] == []


def test_trying_needs_a_record_that_exists(team: Team) -> None:
    client = team.client("guan.li")
    path = "/builder/rules/vip_silent/try"
    assert post(client, path, {"document": VIP_RULE}).status_code == 400
    assert post(client, path, {"document": VIP_RULE, "record_id": "abc"}).status_code == 400
    assert post(client, path, {"document": VIP_RULE, "record_id": 99999}).status_code == 404
    bad = {**VIP_RULE, "condition": "nosuchfield > 1"}
    answer = post(client, path, {"document": bad, "record_id": 1})
    assert answer.status_code == 422 and "/condition" in answer.json["fields"]


def test_records_to_try_on_are_found_by_name_or_number(team: Team) -> None:
    loom = team.loom
    client = team.client("guan.li")
    found = customer(loom, "杭州西湖茶业", 5)
    by_name = client.get("/builder/rules/records?object=customer&q=杭州西湖").json["records"]
    assert [r["id"] for r in by_name] == [found]
    by_number = client.get(f"/builder/rules/records?object=customer&q={found}").json["records"]
    assert by_number[0] == {"id": found, "title": "杭州西湖茶业", "detail": ""}
    assert client.get("/builder/rules/records?object=nothing&q=x").status_code == 404


def test_a_new_rule_starts_as_a_draft_and_saving_publishes_it_and_drops_the_draft(team: Team) -> None:
    loom = team.loom
    client = team.client("guan.li")
    form = {"csrf_token": csrf(client, "/builder/rules/new"), "label": "VIP未跟进", "name": "vip_silent"}
    refused = client.post("/builder/rules/new", data={**form, "object": "nothing"})
    assert refused.status_code == 422 and "选择对象" in text(refused)
    answer = client.post("/builder/rules/new", data={**form, "object": "customer"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/builder/rules/vip_silent")
    data = editor_data(client, "vip_silent")
    assert data["draft"] is True and data["saved"] is False
    assert data["document"]["object"] == "customer"
    again = client.post("/builder/rules/new", data={**form, "object": "customer"})
    assert again.status_code == 422  # the name is taken by the draft
    assert (
        post(client, "/builder/rules/vip_silent/draft", {"document": {**VIP_RULE, "actions": []}}).status_code
        == 200
    )
    assert "vip_silent" not in loom.registry.rules  # a draft runs nothing
    assert post(client, "/builder/rules/vip_silent", {"document": VIP_RULE}).status_code == 200
    assert "vip_silent" in loom.registry.rules
    with loom.read() as conn:
        assert get_draft(conn, "rule", "vip_silent") is None
    assert editor_data(client, "vip_silent")["draft"] is False


def test_after_saving_the_run_log_and_the_explanation_for_a_record_are_one_click_away(team: Team) -> None:
    loom = team.loom
    client = team.client("guan.li")
    saved = post(client, "/builder/rules/vip_silent", {"document": VIP_RULE}).json
    assert saved["runs"] == "/builder/rules/vip_silent/runs"
    assert saved["explain"] == "/builder/rules/vip_silent/explain"
    silent = customer(loom, "上海云杉科技", 16, owner=team.ids["wang.fang"])
    loom.clock.set(loom.clock.now() + timedelta(days=1))
    run_due(loom, loom.due_handlers)
    runs = text(client.get(saved["runs"]))
    assert f'href="/builder/rules/vip_silent/explain?record={silent}"' in runs
    assert "已触发" in runs and "创建了任务" in runs
    explained = client.get(f"{saved['explain']}?record={silent}")
    assert explained.status_code == 200
    page = text(explained)
    assert "条件成立，但规则已对这条记录触发过" in page  # once per episode
    assert "未跟进天数" in page
    assert client.get(f"{saved['explain']}?record=99999").status_code == 404
    assert client.get(f"{saved['explain']}?record=abc").status_code == 422


HOSTILE = [
    {"trigger": {"type": "date_offset", "field": "nope", "days": 5}},
    {"trigger": {"type": "date_offset", "field": "created_at", "days": 99999, "at": "25:00"}},
    {"trigger": {"type": "on_update", "fields": ["nope"], "phase": "before_save"}},
    {"trigger": {"type": "inbound"}, "condition": "payload.x == 1"},
    {"trigger": {"type": "on_approved"}},
    {"condition": "1/0"},
    {"condition": "__import__('os').system('true')"},
    {"condition": "x" * 3000},
    {"order": 10**12, "label": {"zh_CN": "长" * 5000}},
    {"actions": [{"type": "update_related", "related": {"object": "task", "via": "customer", "filter": "))"},
                  "values": {"subject": "'x'"}}]},
    {"actions": [{"type": "assign_owner", "strategy": "by_field", "field": "region",
                  "map": {"east": "nobody"}}]},
    {"actions": [{"type": "reject", "message": {"zh_CN": "不行"}}]},
    {"actions": [{"type": "start_flow", "flow": "nope"}]},
    {"actions": [{"type": "set_field", "field": "days_silent", "value": "1"}]},
    {"actions": [{"type": "create_record", "object": "task",
                  "values": {"subject": "1/0", "due_date": "'x'"}}]},
    {"actions": [{"type": "call_webhook", "url": "http://127.0.0.1:9/x", "payload": {"a": "name"}}]},
    {"actions": [{"type": "no.such.action", "x": [1, {"y": None}]}]},
]  # fmt: skip


@pytest.mark.parametrize("change", HOSTILE, ids=range(len(HOSTILE)))
def test_no_rule_document_makes_the_builder_fail(team: Team, change: dict[str, Any]) -> None:
    loom = team.loom
    client = team.client("guan.li")
    record = customer(loom, "上海云杉科技", 16, owner=team.ids["wang.fang"])
    document = {**VIP_RULE, **change}
    before = counts(loom)
    for path in ("/check", "/try", "/draft", ""):
        answer = post(client, f"/builder/rules/vip_silent{path}", {"document": document, "record_id": record})
        assert answer.status_code in (200, 400, 404, 422), (path, text(answer))
        assert answer.is_json
    assert "vip_silent" in loom.registry.rules or counts(loom) == before


def test_an_inbound_rule_is_tried_with_a_sample_call_body_instead_of_a_record(team: Team) -> None:
    loom = team.loom
    client = team.client("guan.li")
    hook = {
        "name": "web_form_lead",
        "object": "lead",
        "trigger": {"type": "inbound"},
        "condition": "not isblank(get(payload, 'name'))",
        "actions": [{"type": "create_record", "object": "lead", "values": {"name": "get(payload, 'name')"}}],
    }
    before = counts(loom)
    path = "/builder/rules/web_form_lead/try"
    trial = post(client, path, {"document": hook, "payload": {"name": "苏州新线索"}}).json
    assert trial["would_fire"] is True
    [created] = [e for e in trial["effects"] if e["kind"] == "create"]
    assert created["object"] == "线索" and "苏州新线索" in created["values"].values()
    assert post(client, path, {"document": hook, "payload": {}}).json["would_fire"] is False
    assert counts(loom) == before


def test_discarding_a_draft_goes_back_to_the_saved_rule_or_to_the_list(team: Team) -> None:
    loom = team.loom
    client = team.client("guan.li")
    changed = {**editor_data(client, "vip_followup_overdue")["document"], "order": 3}
    assert post(client, "/builder/rules/vip_followup_overdue/draft", {"document": changed}).status_code == 200
    assert editor_data(client, "vip_followup_overdue")["document"]["order"] == 3
    token = csrf(client, "/builder/rules/vip_followup_overdue")
    answer = client.post("/builder/rules/vip_followup_overdue/draft/discard", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(
        "/builder/rules/vip_followup_overdue"
    )
    data = editor_data(client, "vip_followup_overdue")
    assert data["draft"] is False and "order" not in data["document"]
    assert loom.registry.rules["vip_followup_overdue"].order == 100
    assert post(client, "/builder/rules/only_draft/draft", {"document": VIP_RULE}).status_code == 200
    answer = client.post("/builder/rules/only_draft/draft/discard", data={"csrf_token": token})
    assert answer.headers["Location"].endswith("/builder/rules/")
    assert client.get("/builder/rules/only_draft").status_code == 404
    assert (
        client.post("/builder/rules/only_draft/draft/discard", data={"csrf_token": token}).status_code == 404
    )


def test_in_english_the_list_says_triggers_in_english(team: Team) -> None:
    page = text(team.client("guan.li", locale="en").get("/builder/rules/"))
    assert "every day at 09:00" in page and "30 days before End date, at 09:00" in page
    assert "New rule" in page and "新建规则" not in page


def test_trying_a_rule_that_starts_an_approval_shows_who_would_be_asked(team: Team) -> None:
    loom = team.loom
    client = team.client("guan.li")
    account = loom.records().create("customer", {"name": "深圳前海贸易"})["id"]
    values = {"name": "年度服务合同", "customer": account, "amount": "120000", "status": "draft"}
    contract = loom.records().create("contract", values)["id"]
    rule = {
        "name": "approve_new_contracts",
        "object": "contract",
        "trigger": {"type": "on_create"},
        "actions": [{"type": "start_flow", "flow": "contract_approval"}],
    }
    before = counts(loom)
    body = {"document": rule, "record_id": contract}
    trial = post(client, "/builder/rules/approve_new_contracts/try", body)
    assert trial.status_code == 200, text(trial)
    asked = [e for e in trial.json["effects"] if e["kind"] == "approval"]
    assert asked and all(e["node"] == "manager" for e in asked)
    assert counts(loom) == before
