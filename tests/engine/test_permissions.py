"""Permissions: every role × operation × whose record, through the record and query services."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from engine.base.actors import Actor
from engine.base.errors import RecordInvalid, RecordNotFound
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.schema.changes import apply_objects
from engine.store.system_tables import departments, record_shares, users
from metadata.roles import RoleSpec
from metadata.specs import ObjectSpec

T0 = datetime(2026, 11, 26, 1, 0)
ACCOUNT = ObjectSpec.from_json(
    {
        "name": "account",
        "label": {"en": "Account", "zh_CN": "客户"},
        "title_field": "name",
        "fields": [
            {"name": "name", "type": "text", "required": True},
            {"name": "region", "type": "text"},
            {"name": "cost_price", "type": "currency"},
            {"name": "credit_code", "type": "text"},
            {
                "name": "margin",
                "type": "formula",
                "result": "currency",
                "expression": "coalesce(cost_price, 0) * 2",
            },
        ],
    }
)


def role(name: str, grant: dict, fields: dict | None = None) -> RoleSpec:
    return RoleSpec.from_json(
        {"name": name, "label": {"en": name}, "objects": {"account": grant}, "fields": fields or {}}
    )


ROLES = [
    role("own_only", {"create": True, "read": "own", "update": "own", "delete": "own"}),
    role("department", {"create": True, "read": "department", "update": "department", "delete": "own"}),
    role("below", {"read": "department_and_below", "update": "own"}),
    role("everything", {"create": True, "read": "all", "update": "all", "delete": "all", "export": "all"}),
    role("reader", {"read": "all"}, {"account.cost_price": "hidden", "account.credit_code": "read_only"}),
    role("nothing", {}),
]

# Departments: sales (1) ⊃ sales east (2); service (3). Users: me in sales; a colleague in sales;
# a member of the sub-department; someone in service.
ME, COLLEAGUE, BELOW, OTHER = 1, 2, 3, 4
OWNERS = {"own": ME, "colleague": COLLEAGUE, "below": BELOW, "other": OTHER}

# role → whose records it may read / update / delete
EXPECTED = {
    "own_only": {"read": {"own"}, "update": {"own"}, "delete": {"own"}},
    "department": {"read": {"own", "colleague"}, "update": {"own", "colleague"}, "delete": {"own"}},
    "below": {"read": {"own", "colleague", "below"}, "update": {"own"}, "delete": set()},
    "everything": {"read": set(OWNERS), "update": set(OWNERS), "delete": set(OWNERS)},
    "reader": {"read": set(OWNERS), "update": set(), "delete": set()},
    "nothing": {"read": set(), "update": set(), "delete": set()},
}


@pytest.fixture
def world(loom: Loom) -> tuple[Loom, dict[str, int]]:
    loom.clock.set(T0)
    with loom.begin() as conn:
        for dept_id, name, path in ((1, "销售部", "/1/"), (2, "华东销售组", "/1/2/"), (3, "客服部", "/3/")):
            conn.execute(departments.insert().values(id=dept_id, name=name, path=path, created_at=T0))
        for user_id, name, dept in (
            (ME, "me", 1),
            (COLLEAGUE, "colleague", 1),
            (BELOW, "below", 2),
            (OTHER, "other", 3),
        ):
            conn.execute(
                users.insert().values(
                    id=user_id,
                    username=name,
                    display_name=name,
                    active=True,
                    created_at=T0,
                    department_id=dept,
                    locale="zh_CN",
                )
            )
    apply_objects(loom, [ACCOUNT], roles=ROLES)
    records = {
        whose: loom.records().create("account", {"name": f"{whose}'s", "owner": owner, "cost_price": "100"})[
            "id"
        ]
        for whose, owner in OWNERS.items()
    }
    return loom, records


def me(*roles: str) -> Actor:
    return Actor.user(ME, "me", set(roles), department_id=1, department_path="/1/")


@pytest.mark.parametrize("role_name", list(EXPECTED))
def test_each_role_reads_updates_and_deletes_exactly_its_scope(world, role_name: str) -> None:  # type: ignore[no-untyped-def]
    loom, records = world
    actor = me(role_name)
    expected = EXPECTED[role_name]

    readable = set()
    for whose, record_id in records.items():
        try:
            loom.records(actor).get("account", record_id)
            readable.add(whose)
        except (RecordNotFound, PermissionDenied):
            pass
    assert readable == expected["read"]
    if expected["read"]:
        listed = {r["name"].removesuffix("'s") for r in loom.queries(actor).find("account").records}
        assert listed == expected["read"]
        assert loom.queries(actor).count("account") == len(expected["read"])
    else:
        with pytest.raises(PermissionDenied):
            loom.queries(actor).find("account")

    updatable = set()
    for whose, record_id in records.items():
        try:
            loom.records(actor).update("account", record_id, {"region": "east"})
            updatable.add(whose)
        except (RecordNotFound, PermissionDenied):
            pass
    assert updatable == expected["update"]

    deletable = set()
    for whose, record_id in records.items():
        try:
            loom.records(actor).delete("account", record_id)
            deletable.add(whose)
        except (RecordNotFound, PermissionDenied):
            pass
    assert deletable == expected["delete"]


@pytest.mark.parametrize("role_name", list(EXPECTED))
def test_create_is_allowed_only_by_roles_that_grant_it(world, role_name: str) -> None:  # type: ignore[no-untyped-def]
    loom, _ = world
    allowed = role_name in ("own_only", "department", "everything")
    if allowed:
        created = loom.records(me(role_name)).create("account", {"name": "新客户"})
        assert created["owner"] == ME
    else:
        with pytest.raises(PermissionDenied):
            loom.records(me(role_name)).create("account", {"name": "新客户"})


def test_a_record_seen_but_not_changeable_says_so(world) -> None:  # type: ignore[no-untyped-def]
    loom, records = world
    with pytest.raises(PermissionDenied, match="may see this account but not change it"):
        loom.records(me("below")).update("account", records["colleague"], {"region": "x"})
    with pytest.raises(RecordNotFound):  # out of sight stays out of sight
        loom.records(me("below")).update("account", records["other"], {"region": "x"})


def test_roles_add_up(world) -> None:  # type: ignore[no-untyped-def]
    loom, records = world
    actor = me("own_only", "below")
    assert {r["id"] for r in loom.queries(actor).find("account").records} == {
        records["own"],
        records["colleague"],
        records["below"],
    }


def test_a_shared_record_is_visible_and_an_edit_share_is_changeable(world) -> None:  # type: ignore[no-untyped-def]
    loom, records = world
    with loom.begin() as conn:
        conn.execute(
            record_shares.insert().values(
                object="account", record_id=records["other"], user_id=ME, access="read", created_at=T0
            )
        )
    actor = me("own_only")
    assert loom.records(actor).get("account", records["other"])["name"] == "other's"
    with pytest.raises(PermissionDenied):
        loom.records(actor).update("account", records["other"], {"region": "x"})
    with loom.begin() as conn:
        conn.execute(
            record_shares.insert().values(
                object="account", record_id=records["other"], department_id=1, access="edit", created_at=T0
            )
        )
    assert loom.records(actor).update("account", records["other"], {"region": "x"})["region"] == "x"


def test_a_hidden_field_never_reaches_the_user(world) -> None:  # type: ignore[no-untyped-def]
    loom, records = world
    actor = me("reader")
    record = loom.records(actor).get("account", records["own"])
    assert "cost_price" not in record
    assert "margin" not in record  # a formula over a hidden field would reveal it
    assert all(
        "cost_price" not in r and "margin" not in r for r in loom.queries(actor).find("account").records
    )
    for row in loom.records(actor).history("account", records["own"]):
        assert "cost_price" not in row["changes"]
    with pytest.raises(Exception, match="has no field 'cost_price'"):
        loom.queries(actor).find("account", filter="cost_price > 10")
    with pytest.raises(Exception, match="no such field"):
        loom.queries(actor).find("account", sort="-cost_price")
    # The system still sees everything.
    assert loom.records().get("account", records["own"])["cost_price"] == Decimal("100.00")


def test_hidden_and_read_only_fields_cannot_be_written(world) -> None:  # type: ignore[no-untyped-def]
    loom, records = world
    reader_and_writer = me("reader", "own_only")  # own_only sees every field: limits apply only if all agree
    assert "cost_price" in loom.records(reader_and_writer).get("account", records["own"])
    writer = RoleSpec.from_json(
        {
            "name": "writer",
            "label": {"en": "w"},
            "objects": {"account": {"create": True, "read": "own", "update": "own"}},
            "fields": {"account.cost_price": "hidden", "account.credit_code": "read_only"},
        }
    )
    apply_objects(loom, [], roles=[writer])
    with pytest.raises(RecordInvalid) as caught:
        loom.records(me("writer")).update("account", records["own"], {"cost_price": "1", "credit_code": "X"})
    assert caught.value.fields == {
        "cost_price": ["is not a field of account"],
        "credit_code": ["is read-only"],
    }


def test_rules_and_the_system_are_not_limited_by_roles(world) -> None:  # type: ignore[no-untyped-def]
    loom, records = world
    assert loom.queries().count("account") == 4
    loom.records().update("account", records["other"], {"region": "system"})
