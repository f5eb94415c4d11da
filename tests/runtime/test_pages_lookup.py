"""The lookup picker's search: scope applied, search fields matched, the form's parent first, no cap."""

from __future__ import annotations

import pytest

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from tests.runtime.pages_world import PASSWORD, Team, build_team, text


@pytest.fixture
def team(crm: Loom) -> Team:
    return build_team(crm)


def search(client, path: str, **args: str) -> dict:  # type: ignore[no-untyped-def]
    answer = client.get(path, query_string=args)
    assert answer.status_code == 200, text(answer)
    return answer.get_json()


def titles(found: dict) -> list[str]:
    return [item["title"] for item in found["results"]]


def test_a_rep_finds_customers_of_their_department_but_not_of_another(team: Team) -> None:
    team.customer("杭州星河科技有限公司", owner="wang.fang")
    team.customer("杭州云栖网络有限公司", owner="li.na")
    team.customer("杭州财务代理有限公司", owner="zhao.caiwu")

    found = search(team.client("wang.fang"), "/app/followup/lookup/customer", q="杭州")
    assert titles(found) == ["杭州云栖网络有限公司", "杭州星河科技有限公司"]

    everyone = search(team.client("zhang.jingli"), "/app/followup/lookup/customer", q="杭州")
    assert "杭州财务代理有限公司" not in titles(everyone)


@pytest.mark.both_databases("LIKE patterns and case folding differ between the databases")
def test_typing_matches_the_start_of_the_title_or_of_any_search_field(team: Team) -> None:
    team.customer(
        "上海明远贸易有限公司", short_name="明远", phone="13912345678", email="Buyer@mingyuan.example"
    )
    team.customer("上海启航物流有限公司", short_name="启航", phone="13800000000")
    client = team.client("wang.fang")
    path = "/app/followup/lookup/customer"

    assert titles(search(client, path, q="明远")) == ["上海明远贸易有限公司"]
    by_phone = search(client, path, q="1391")
    assert titles(by_phone) == ["上海明远贸易有限公司"]
    assert by_phone["results"][0]["detail"] == "13912345678"  # what matched, to tell records apart
    assert titles(search(client, path, q="buyer@")) == ["上海明远贸易有限公司"]
    assert titles(search(client, path, q="上海")) == ["上海启航物流有限公司", "上海明远贸易有限公司"]
    assert search(client, path, q="贸易")["results"] == []  # the start of a value, not its middle


def test_a_follow_up_for_a_customer_offers_that_customers_contacts_first(team: Team) -> None:
    ours = team.customer("苏州精工机械有限公司")
    other = team.customer("无锡恒通机电有限公司")
    records = team.loom.records()
    owner = team.ids["wang.fang"]
    records.create("contact", {"name": "周敏", "customer": other["id"], "owner": owner})
    records.create("contact", {"name": "李建国", "customer": ours["id"], "owner": owner})
    records.create("contact", {"name": "张伟", "customer": ours["id"], "owner": owner})
    client = team.client("wang.fang")

    found = search(client, "/app/followup/lookup/contact", **{"parent.customer": str(ours["id"])})
    assert [(item["title"], item["related"]) for item in found["results"]] == [
        ("张伟", True),
        ("李建国", True),
        ("周敏", False),
    ]
    typed = search(client, "/app/followup/lookup/contact", q="周", **{"parent.customer": str(ours["id"])})
    assert [(item["title"], item["related"]) for item in typed["results"]] == [("周敏", False)]
    without = search(client, "/app/followup/lookup/contact")
    assert not any(item["related"] for item in without["results"])


def test_every_customer_can_be_reached_there_is_no_cap(team: Team) -> None:
    team.loom.records().bulk_create(
        "customer", [{"name": f"客户{i:03d}", "owner": team.ids["wang.fang"]} for i in range(260)]
    )
    client = team.client("wang.fang")
    path = "/app/followup/lookup/customer"
    assert titles(search(client, path, q="客户259")) == ["客户259"]
    first = search(client, path)
    assert titles(first)[:2] == ["客户000", "客户001"] and first["more"] is True
    second = search(client, path, page="1")
    assert titles(second)[0] == "客户020"


def test_the_form_shows_the_chosen_record_by_title_and_posts_its_id(team: Team) -> None:
    customer = team.customer("苏州精工机械有限公司")
    client = team.client("wang.fang")
    page = text(client.get(f"/app/followup/new?customer={customer['id']}"))
    assert 'data-picker="/app/followup/lookup/customer"' in page
    assert 'data-title="苏州精工机械有限公司"' in page
    assert f'name="customer" type="text" value="{customer["id"]}"' in page


@pytest.mark.parametrize(
    "q",
    [
        "%25",
        "_",
        "%5C",
        "'",
        "%22)%20or%201=1%20--",
        "a" * 5000,
        "%00",
        "%F0%9F%98%80",
        "%ED%B3%BF",
        "%FF",
        "++",
        "%EF%BC%A8",
        "-1",
    ],
)
@pytest.mark.both_databases("PostgreSQL refuses some text SQLite takes (NUL bytes, bad escapes)")
def test_no_typed_text_breaks_the_search(team: Team, q: str) -> None:
    team.customer("杭州星河科技有限公司", short_name="%_\\")
    client = team.client("wang.fang")
    answer = client.get(f"/app/followup/lookup/customer?q={q}&page=x")
    assert answer.status_code == 200 and isinstance(answer.get_json()["results"], list)


def test_odd_parents_pages_and_fields_are_answered_not_failed(team: Team) -> None:
    client = team.client("wang.fang")
    odd = {"parent.customer": "9" * 40, "page": "²", "parent.contact": "-3"}
    assert client.get("/app/followup/lookup/contact", query_string=odd).status_code == 200
    assert client.get("/app/followup/lookup/subject").status_code == 404  # not a lookup
    assert client.get("/app/followup/lookup/nothing").status_code == 404
    assert client.get("/app/nothing/lookup/customer").status_code == 404
    assert client.get("/app/contract/lookup/customer").status_code == 200


def test_someone_who_may_not_read_the_form_object_gets_no_choices(team: Team) -> None:
    team.customer("杭州星河科技有限公司")
    identity.create_user(team.loom, "guest", "访客", PASSWORD, roles=[], actor=SYSTEM)
    answer = team.client("guest").get("/app/followup/lookup/customer", query_string={"q": "杭州"})
    assert answer.status_code == 403 and "杭州星河" not in text(answer)
