"""Handover: every record a user owns moves to another user in one transaction, audited as one batch."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import UnknownObject
from engine.identity import (
    IdentityInvalid,
    UserDisabled,
    actor_for,
    create_user,
    disable_user,
    handover,
)
from engine.loom import Loom
from engine.store.system_tables import audit_log

CUSTOMERS = 10_000


def two_reps(loom: Loom) -> tuple[Actor, Actor]:
    leaving = create_user(loom, "leaving.rep", "离职销售", actor=SYSTEM)
    taking = create_user(loom, "new.rep", "接手销售", actor=SYSTEM)
    return actor_for(loom, leaving["id"]), actor_for(loom, taking["id"])


def owned_by(loom: Loom, object_name: str, user_id: int) -> int:
    table = loom.registry.object(object_name).table
    with loom.read() as conn:
        return conn.execute(select(func.count()).where(table.c.owner_id == user_id)).scalar_one()


def test_ten_thousand_customers_move_in_one_batch_with_one_audit_row_each(crm: Loom) -> None:
    leaving, taking = two_reps(crm)
    crm.records().bulk_create(
        "customer", ({"name": f"客户{i}", "owner": leaving.user_id} for i in range(CUSTOMERS))
    )
    crm.records().create("lead", {"name": "王先生", "owner": leaving.user_id})
    disable_user(crm, leaving.user_id, actor=SYSTEM)  # the usual case: the rep has left

    counts = handover(crm, leaving.user_id, taking.user_id, actor=SYSTEM)

    assert counts["customer"] == CUSTOMERS and counts["lead"] == 1
    assert sum(counts.values()) == CUSTOMERS + 1
    assert owned_by(crm, "customer", leaving.user_id) == 0
    assert owned_by(crm, "customer", taking.user_id) == CUSTOMERS
    table = crm.registry.object("customer").table
    with crm.read() as conn:
        assert set(conn.execute(select(table.c.version).distinct()).scalars()) == {2}
        handovers = select(audit_log).where(audit_log.c.action == "handover")
        rows = conn.execute(handovers.where(audit_log.c.object == "customer")).all()
        batches = set(
            conn.execute(select(audit_log.c.batch).distinct().where(audit_log.c.action == "handover"))
        )
    assert len(rows) == CUSTOMERS
    assert len({row.record_id for row in rows}) == CUSTOMERS
    assert len(batches) == 1
    assert rows[0].changes == {"owner": [leaving.user_id, taking.user_id]}
    assert (rows[0].actor_name, rows[0].at) == ("system", crm.clock.now())


def test_a_concurrent_reader_sees_all_of_a_handover_or_none_of_it(crm: Loom) -> None:
    leaving, taking = two_reps(crm)
    crm.records().bulk_create(
        "customer", ({"name": f"客户{i}", "owner": leaving.user_id} for i in range(CUSTOMERS))
    )
    done = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            handover(crm, leaving.user_id, taking.user_id, actor=SYSTEM)
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            done.set()

    worker = threading.Thread(target=run)
    worker.start()
    seen = set()
    while not done.is_set():
        seen.add(owned_by(crm, "customer", leaving.user_id))
    worker.join()
    seen.add(owned_by(crm, "customer", leaving.user_id))
    assert failures == []
    assert seen <= {CUSTOMERS, 0} and 0 in seen


def test_a_handover_rolls_back_with_the_transaction_it_joined(crm: Loom) -> None:
    leaving, taking = two_reps(crm)
    crm.records().bulk_create("customer", ({"name": f"客户{i}", "owner": leaving.user_id} for i in range(50)))
    with pytest.raises(RuntimeError), crm.begin() as conn:
        counts = handover(crm, leaving.user_id, taking.user_id, actor=SYSTEM, conn=conn)
        assert counts["customer"] == 50
        raise RuntimeError("the surrounding change failed")
    assert owned_by(crm, "customer", leaving.user_id) == 50
    with crm.read() as conn:
        assert conn.execute(select(func.count()).where(audit_log.c.action == "handover")).scalar() == 0


def test_only_the_named_objects_move_and_the_recycle_bin_stays(crm: Loom) -> None:
    leaving, taking = two_reps(crm)
    records = crm.records()  # as the system, creating records owned by the leaving rep
    kept = records.create("customer", {"name": "留下的客户", "owner": leaving.user_id})
    binned = records.create("customer", {"name": "回收站客户", "owner": leaving.user_id})
    records.delete("customer", binned["id"])
    records.create("lead", {"name": "王先生", "owner": leaving.user_id})

    counts = handover(crm, leaving.user_id, taking.user_id, objects=["customer"], actor=SYSTEM)

    assert counts == {"customer": 1}
    assert crm.records().get("customer", kept["id"])["owner"] == taking.user_id
    assert crm.records().get("customer", binned["id"], include_deleted=True)["owner"] == leaving.user_id
    assert owned_by(crm, "lead", leaving.user_id) == 1


def test_handover_refuses_a_disabled_target_the_same_user_and_unknown_objects(crm: Loom) -> None:
    leaving, taking = two_reps(crm)
    crm.records().create("customer", {"name": "客户", "owner": leaving.user_id})
    disable_user(crm, taking.user_id, actor=SYSTEM)
    with pytest.raises(UserDisabled, match=r"'new\.rep' is disabled and cannot receive records"):
        handover(crm, leaving.user_id, taking.user_id, actor=SYSTEM)
    with pytest.raises(IdentityInvalid, match="different user"):
        handover(crm, leaving.user_id, leaving.user_id, actor=SYSTEM)
    other = create_user(crm, "other.rep", "其他销售", actor=SYSTEM)
    with pytest.raises(UnknownObject):
        handover(crm, leaving.user_id, other["id"], objects=["customer", "no_such"], actor=SYSTEM)
    assert owned_by(crm, "customer", leaving.user_id) == 1
