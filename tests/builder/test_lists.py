"""Kanban card fields, related lists, menu sections and colours set at /builder/lists, over HTTP."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from engine.store.documents import get_document
from tests.builder.test_objects import confirm, plan, stored
from tests.runtime.pages_world import Team, csrf, text


def settings(client: FlaskClient, object_name: str, **form: Any) -> Any:
    return client.post(
        f"/builder/lists/{object_name}",
        data={"csrf_token": csrf(client, f"/builder/lists/{object_name}"), **form},
    )


def menu(client: FlaskClient) -> dict[str, list[tuple[str, str]]]:
    """The menu's sections: label → [(object, colour)] top to bottom."""
    page = text(client.get("/"))
    found = re.findall(
        r'<p class="nav-heading"[^>]*>([^<]+)</p>\s*<ul class="nav-objects"[^>]*>(.*?)</ul>', page, re.S
    )
    return {label: re.findall(r'href="/app/(\w+)" data-color="(\w+)"', body) for label, body in found}


def related_headings(page: str) -> list[str]:
    return re.findall(r'<h2 id="related-\d+">([^<]+?) <span class="count">', page)


def customer_with_children(team: Team) -> dict[str, Any]:
    rep = team.loom.records(team.actor("wang.fang"))
    customer = team.customer("华东精密")
    rep.create("contact", {"name": "陈工", "customer": customer["id"], "phone": "13800000001"})
    rep.create("opportunity", {"name": "产线改造", "customer": customer["id"], "amount": "80000"})
    rep.create(
        "followup",
        {
            "subject": "电话回访",
            "type": "call",
            "content": "确认需求",
            "followup_at": "2026-11-20T10:00:00",
            "customer": customer["id"],
        },
    )
    return customer


def document(team: Team, object_name: str) -> dict[str, Any]:
    with team.loom.read() as conn:
        return dict(get_document(conn, "object", object_name).body)


def test_card_fields_related_lists_section_and_colour_are_saved_and_shown_to_a_rep(team: Team) -> None:
    customer = customer_with_children(team)
    admin = team.client("guan.li")
    saved = settings(
        admin,
        "customer",
        kanban_group_by="lifecycle",
        card_fields=["phone", "level"],
        related_custom="1",
        related=["opportunity:customer", "contact:customer"],
        **{"related_columns.contact:customer": ["name", "phone"]},
        nav_group_zh="客户经营",
        nav_group_en="Accounts",
        color="red",
        nav_order="5",
    )
    assert saved.status_code == 302
    body = document(team, "customer")
    assert body["kanban"] == {"group_by": "lifecycle", "card_fields": ["phone", "level"]}
    assert body["related_lists"] == [
        {"object": "opportunity", "via": "customer"},
        {"object": "contact", "via": "customer", "columns": ["name", "phone"]},
    ]
    assert body["nav_group"] == {"zh_CN": "客户经营", "en": "Accounts"} and body["color"] == "red"

    rep = team.client("wang.fang")
    sections = menu(rep)
    assert sections["客户经营"] == [("customer", "red")]
    assert list(sections).index("客户经营") == 0  # its only object is first in the menu
    assert ("customer", "blue") not in sections.get("销售", [])
    board = text(rep.get("/app/customer/kanban"))
    card = board[board.index("华东精密") : board.index("</li>", board.index("华东精密"))]
    assert re.findall(r"<dt>([^<]+)</dt>", card) == ["联系电话", "客户级别"]
    detail = text(rep.get(f"/app/customer/{customer['id']}"))
    assert related_headings(detail) == ["商机", "联系人"]  # the chosen order, follow-ups not listed
    contacts = detail[detail.index('<h2 id="related-2">') :]
    head = contacts[contacts.index("<thead>") : contacts.index("</thead>")]
    assert re.findall(r'<th scope="col">([^<]+)</th>', head) == ["姓名", "手机"]
    assert "13800000001" in contacts
    assert 'class="eyebrow object-heading" data-color="red"' in detail
    listing = text(rep.get("/app/customer"))
    assert '<h1 class="object-heading" data-color="red">' in listing


def test_without_a_choice_the_record_page_lists_every_child_most_records_first(team: Team) -> None:
    customer = customer_with_children(team)
    team.loom.records(team.actor("wang.fang")).create("contact", {"name": "李工", "customer": customer["id"]})
    admin = team.client("guan.li")
    assert (
        settings(admin, "customer", related_custom="1", related=["opportunity:customer"]).status_code == 302
    )
    assert related_headings(text(admin.get(f"/app/customer/{customer['id']}"))) == ["商机"]
    assert settings(admin, "customer", related=["opportunity:customer"]).status_code == 302
    assert "related_lists" not in document(team, "customer")
    headings = related_headings(text(admin.get(f"/app/customer/{customer['id']}")))
    assert headings[0] == "联系人" and {"商机", "跟进记录"} <= set(headings)
    assert settings(admin, "customer", related_custom="1").status_code == 302
    assert document(team, "customer")["related_lists"] == []
    assert related_headings(text(admin.get(f"/app/customer/{customer['id']}"))) == []


def test_the_settings_page_offers_every_child_lookup_the_palette_and_the_sections_in_use(team: Team) -> None:
    page = text(team.client("guan.li").get("/builder/lists/customer"))
    offered = re.findall(r'name="related" value="([\w:]+)"', page)
    assert {
        "contact:customer",
        "opportunity:customer",
        "followup:customer",
        "customer:parent_customer",
    } <= set(offered)
    assert not re.search(r'name="related" value="[\w:]+" checked', page)  # the CRM keeps the default here
    assert re.findall(r'<select id="color" name="color">(.*?)</select>', page, re.S)[0].count("<option") == 8
    assert '<option value="blue" selected>蓝色</option>' in page
    assert '<option value="销售">' in page and '<option value="交易">' in page
    contract = text(team.client("guan.li").get("/builder/lists/contract"))
    chosen = re.findall(r'name="related" value="([\w:]+)" checked', contract)
    assert chosen == ["payment:contract", "sales_order:contract", "task:contract"]  # the package's order
    assert 'name="card_fields" value="customer" checked' in contract
    assert 'value="销售"' not in contract[contract.index('id="nav_group_zh"') : contract.index("<datalist")]


def test_bad_values_are_refused_at_their_json_path_and_nothing_changes(team: Team) -> None:
    admin = team.client("guan.li")
    before = document(team, "customer")
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"kanban_group_by": "lifecycle", "card_fields": ["name", "level", "region", "phone", "email"]},
            "/kanban/card_fields",
        ),
        ({"kanban_group_by": "lifecycle", "card_fields": ["nope"]}, "/kanban/card_fields/0"),
        ({"color": "pink"}, "/color"),
        ({"related_custom": "1", "related": ["no_such:customer"]}, "/related_lists/0/object"),
        ({"related_custom": "1", "related": ["contact:phone"]}, "/related_lists/0/via"),
        ({"related_custom": "1", "related": ["opportunity:contact"]}, "/related_lists/0/via"),
        (
            {"related_custom": "1", "related": ["contact:customer", "contact:customer"]},
            "/related_lists/1/via",
        ),
        (
            {
                "related_custom": "1",
                "related": ["contact:customer"],
                "related_columns.contact:customer": ["nope"],
            },
            "/related_lists/0/columns/0",
        ),
        ({"related_custom": "1", "related": ["Bad!:x"]}, "/related_lists/0/object"),
    ]
    for form, path in cases:
        refused = settings(admin, "customer", **form)
        assert refused.status_code == 422, form
        assert f'data-path="{path}"' in text(refused), (form, path)
    assert document(team, "customer") == before


def test_the_object_designer_offers_the_palette(team: Team) -> None:
    page = text(team.client("guan.li").get("/builder/objects/customer"))
    block = page[
        page.index('<select data-path="color">') : page.index("</select>", page.index('data-path="color"'))
    ]
    assert [value for value in re.findall(r'value="(\w*)"', block)] == [
        "", "blue", "green", "orange", "red", "purple", "teal", "gray"
    ]  # fmt: skip
    assert "紫色" in block


def test_a_colour_chosen_in_the_object_designer_colours_the_menu(team: Team) -> None:
    admin = team.client("guan.li")
    doc = {**stored(team, "product"), "color": "purple", "icon": "box"}
    planned = plan(admin, "/builder/objects/product", doc)
    assert planned.status_code == 200
    assert confirm(admin, "/builder/objects/product", text(planned)).status_code == 302
    assert stored(team, "product")["color"] == "purple"
    assert ("product", "purple") in menu(team.client("wang.fang"))["产品"]
    refused = plan(admin, "/builder/objects/product", {**doc, "color": "pink"})
    assert refused.status_code == 422 and "/color" in text(refused)


def test_removing_a_card_field_in_the_designer_takes_it_off_the_cards(team: Team) -> None:
    admin = team.client("guan.li")
    tier = {"name": "tier", "type": "text", "label": {"zh_CN": "层级", "en": "Tier"}}
    doc = stored(team, "customer")
    doc["fields"].append(tier)
    assert (
        confirm(
            admin, "/builder/objects/customer", text(plan(admin, "/builder/objects/customer", doc))
        ).status_code
        == 302
    )
    assert (
        settings(
            admin, "customer", kanban_group_by="lifecycle", card_fields=["tier", "level"], nav_order="20"
        ).status_code
        == 302
    )
    doc = stored(team, "customer")
    doc["fields"] = [field for field in doc["fields"] if field["name"] != "tier"]
    planned = plan(admin, "/builder/objects/customer", doc)
    assert planned.status_code == 200, text(planned)
    assert confirm(admin, "/builder/objects/customer", text(planned)).status_code == 302
    assert stored(team, "customer")["kanban"]["card_fields"] == ["level"]


def test_an_object_without_a_section_is_listed_under_other(team: Team) -> None:
    admin = team.client("guan.li")
    assert settings(admin, "product", nav_order="110", color="orange").status_code == 302
    assert "nav_group" not in document(team, "product")
    sections = menu(team.client("wang.fang"))
    assert list(sections)[-1] == "其他" and sections["其他"] == [("product", "orange")]
    assert "产品" not in sections
    english = text(team.client("wang.fang", locale="en").get("/"))
    assert ">Sales</p>" in english and ">Other</p>" in english
