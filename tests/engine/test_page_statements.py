"""A list opened again runs the SELECT built the first time, and still answers as if built afresh: new
records appear, the clock and the reader are honoured, a share given meanwhile counts."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event, text

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from engine.records.page_statements import page_statements


def names(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [record["name"] for record in page.records]


def kept(loom: Loom) -> set[tuple]:
    return set(page_statements(loom.registry)._kept)


def test_the_same_list_again_reuses_its_statement_and_shows_new_records(crm: Loom) -> None:
    crm.records().create("customer", {"name": "杭州云栖科技", "level": "vip", "region": "east"})
    query = {"filter": "level == 'vip' and region == 'east'", "sort": "name", "limit": 20}
    before = kept(crm)
    assert names(crm.queries().find("customer", **query)) == ["杭州云栖科技"]
    assert len(kept(crm) - before) == 1
    crm.records().create("customer", {"name": "宁波海曙贸易", "level": "vip", "region": "east"})
    crm.records().create("customer", {"name": "温州鹿城电子", "level": "key", "region": "east"})
    assert names(crm.queries().find("customer", **query)) == ["宁波海曙贸易", "杭州云栖科技"]
    assert len(kept(crm) - before) == 1
    # A different limit is a different statement, with the same records in the same order.
    assert names(crm.queries().find("customer", **{**query, "limit": 1})) == ["宁波海曙贸易"]


def test_a_filter_reading_the_clock_is_built_again_when_the_clock_moves(crm: Loom) -> None:
    now = crm.clock.now()
    crm.records().create("customer", {"name": "久未跟进", "last_followup_at": now - timedelta(days=10)})
    query = {"filter": "days_since(last_followup_at) > 15", "sort": "name"}
    before = kept(crm)
    assert names(crm.queries().find("customer", **query)) == []
    crm.clock.set(now + timedelta(days=10))
    assert names(crm.queries().find("customer", **query)) == ["久未跟进"]
    assert kept(crm) == before


def test_each_rep_sees_their_own_records_with_the_same_filter(crm: Loom) -> None:
    reps = [
        identity.create_user(crm, f"rep{n}", f"销售{n}", roles=["sales_rep"], actor=SYSTEM)["id"]
        for n in (1, 2)
    ]
    actors = [identity.actor_for(crm, rep) for rep in reps]
    # Leads have no roll-ups counting what each reader may open: only the scope tells reps apart.
    for actor, name in zip(actors, ("一号的线索", "二号的线索"), strict=True):
        crm.records(actor).create("lead", {"name": name, "company": "杭州云栖科技"})
    query = {"filter": "company == '杭州云栖科技'", "sort": "name"}
    assert names(crm.queries(actors[0]).find("lead", **query)) == ["一号的线索"]
    assert names(crm.queries(actors[1]).find("lead", **query)) == ["二号的线索"]
    assert names(crm.queries(actors[0]).find("lead", **query)) == ["一号的线索"]


def test_a_record_shared_after_the_first_list_appears_in_the_next(crm: Loom) -> None:
    reps = [
        identity.create_user(crm, f"rep{n}", f"销售{n}", roles=["sales_rep"], actor=SYSTEM)["id"]
        for n in (1, 2)
    ]
    owner, reader = (identity.actor_for(crm, rep) for rep in reps)
    theirs = crm.records(owner).create("customer", {"name": "别人的客户", "city": "杭州"})
    query = {"filter": "city == '杭州'", "sort": "name"}
    assert names(crm.queries(reader).find("customer", **query)) == []
    identity.share_record(crm, "customer", theirs["id"], user_id=reps[1], actor=SYSTEM)
    assert names(crm.queries(reader).find("customer", **query)) == ["别人的客户"]


def test_a_list_opened_again_is_not_planned_again(crm: Loom) -> None:
    """The page's LIMIT is written into its SQL: bound as a parameter, PostgreSQL would plan the
    statement, seven roll-up sub-selects and all, afresh on every request."""
    for n in range(3):
        crm.records().create("customer", {"name": f"常开列表{n}", "level": "vip", "region": "east"})
    statements: list[str] = []

    def seen(_conn, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    query = {"filter": "level == 'vip' and region == 'east'", "sort": "name", "limit": 2}
    event.listen(crm.db, "before_cursor_execute", seen)
    # One connection throughout, as in one web request: prepared statements and their plans are
    # kept per connection (psycopg prepares a statement run five times; PostgreSQL then compares
    # five custom plans with a generic one).
    with crm.one_request():
        try:
            pages = [crm.queries().find("customer", **query) for _ in range(12)]
        finally:
            event.remove(crm.db, "before_cursor_execute", seen)
        with crm.read() as conn:
            postgres = conn.dialect.name == "postgresql"
            generic = conn.execute(text(PLANS)).scalars().all() if postgres else None
    assert all(names(page) == ["常开列表0", "常开列表1"] and page.next_cursor for page in pages)
    page_sql = {statement for statement in statements if "FROM obj_customer" in statement}
    assert len(page_sql) == 1 and re.search(r"\bLIMIT 3\b", page_sql.pop())
    if generic is not None:  # SQLite plans every statement, keeping none
        assert max(generic, default=0) >= 1


PLANS = "SELECT generic_plans FROM pg_prepared_statements WHERE statement LIKE '%FROM obj_customer%'"
