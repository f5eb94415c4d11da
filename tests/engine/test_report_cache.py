"""The report cache: one run per report, parameters, scope and data version; writes move the version."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from engine.base.actors import SYSTEM, Actor
from engine.loom import Loom
from engine.records.report_cache import ReportCache, report_reads
from metadata.reports import ReportSpec

REP = Actor.user(11, "rep", {"sales_rep"}, department_id=1, department_path="/1/")


class Timer:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(crm: Loom) -> tuple[Loom, ReportCache, Timer]:
    timer = Timer()
    cache = ReportCache(crm, ttl=60, timer=timer)
    records = crm.records(SYSTEM)
    customer = records.create("customer", {"name": "华东电子"})["id"]
    records.create("opportunity", {"name": "一", "customer": customer, "stage": "initial_contact"})
    return crm, cache, timer


def stages(result) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {row["stage"]: row["count"] for row in result.rows}


def test_a_second_reader_in_the_same_scope_gets_the_kept_result(
    world: tuple[Loom, ReportCache, Timer],
) -> None:
    _, cache, _ = world

    first = cache.run("opportunity_funnel", SYSTEM)
    again = cache.run("opportunity_funnel", SYSTEM)

    assert again is first
    assert (cache.hits, cache.misses) == (1, 1)
    # Another scope, other parameters, another filter: each is run once on its own.
    cache.run("opportunity_funnel", REP)
    cache.run("opportunity_funnel", SYSTEM, filter="amount > 0")
    cache.run("sales_by_rep_month", SYSTEM, parameters={"period": "last_year"})
    cache.run("sales_by_rep_month", SYSTEM, parameters={"period": "this_year"})
    assert (cache.hits, cache.misses) == (1, 5)


def test_a_write_to_an_object_the_report_reads_makes_the_next_run_read_afresh(
    world: tuple[Loom, ReportCache, Timer],
) -> None:
    loom, cache, _ = world
    assert stages(cache.run("opportunity_funnel", SYSTEM)) == {"initial_contact": 1}
    records = loom.records(SYSTEM)
    customer = records.create("customer", {"name": "华南机械"})["id"]  # a label's object: read afresh too
    assert cache.misses == 1

    cache.run("opportunity_funnel", SYSTEM)
    assert (cache.hits, cache.misses) == (1, 1)  # the funnel groups by stage, not by customer

    made = records.create("opportunity", {"name": "二", "customer": customer, "stage": "initial_contact"})
    assert stages(cache.run("opportunity_funnel", SYSTEM)) == {"initial_contact": 2}
    records.update("opportunity", made["id"], {"stage": "needs_confirmed"}, version=made["version"])
    assert stages(cache.run("opportunity_funnel", SYSTEM)) == {"initial_contact": 1, "needs_confirmed": 1}
    records.delete("opportunity", made["id"])
    assert stages(cache.run("opportunity_funnel", SYSTEM)) == {"initial_contact": 1}
    assert cache.misses == 4


def test_a_write_that_rolls_back_keeps_the_result(world: tuple[Loom, ReportCache, Timer]) -> None:
    loom, cache, _ = world
    cache.run("opportunity_funnel", SYSTEM)

    with pytest.raises(RuntimeError), loom.begin() as conn:
        [customer] = loom.queries(SYSTEM, conn).find("customer").records
        values = {"name": "三", "customer": customer["id"], "stage": "initial_contact"}
        loom.records(SYSTEM, conn).create("opportunity", values)
        raise RuntimeError("changed my mind")

    cache.run("opportunity_funnel", SYSTEM)
    assert (cache.hits, cache.misses) == (1, 1)


def test_results_expire(world: tuple[Loom, ReportCache, Timer]) -> None:
    _, cache, timer = world
    cache.run("opportunity_funnel", SYSTEM)
    timer.now = 59
    cache.run("opportunity_funnel", SYSTEM)
    timer.now = 61

    cache.run("opportunity_funnel", SYSTEM)

    assert (cache.hits, cache.misses) == (1, 2)


def test_a_report_grouped_by_a_lookup_also_reads_its_target_for_the_labels(crm: Loom) -> None:
    spec = ReportSpec.from_json(
        {"name": "by_customer", "object": "opportunity", "group_by": ["customer", "owner"],
         "measures": [{"function": "count"}], "chart": "table"}
    )  # fmt: skip

    assert report_reads(crm.registry, spec) == {"opportunity", "customer"}


def test_managers_of_one_team_share_results_and_other_teams_or_reps_do_not(
    world: tuple[Loom, ReportCache, Timer],
) -> None:
    _, cache, _ = world
    boss = Actor.user(21, "boss", {"sales_manager"}, department_id=1, department_path="/1/")
    deputy = Actor.user(22, "deputy", {"sales_manager"}, department_id=1, department_path="/1/")
    elsewhere = Actor.user(23, "south", {"sales_manager"}, department_id=2, department_path="/2/")
    rep = Actor.user(24, "rep", {"sales_rep"}, department_id=1, department_path="/1/")
    other_rep = Actor.user(25, "rep2", {"sales_rep"}, department_id=1, department_path="/1/")

    for actor in (boss, deputy):
        cache.run("opportunity_funnel", actor)
    assert (cache.hits, cache.misses) == (1, 1)
    cache.run("opportunity_funnel", elsewhere)
    # Reps read the department's opportunities but only their own orders.
    cache.run("opportunity_funnel", rep)
    cache.run("opportunity_funnel", other_rep)
    cache.run("sales_by_rep_month", rep)
    cache.run("sales_by_rep_month", other_rep)
    assert (cache.hits, cache.misses) == (2, 5)
    # "me" is the reader, whoever shares their scope.
    cache.run("opportunity_funnel", boss, parameters={})
    cache.run("sales_by_rep_month", boss, parameters={"rep": "me"})
    cache.run("sales_by_rep_month", deputy, parameters={"rep": "me"})
    assert (cache.hits, cache.misses) == (3, 7)


def test_a_connection_lost_mid_write_is_reported_as_the_database_error_it_is(crm: Loom) -> None:
    """The server ends the connection during a save (a restart does): the caller gets the
    database's own error (which the web answers 503, try again), not one from the cache's bookkeeping."""
    if crm.db.dialect.name != "postgresql":
        pytest.skip("ending one connection from another needs PostgreSQL's pg_terminate_backend")

    ended = []

    def end_my_connection(event) -> None:  # type: ignore[no-untyped-def]
        if ended:
            return
        pid = event.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with crm.db.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        ended.append(pid)

    crm.events.subscribe("after_save", end_my_connection)
    with pytest.raises(DBAPIError):
        crm.records(SYSTEM).create("customer", {"name": "华东电子"})
    assert crm.records(SYSTEM).create("customer", {"name": "华南电子"})["id"]  # the pool recovers
