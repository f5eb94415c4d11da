"""Every related list the CRM package sets shows on its object's record page, in the package's order,
with the package's columns; objects that set none list every child, most records first."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from engine import CRM_PACKAGE, Loom
from engine.packages.install import install_package
from runtime.demo.data import load_demo_data
from runtime.web.app import create_app
from tests.runtime.pages_world import text, token_in

PASSWORD = "related-lists-demo-1"
DOCUMENTS = {
    path.stem: json.loads(path.read_text()) for path in sorted((CRM_PACKAGE / "objects").glob("*.json"))
}
WITH_LISTS = [name for name, body in DOCUMENTS.items() if "related_lists" in body]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Loom, FlaskClient]]:
    loom = Loom(f"sqlite:///{tmp_path_factory.mktemp('related') / 'demo.db'}")
    loom.init()
    install_package(loom, CRM_PACKAGE)
    load_demo_data(loom, customers=12, password=PASSWORD)
    app = create_app(loom, config={"SECRET_KEY": "related-lists-secret", "TESTING": True})
    client = app.test_client()
    form = {
        "csrf_token": token_in(client.get("/login").get_data(as_text=True)),
        "username": "admin",
        "password": PASSWORD,
    }
    assert client.post("/login", data=form, query_string={"lang": "zh_CN"}).status_code == 302
    yield loom, client


def children(loom: Loom, item: dict[str, Any]) -> dict[int, int]:
    """Parent id → how many records of the related list point to it."""
    counts: dict[int, int] = {}
    cursor = None
    while True:
        page = loom.queries().find(item["object"], limit=500, cursor=cursor)
        for record in page.records:
            if record.get(item["via"]):
                counts[record[item["via"]]] = counts.get(record[item["via"]], 0) + 1
        if (cursor := page.next_cursor) is None:
            return counts


def label(loom: Loom, object_name: str, name: str) -> str:
    spec = loom.registry.object(object_name).fields[name]
    return spec.label["zh_CN"]


def test_the_package_sets_related_lists_on_the_objects_with_closed_families() -> None:
    assert {"lead", "contact", "opportunity", "contract", "quote", "sales_order", "service_ticket"} <= set(
        WITH_LISTS
    )
    assert "customer" not in WITH_LISTS  # industry packages add children to customer: it lists them all


@pytest.mark.parametrize("object_name", WITH_LISTS)
def test_each_objects_related_lists_show_in_order_with_their_columns(
    demo: tuple[Loom, FlaskClient], object_name: str
) -> None:
    loom, admin = demo
    configured = DOCUMENTS[object_name]["related_lists"]
    counts = [children(loom, item) for item in configured]
    parents = {parent for found in counts for parent in found}
    assert parents, f"the demo has no {object_name} with related records"
    parent = max(parents, key=lambda p: (sum(1 for found in counts if p in found), -p))
    page = text(admin.get(f"/app/{object_name}/{parent}"))
    shown = [(item, found[parent]) for item, found in zip(configured, counts, strict=True) if parent in found]
    headings = re.findall(r'<h2 id="related-\d+">([^<]+?) <span class="count">(\d+)</span>', page)
    expected = []
    for item, count in shown:
        child = loom.registry.object(item["object"])
        plural = (child.spec.extra.get("plural_label") or child.spec.label)["zh_CN"]
        expected.append((plural, str(count)))
    assert [(heading.split(" · ")[0], count) for heading, count in headings] == expected
    tables = page.split('<section class="card related"')[1:]
    for (item, _count), table in zip(shown, tables, strict=True):
        head = table[table.index("<thead>") : table.index("</thead>")]
        columns = [label(loom, item["object"], name) for name in item["columns"]]
        assert re.findall(r'<th scope="col">([^<]+)</th>', head) == columns
        assert f'href="/app/{item["object"]}/' in table


def test_an_object_without_related_lists_lists_every_child_most_records_first(
    demo: tuple[Loom, FlaskClient],
) -> None:
    loom, admin = demo
    lookups = [
        (name, spec["name"])
        for name, body in DOCUMENTS.items()
        for spec in body["fields"]
        if spec["type"] == "lookup" and spec.get("target") == "customer"
    ]
    counts = {key: children(loom, {"object": key[0], "via": key[1]}) for key in lookups}
    parent = max(
        {p for found in counts.values() for p in found}, key=lambda p: sum(p in f for f in counts.values())
    )
    page = text(admin.get(f"/app/customer/{parent}"))
    shown = [
        int(count)
        for count in re.findall(r'<h2 id="related-\d+">[^<]+ <span class="count">(\d+)</span>', page)
    ]
    assert len(shown) == sum(1 for found in counts.values() if parent in found) > 3
    assert shown == sorted(shown, reverse=True)


@pytest.mark.parametrize("contacts", [2, 5, 7])
def test_a_related_list_counts_all_its_records_and_shows_the_first(
    demo: tuple[Loom, FlaskClient], contacts: int
) -> None:
    loom, admin = demo
    records = loom.records()
    customer = records.create("customer", {"name": f"联系人计数客户{contacts}"})
    for n in range(contacts):
        records.create("contact", {"name": f"计数联系人{contacts}-{n}", "customer": customer["id"]})
    page = text(admin.get(f"/app/customer/{customer['id']}"))
    plural = (DOCUMENTS["contact"].get("plural_label") or DOCUMENTS["contact"]["label"])["zh_CN"]
    headings = re.findall(r'<h2 id="related-\d+">([^<]+?) <span class="count">(\d+)</span>', page)
    assert (plural, str(contacts)) in [(heading.split(" · ")[0], count) for heading, count in headings]
    section = next(s for s in page.split('<section class="card related"')[1:] if plural in s)
    assert len(re.findall(r'href="/app/contact/\d+"', section)) == min(contacts, 5)
