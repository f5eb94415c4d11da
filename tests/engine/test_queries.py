"""Queries: filters in the expression language run as SQL; keyset pages never skip or repeat a record."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.base.actors import Actor
from engine.base.errors import NotCompilable
from engine.loom import Loom
from engine.records.queries import InvalidQuery


@pytest.fixture
def customers(crm: Loom) -> Loom:
    records = crm.records()
    now = crm.clock.now()
    rows = [
        {
            "name": "上海科技有限公司",
            "level": "vip",
            "annual_purchase": "500000",
            "last_followup_at": now - timedelta(days=20),
        },
        {
            "name": "北京贸易公司",
            "level": "vip",
            "annual_purchase": "1200",
            "last_followup_at": now - timedelta(days=3),
        },
        {"name": "深圳科技集团", "level": "key", "annual_purchase": "80000", "last_followup_at": None},
        {
            "name": "杭州制造厂",
            "level": "normal",
            "annual_purchase": "999",
            "last_followup_at": now - timedelta(days=40),
        },
    ]
    records.bulk_create("customer", rows)
    return crm


def names(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [record["name"] for record in page.records]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        (
            "annual_purchase > 1000 and level in ['vip', 'key']",
            {"上海科技有限公司", "北京贸易公司", "深圳科技集团"},
        ),
        ('contains(name, "科技")', {"上海科技有限公司", "深圳科技集团"}),
        ("days_since(last_followup_at) > 15", {"上海科技有限公司", "杭州制造厂"}),
        ("level == 'vip' and days_since(last_followup_at) > 15", {"上海科技有限公司"}),
        ("isblank(last_followup_at)", {"深圳科技集团"}),
        ("not (level == 'vip')", {"深圳科技集团", "杭州制造厂"}),
    ],
)
def test_filters_compile_to_sql(customers: Loom, filter: str, expected: set[str]) -> None:
    assert set(names(customers.queries().find("customer", filter=filter))) == expected
    assert customers.queries().count("customer", filter=filter) == len(expected)


def test_owner_is_me_uses_the_acting_user(customers: Loom) -> None:
    rep = Actor.user(7, "rep", {"sales_rep"})
    with customers.db.begin() as conn:
        from engine.store.system_tables import users

        conn.execute(
            users.insert().values(
                id=7, username="rep", display_name="Rep", active=True, created_at=datetime(2026, 1, 1)
            )
        )
    customers.records(rep).create("customer", {"name": "我的客户"})
    assert names(customers.queries(rep).find("customer", filter="owner == user()")) == ["我的客户"]


def test_a_filter_that_cannot_run_in_sql_is_refused(customers: Loom) -> None:
    with pytest.raises(NotCompilable):
        customers.queries().find("customer", filter="changed('level')")


def test_sort_and_keyset_pages_cover_every_record_once(crm: Loom) -> None:
    rows = [
        {"name": f"客户{i:03d}", "annual_purchase": str((i * 37) % 50) if i % 7 else None} for i in range(120)
    ]
    crm.records().bulk_create("customer", rows)
    for sort in (["-annual_purchase"], ["annual_purchase"], ["name"], ["-created_at"]):
        seen: list[int] = []
        cursor = None
        while True:
            page = crm.queries().find("customer", sort=sort, limit=25, cursor=cursor)
            seen += [record["id"] for record in page.records]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 120, sort


def test_sorted_pages_are_in_order(crm: Loom) -> None:
    crm.records().bulk_create(
        "customer", [{"name": n, "annual_purchase": a} for n, a in [("a", "3"), ("b", "1"), ("c", "2")]]
    )
    page = crm.queries().find("customer", sort="-annual_purchase", limit=2)
    assert names(page) == ["a", "c"]
    assert names(
        crm.queries().find("customer", sort="-annual_purchase", limit=2, cursor=page.next_cursor)
    ) == ["b"]


def test_related_records_are_fetched_through_their_lookup(crm: Loom) -> None:
    customer = crm.records().create("customer", {"name": "上海科技有限公司"})
    other = crm.records().create("customer", {"name": "北京贸易公司"})
    crm.records().create("contact", {"name": "张伟", "customer": customer["id"]})
    crm.records().create("contact", {"name": "李娜", "customer": other["id"]})
    related = crm.queries().related("customer", customer["id"], "contact")
    assert names(related) == ["张伟"]


def test_unknown_sort_fields_and_bad_cursors_are_clear_errors(crm: Loom) -> None:
    with pytest.raises(InvalidQuery, match="no such field"):
        crm.queries().find("customer", sort="-nope")
    with pytest.raises(InvalidQuery, match="cursor"):
        crm.queries().find("customer", cursor="garbage!")
