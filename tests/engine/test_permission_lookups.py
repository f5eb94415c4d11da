"""A lookup may point only at records its writer may read: a rep cannot attach a follow-up to
another department's customer, and the refusal is the same as for an id that does not exist."""

from __future__ import annotations

import pytest

from engine import identity
from engine.base.actors import SYSTEM, Actor
from engine.base.errors import RecordInvalid
from engine.loom import Loom


def _rep(loom: Loom, username: str, department: str) -> Actor:
    department_id = identity.create_department(loom, department, actor=SYSTEM)["id"]
    user = identity.create_user(
        loom,
        username,
        username,
        "a-long-password-1",
        roles=["sales_rep"],
        department_id=department_id,
        actor=SYSTEM,
    )
    return identity.actor_for(loom, user["id"])


def _refusal(loom: Loom, actor: Actor, values: dict) -> dict[str, list[str]]:
    with pytest.raises(RecordInvalid) as refused:
        loom.records(actor).create("followup", values)
    return refused.value.fields


def test_a_rep_cannot_attach_a_followup_to_a_customer_they_cannot_read(crm: Loom) -> None:
    east, west = _rep(crm, "east.rep", "华东销售部"), _rep(crm, "west.rep", "华西销售部")
    theirs = crm.records().create("customer", {"name": "成都天府机械有限公司", "owner": west.user_id})
    followup = {"subject": "电话回访", "content": "询问近况", "customer": theirs["id"]}

    hidden = _refusal(crm, east, followup)
    missing = _refusal(crm, east, {**followup, "customer": theirs["id"] + 1000})
    assert hidden["customer"] == [
        m.replace(str(theirs["id"] + 1000), str(theirs["id"])) for m in missing["customer"]
    ]
    assert crm.records().get("customer", theirs["id"])["last_followup_at"] is None  # no rule touched it
    assert crm.records(west).create("followup", followup)["customer"] == theirs["id"]


def test_a_reference_the_writer_cannot_read_is_kept_when_other_fields_change(crm: Loom) -> None:
    east, west = _rep(crm, "east.rep", "华东销售部"), _rep(crm, "west.rep", "华西销售部")
    theirs = crm.records().create("customer", {"name": "成都天府机械有限公司", "owner": west.user_id})
    mine = crm.records().create(
        "followup",
        {"subject": "联合拜访", "content": "与华西同事一起", "customer": theirs["id"], "owner": east.user_id},
    )
    changed = crm.records(east).update("followup", mine["id"], {"content": "拜访纪要已补充"})
    assert changed["customer"] == theirs["id"] and changed["content"] == "拜访纪要已补充"
