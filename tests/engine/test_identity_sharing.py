"""Record shares: stored per user or department, replaced rather than duplicated, audited on the record."""

from __future__ import annotations

import pytest

from engine.base.actors import SYSTEM
from engine.base.errors import RecordNotFound
from engine.identity import (
    IdentityInvalid,
    create_department,
    create_user,
    share_record,
    shares_of,
    unshare,
)
from engine.loom import Loom


def test_a_record_is_shared_with_a_user_and_a_department(crm: Loom) -> None:
    customer = crm.records().create("customer", {"name": "华为"})
    colleague = create_user(crm, "colleague", "同事", actor=SYSTEM)
    finance = create_department(crm, "财务部", actor=SYSTEM)

    first = share_record(crm, "customer", customer["id"], user_id=colleague["id"], actor=SYSTEM)
    share_record(crm, "customer", customer["id"], department_id=finance["id"], access="edit", actor=SYSTEM)
    again = share_record(
        crm, "customer", customer["id"], user_id=colleague["id"], access="edit", actor=SYSTEM
    )

    assert again["id"] == first["id"]  # sharing again changes the access, not the number of shares
    shares = shares_of(crm, "customer", customer["id"])
    assert [(s["user_id"], s["department_id"], s["access"]) for s in shares] == [
        (colleague["id"], None, "edit"),
        (None, finance["id"], "edit"),
    ]
    history = crm.records().history("customer", customer["id"])
    assert [row["action"] for row in history] == ["create", "share", "share", "share"]
    assert history[-1]["changes"] == {
        "share": [
            {"user_id": colleague["id"], "access": "read"},
            {"user_id": colleague["id"], "access": "edit"},
        ]
    }


def test_unshare_removes_only_that_share(crm: Loom) -> None:
    customer = crm.records().create("customer", {"name": "华为"})
    one, two = (create_user(crm, name, name, actor=SYSTEM) for name in ("one.rep", "two.rep"))
    for user in (one, two):
        share_record(crm, "customer", customer["id"], user_id=user["id"], actor=SYSTEM)
    assert unshare(crm, "customer", customer["id"], user_id=one["id"], actor=SYSTEM) is True
    assert unshare(crm, "customer", customer["id"], user_id=one["id"], actor=SYSTEM) is False
    assert [s["user_id"] for s in shares_of(crm, "customer", customer["id"])] == [two["id"]]


def test_shares_need_one_target_a_known_access_and_a_live_record(crm: Loom) -> None:
    customer = crm.records().create("customer", {"name": "华为"})
    user = create_user(crm, "colleague", "同事", actor=SYSTEM)
    finance = create_department(crm, "财务部", actor=SYSTEM)
    with pytest.raises(IdentityInvalid, match="exactly one of a user or a department"):
        share_record(crm, "customer", customer["id"], actor=SYSTEM)
    with pytest.raises(IdentityInvalid, match="exactly one"):
        share_record(
            crm, "customer", customer["id"], user_id=user["id"], department_id=finance["id"], actor=SYSTEM
        )
    with pytest.raises(IdentityInvalid, match="access must be one of read, edit"):
        share_record(crm, "customer", customer["id"], user_id=user["id"], access="owner", actor=SYSTEM)
    crm.records().delete("customer", customer["id"])
    with pytest.raises(RecordNotFound):
        share_record(crm, "customer", customer["id"], user_id=user["id"], actor=SYSTEM)
    assert shares_of(crm, "customer", customer["id"]) == []
