"""Records over /api/v1/records as integrations see them: JSON shapes, pages, errors and permissions."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import event

from engine.loom import Loom
from engine.schema.changes import apply_objects
from metadata.specs import FieldSpec
from tests.runtime.api_world import Api, error_of


@pytest.fixture
def api(crm: Loom) -> Api:
    world = Api(crm)
    world.person("admin", ["admin"])
    world.person("wang.fang", ["sales_rep"])
    return world


def test_a_created_record_comes_back_as_json_with_decimals_as_strings_and_iso_dates(api: Api) -> None:
    customer = api.create("customer", {"name": "上海云杉科技有限公司", "interested_categories": []})
    response = api.post(
        "/records/contract",
        json={
            "name": "年度框架合同",
            "customer": customer["id"],
            "amount": "120000.5",
            "signed_at": "2026-11-20",
        },
    )
    assert response.status_code == 201
    contract = response.get_json()
    assert contract["amount"] == "120000.50"
    assert contract["signed_at"] == "2026-11-20"
    assert contract["created_at"] == "2026-11-26T09:00:00Z"
    assert contract["customer"] == customer["id"]
    assert contract["_titles"] == {"customer": "上海云杉科技有限公司"}
    assert contract["version"] == 1
    assert api.get(f"/records/contract/{contract['id']}").get_json()["amount"] == "120000.50"


def test_a_time_without_an_offset_is_business_time_as_on_the_form_and_one_with_an_offset_is_as_said(
    api: Api,
) -> None:
    naive = api.post("/records/customer", json={"name": "甲公司", "last_followup_at": "2026-07-06 20:00"})
    assert naive.get_json()["last_followup_at"] == "2026-07-06T12:00:00Z"  # 20:00 in Shanghai
    given = api.post("/records/customer", json={"name": "乙公司", "last_followup_at": "2026-07-06T20:00:00Z"})
    assert given.get_json()["last_followup_at"] == "2026-07-06T20:00:00Z"
    # Midnight of year 1 in Beijing is before the first UTC moment: refused, not a server error.
    too_early = api.post("/records/customer", json={"name": "丙公司", "last_followup_at": "0001-01-01 00:00"})
    assert too_early.status_code == 422


def test_every_field_error_is_reported_at_once_with_422(api: Api) -> None:
    response = api.post("/records/contract", json={"amount": "a lot", "status": "nonsense"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_record"
    assert {"name", "customer", "amount", "status"} <= set(error["fields"])


def test_a_body_that_is_not_a_json_object_is_a_400(api: Api) -> None:
    response = api.post("/records/customer", data="name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_text_a_database_cannot_store_is_refused_up_front(api: Api) -> None:
    response = api.post("/records/customer", json={"name": "bad\x00name"})
    assert response.status_code == 400
    assert "NUL" in error_of(response)["message"]


def test_unknown_objects_and_records_are_404(api: Api) -> None:
    assert api.get("/records/spaceship").status_code == 404
    assert error_of(api.get("/records/customer/999"))["code"] == "not_found"
    assert api.get("/records/customer/99999999999999999999").status_code == 404


def test_a_list_pages_with_a_cursor_and_filters_in_the_expression_language(api: Api) -> None:
    for number in range(5):
        api.create("customer", {"name": f"客户{number}", "level": "vip" if number % 2 else "normal"})
    first = api.get("/records/customer", query_string={"sort": "name", "limit": 2}).get_json()
    assert [row["name"] for row in first["data"]] == ["客户0", "客户1"]
    second = api.get(
        "/records/customer", query_string={"sort": "name", "limit": 2, "cursor": first["next_cursor"]}
    )
    assert [row["name"] for row in second.get_json()["data"]] == ["客户2", "客户3"]
    vips = api.get(
        "/records/customer", query_string={"filter": "level == 'vip'", "fields": "name"}
    ).get_json()
    assert sorted(row["name"] for row in vips["data"]) == ["客户1", "客户3"]
    assert set(vips["data"][0]) == {"id", "version", "name", "_titles"}
    assert vips["next_cursor"] is None


def test_a_bad_filter_sort_or_limit_is_a_400_with_the_reason(api: Api) -> None:
    bad_filter = api.get("/records/customer", query_string={"filter": "level =="})
    assert bad_filter.status_code == 400
    assert error_of(bad_filter)["code"] == "bad_query"
    assert "syntax" in error_of(bad_filter)["message"]
    assert api.get("/records/customer", query_string={"sort": "nonsense"}).status_code == 400
    assert api.get("/records/customer", query_string={"limit": "0"}).status_code == 400
    assert api.get("/records/customer", query_string={"fields": "name,nonsense"}).status_code == 400
    assert api.get("/records/customer", query_string={"cursor": "!!!"}).status_code == 400


def test_patch_needs_the_version_read_and_a_stale_one_is_a_409(api: Api) -> None:
    customer = api.create("customer", {"name": "广州木棉电子有限公司"})
    path = f"/records/customer/{customer['id']}"
    assert api.patch(path, json={"name": "x"}).status_code == 422
    changed = api.patch(path, json={"name": "广州木棉电子股份有限公司", "version": customer["version"]})
    assert changed.status_code == 200
    assert changed.get_json()["version"] == customer["version"] + 1
    stale = api.patch(path, json={"name": "again", "version": customer["version"]})
    assert stale.status_code == 409
    assert error_of(stale)["code"] == "conflict"


def test_delete_moves_to_the_recycle_bin_and_the_record_is_then_gone(api: Api) -> None:
    customer = api.create("customer", {"name": "成都蜀锦家居有限公司"})
    path = f"/records/customer/{customer['id']}"
    assert api.delete(path, query_string={"version": 999}).status_code == 409
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_bulk_create_saves_all_rows_or_reports_every_bad_row(api: Api) -> None:
    rows = [{"name": "甲公司"}, {"name": "乙公司"}]
    created = api.post("/records/customer/bulk", json={"records": rows})
    assert created.status_code == 201
    assert len(created.get_json()["ids"]) == 2
    refused = api.post("/records/customer/bulk", json={"records": [{"name": "丙公司"}, {"level": "nope"}]})
    assert refused.status_code == 422
    assert set(error_of(refused)["rows"]) == {"1"}
    assert api.post("/records/customer/bulk", json={"records": []}).status_code == 422
    names = [
        row["name"] for row in api.get("/records/customer", query_string={"limit": 50}).get_json()["data"]
    ]
    assert "丙公司" not in names


def test_hidden_fields_never_appear_and_cannot_be_asked_for(api: Api) -> None:
    product = api.create(
        "product", {"code": "P-1", "name": "工业网关", "unit_price": "3000", "cost_price": "1800"}
    )
    seen = api.get(f"/records/product/{product['id']}", as_="wang.fang").get_json()
    assert "cost_price" not in seen
    assert "unit_price" in seen
    listed = api.get("/records/product", as_="wang.fang").get_json()["data"]
    assert all("cost_price" not in row for row in listed)
    asked = api.get("/records/product", query_string={"fields": "cost_price"}, as_="wang.fang")
    assert asked.status_code == 400
    filtered = api.get("/records/product", query_string={"filter": "cost_price > 0"}, as_="wang.fang")
    assert filtered.status_code == 400
    assert "cost_price" in api.get(f"/records/product/{product['id']}").get_json()


def test_what_the_roles_do_not_allow_is_a_403_and_what_is_out_of_scope_a_404(api: Api) -> None:
    product = api.create("product", {"code": "P-2", "name": "传感器"})
    refused = api.patch(
        f"/records/product/{product['id']}", json={"name": "x", "version": 1}, as_="wang.fang"
    )
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "forbidden"
    customer = api.create("customer", {"name": "南京紫金软件有限公司"})
    contract = api.create("contract", {"name": "合同", "customer": customer["id"], "amount": "10"})
    assert api.get(f"/records/contract/{contract['id']}", as_="wang.fang").status_code == 404
    assert api.post("/records/payment", json={}, as_="wang.fang").status_code == 403


def test_without_a_token_the_api_answers_401(api: Api) -> None:
    response = api.get("/records/customer", as_=None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (
        api.get("/records/customer", as_=None, headers={"Authorization": "Bearer loom_wrong"}).status_code
        == 401
    )


def test_the_timeline_shows_follow_ups_changes_and_hides_hidden_fields(api: Api) -> None:
    customer = api.create("customer", {"name": "苏州吴中精密机械有限公司"}, as_="wang.fang")
    api.create(
        "followup",
        {
            "subject": "首次电话沟通",
            "content": "介绍产品",
            "customer": customer["id"],
            "followup_at": "2026-11-27T02:00:00Z",
        },
        as_="wang.fang",
    )
    response = api.get(f"/records/customer/{customer['id']}/timeline", as_="wang.fang")
    assert response.status_code == 200
    entries = response.get_json()["data"]
    assert entries[0]["kind"] == "activity"
    assert entries[0]["title"] == "首次电话沟通"
    assert entries[0]["at"] == "2026-11-27T02:00:00Z"
    assert entries[0]["details"]["record"]["customer"] == customer["id"]
    assert any(entry["kind"] == "change" and entry["title"] == "created" for entry in entries)
    product = api.create("product", {"code": "P-3", "name": "控制器", "cost_price": "10"})
    changes = api.get(f"/records/product/{product['id']}/timeline", as_="wang.fang").get_json()["data"]
    assert all("cost_price" not in entry["details"].get("changes", {}) for entry in changes)
    assert api.get("/records/customer/424242/timeline").status_code == 404


def test_an_unknown_query_parameter_is_refused_naming_what_the_endpoint_takes(api: Api) -> None:
    api.create("customer", {"name": "上海云杉科技有限公司"})
    mistyped = api.get("/records/customer?filtr=name%20%3D%3D%20%27x%27")
    assert mistyped.status_code == 400
    message = error_of(mistyped)["message"]
    assert "unknown query parameter filtr" in message and "filter" in message and "cursor" in message
    assert api.get("/records/customer?filter=name%20%3D%3D%20%27x%27").status_code == 200
    assert error_of(api.get("/me?debug=1"))["message"] == "unknown query parameter debug: it takes none"


def test_a_number_for_a_text_field_is_refused_as_the_document_says(api: Api) -> None:
    refused = api.post("/records/customer", json={"name": 12345, "city": 3.5})
    assert refused.status_code == 422
    assert set(error_of(refused)["fields"]) == {"name", "city"}


def test_an_api_create_update_and_delete_are_each_one_transaction_on_sqlite(api: Api, crm: Loom) -> None:
    """The token, the metadata version and the save in one transaction that takes SQLite's write
    lock at its start, rather than a read and then a write; a read of a record stays a read."""
    opened: list[str] = []
    event.listen(
        crm.db,
        "begin",
        lambda conn: opened.append("read" if conn.get_execution_options().get("loom_readonly") else "write"),
    )

    def transactions(request):  # type: ignore[no-untyped-def]
        opened.clear()
        response = request()
        return response, opened[:]

    api.get("/records/customer")  # the token's first use is written down once, in a write of its own
    made, create = transactions(lambda: api.post("/records/customer", json={"name": "杭州云栖科技"}))
    body = {"level": "vip", "version": made.get_json()["version"]}
    changed, update = transactions(lambda: api.patch(f"/records/customer/{made.get_json()['id']}", json=body))
    path = f"/records/customer/{made.get_json()['id']}?version={changed.get_json()['version']}"
    deleted, delete = transactions(lambda: api.delete(path))
    assert (made.status_code, changed.status_code, deleted.status_code) == (201, 200, 204)
    if crm.db.dialect.name == "sqlite":
        assert create == update == delete == ["write"]
    gone, read = transactions(lambda: api.get(f"/records/customer/{made.get_json()['id']}"))
    assert gone.status_code == 404 and read == ["read"]


def test_an_api_request_reads_the_metadata_version_with_its_token(api: Api, crm: Loom) -> None:
    """A read and a create each look at the store's version once, in the statement that finds
    their token: a statement (on PostgreSQL a round trip) fewer per request."""
    api.get("/records/customer")  # the token's first use is written down once, in a write of its own
    statements: list[str] = []
    event.listen(crm.db, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    made = api.post("/records/customer", json={"name": "杭州云栖科技"})
    assert made.status_code == 201
    created = statements[:]
    statements.clear()
    assert api.get(f"/records/customer/{made.get_json()['id']}").status_code == 200
    read = statements[:]
    for sql in (created, read):
        version_reads = [statement for statement in sql if "loom_state" in statement]
        assert len(version_reads) == 1 and "loom_api_tokens" in version_reads[0], version_reads


def test_a_field_another_process_adds_is_in_the_next_api_request(api: Api, crm: Loom) -> None:
    """The version read with the token still tells a server that metadata changed elsewhere."""
    made = api.post("/records/customer", json={"name": "杭州云栖科技"}).get_json()
    elsewhere = Loom(crm.db.url.render_as_string(hide_password=False))
    customer = elsewhere.registry.object("customer").spec
    wechat = FieldSpec.from_json({"name": "wechat_id", "type": "text", "label": {"zh_CN": "微信号"}})
    apply_objects(elsewhere, [replace(customer, fields=(*customer.fields, wechat))])
    elsewhere.close()
    read = api.get(f"/records/customer/{made['id']}").get_json()
    assert "wechat_id" in read and read["wechat_id"] is None
    changed = api.patch(
        f"/records/customer/{made['id']}", json={"wechat_id": "hz_yunqi", "version": read["version"]}
    )
    assert changed.status_code == 200 and changed.get_json()["wechat_id"] == "hz_yunqi"
