"""SQL compilation: every filter selects, in the database, the rows Python evaluation selects.

Runs against in-memory SQLite and, when LOOM_TEST_POSTGRES_URL is set, PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import ExpressionError, NotCompilable
from engine.expressions import EvalContext, Function, SqlContext, default_functions, evaluate, to_sql

NOW = dt.datetime(2024, 5, 20, 10, 30)
TODAY = NOW.date()
UTC = ZoneInfo("UTC")
BEIJING = ZoneInfo("Asia/Shanghai")
# The moment and business time zone each comparison runs at. At 01:30 on 21 May in Beijing it is
# still 20 May in UTC, so the two calendars disagree about today; New York's clocks spring
# forward that night, which PostgreSQL follows exactly and SQLite (a fixed offset) does not.
CLOCKS = {
    "UTC": (NOW, UTC),
    "Asia/Shanghai": (dt.datetime(2024, 5, 20, 17, 30), BEIJING),
    "America/New_York": (dt.datetime(2024, 3, 10, 6, 30), ZoneInfo("America/New_York")),
}
EXACT_ZONES = ["UTC", "Asia/Shanghai"]  # no daylight saving: SQLite's fixed offset is exact
DST_ON_POSTGRESQL = pytest.mark.not_on_sqlite(
    "SQLite shifts datetimes by a fixed offset: an hour off across DST"
)
POSTGRES_URL = os.environ.get("LOOM_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def build_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        f"expr_{uuid.uuid4().hex[:12]}",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100)),
        sa.Column("level", sa.String(20)),
        sa.Column("amount", sa.Numeric(12, 2)),
        sa.Column("score", sa.BigInteger),  # as the engine makes integer fields
        sa.Column("last_followup_at", sa.DateTime),
        sa.Column("due", sa.Date),
        # none_as_null: an empty list field is SQL NULL, not the JSON text 'null'.
        sa.Column("tags", sa.JSON(none_as_null=True)),
    )


@dataclass
class Database:
    engine: sa.Engine
    table: sa.Table
    actor: Actor = SYSTEM

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def sql_context(self, functions=None, now=NOW, timezone=UTC) -> SqlContext:
        return SqlContext(
            now=now,
            actor=self.actor,
            functions=functions or default_functions(),
            dialect=self.dialect,
            timezone=timezone,
        )

    def resolve(self, name: str) -> sa.ColumnElement:
        if name == "id" or name not in self.table.c:
            raise ExpressionError(f"unknown field '{name}'")
        return self.table.c[name]

    def replace_rows(self, rows: list[dict]) -> None:
        with self.engine.begin() as connection:
            connection.execute(self.table.delete())
            if rows:
                connection.execute(self.table.insert(), rows)

    def selected(self, text: str, now=NOW, timezone=UTC) -> list[int]:
        sctx = self.sql_context(now=now, timezone=timezone)
        condition = to_sql(text, self.resolve, sctx, as_condition=True)
        with self.engine.connect() as connection:
            return sorted(connection.execute(sa.select(self.table.c.id).where(condition)).scalars())


def python_selected(text: str, rows: list[dict], actor: Actor = SYSTEM, now=NOW, timezone=UTC) -> list[int]:
    ctx = EvalContext(now=now, actor=actor, timezone=timezone)
    return sorted(
        row["id"] for row in rows if evaluate(text, {k: v for k, v in row.items() if k != "id"}, ctx)
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request):
    if request.param == "postgresql":
        if not POSTGRES_URL:
            if IN_CI:
                pytest.fail("CI is set but LOOM_TEST_POSTGRES_URL is not: PostgreSQL tests must run in CI")
            pytest.skip(
                "PostgreSQL variant needs LOOM_TEST_POSTGRES_URL, e.g. postgresql://loom:loom@127.0.0.1/loom"
            )
        engine = sa.create_engine(POSTGRES_URL)
    else:
        engine = sa.create_engine("sqlite://")
    metadata = sa.MetaData()
    table = build_table(metadata)
    metadata.create_all(engine)
    try:
        yield Database(engine, table)
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def row(id, name=None, level=None, amount=None, score=None, last_followup_at=None, due=None, tags=None):
    return dict(
        id=id,
        name=name,
        level=level,
        amount=amount,
        score=score,
        last_followup_at=last_followup_at,
        due=due,
        tags=tags,
    )


ROWS = [
    row(
        1,
        "Acme Ltd",
        "vip",
        Decimal("100.50"),
        5,
        dt.datetime(2024, 5, 1, 9),
        dt.date(2024, 5, 25),
        ["a", "b"],
    ),
    row(2),
    row(3, "100%_off", "normal", Decimal("-3.25"), -7, dt.datetime(2024, 5, 5), TODAY, []),
    row(4, "acme", "Vip", Decimal("0"), 0, dt.datetime(2024, 5, 20, 0, 0), dt.date(2024, 4, 1), ["b"]),
    row(
        5,
        "",
        "vip",
        Decimal("2.50"),
        16,
        dt.datetime(2024, 5, 4, 23, 59, 59),
        dt.date(2024, 5, 21),
        ["c", "a"],
    ),
    row(6, "Beta", None, Decimal("1000"), 15, dt.datetime(2024, 5, 19, 12), None, None),
    row(7, "Zoë", "gold", None, 3, None, dt.date(2024, 6, 30), ["a"]),
]

FILTERS = [
    'level == "vip" and days_since(last_followup_at) > 15',
    "days_since(last_followup_at) >= 15",
    "days_since(last_followup_at) < 16",
    "days_since(last_followup_at) <= 15",
    "days_since(last_followup_at) == 15",
    "days_since(last_followup_at) != 15",
    "15 < days_since(last_followup_at)",
    "days_since(last_followup_at) + 0 > 15",
    "days_since(due) == 0",
    "days_until(due) > 3",
    "days_until(due) <= 1",
    "days_until(due) * 2 < 10",
    'level != "vip"',
    "level == None",
    "level != None",
    "level is None",
    "not level",
    "level",
    "score",
    "tags",
    "due",
    "not (score > 0)",
    "score > 0 or amount < 0",
    "0 < score < 16",
    "score == score",
    "score != amount",
    "-score > 1",
    "score + 1 > 6",
    "score - amount > 0",
    "score * 2 >= 30",
    "score / 2 < 3",
    "score // 2 == -4",
    "score % 3 == 2",
    "score % -4 == -1",
    "(score if score > 4 else 0) > 0",
    "amount * 0.1 > 1",
    "amount > 2.5",
    "amount >= 2.50",
    "amount == 0",
    'contains(name, "%_")',
    'contains(name, "acme")',
    'contains(name, "")',
    '"Ltd" in name',
    '"cme" not in name',
    'startswith(name, "A")',
    'startswith(name, "a")',
    'startswith(name, "")',
    '"a" in tags',
    '"a" not in tags',
    'contains(tags, "b")',
    "isblank(tags)",
    "isblank(level)",
    "isblank(name)",
    "not isblank(due)",
    'level in ["vip", "gold"]',
    'level in ["vip", None]',
    'level not in ["vip"]',
    'level not in ["vip", None]',
    "level in []",
    "score in (5, 16)",
    'level in ["vip", 5]',
    'score in [5, "5", None]',
    "level == 5",
    "level != 5",
    "score == True",
    "due < today()",
    "due >= add_days(today(), 1)",
    "last_followup_at < today()",
    "last_followup_at >= today()",
    "last_followup_at == today()",
    "due > now()",
    "due < last_followup_at",
    "add_days(due, 5) > add_days(today(), 7)",
    "add_days(last_followup_at, 19) > now()",
    "add_days(due, score) > today()",
    "add_hours(last_followup_at, 30) > now()",
    "add_hours(last_followup_at, -5) < now()",
    "add_hours(last_followup_at, score) > now()",
    "hours_between(last_followup_at, now()) == 10",
    "hours_between(last_followup_at, now()) <= 10",
    "hours_between(last_followup_at, now()) > 400",
    "hours_between(last_followup_at, now()) <= 372",
    "hours_between(now(), last_followup_at) == -372",
    "hours_between(last_followup_at, add_hours(last_followup_at, score)) == score",
    "year(due) == 2024",
    "month(last_followup_at) == 5",
    "day(due) > 20",
    "len(name) > 4",
    "len(tags) == 2",
    "round(amount) == 101",
    "round(amount, 1) == 2.5",
    "abs(score) > 6",
    "min(score, 0) < 0",
    "max(score, 10) == 10",
    'coalesce(level, "none") == "none"',
    'upper(name) == "ACME"',
    'lower(name) == "acme"',
    'name + "!" == "Acme Ltd!"',
    'name < "B"',
    'level >= "h"',
    "(score > 1) == False",
    'contains(name, "a") == False',
    'has_role("admin") and score > 0',
    'has_role("nobody") or score > 10',
    "user() == None",
    "True",
    "False",
    "None",
    "1 + 1 == 2",
]


@pytest.fixture(scope="module")
def loaded(database):
    database.replace_rows(ROWS)
    return database


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
@pytest.mark.parametrize("text", FILTERS)
def test_sql_selects_the_rows_python_selects(loaded, text, zone):
    now, timezone = CLOCKS[zone]
    assert loaded.selected(text, now, timezone) == python_selected(text, ROWS, now=now, timezone=timezone)


def test_days_since_compiles_to_an_index_friendly_range(database):
    condition = to_sql("days_since(last_followup_at) > 15", database.resolve, database.sql_context())
    sql = str(condition.compile(database.engine, compile_kwargs={"literal_binds": True}))
    assert sql.endswith("last_followup_at < '2024-05-05 00:00:00.000000'") or sql.endswith(
        "last_followup_at < '2024-05-05 00:00:00'"
    )
    assert "julianday" not in sql and "CAST" not in sql


def test_the_index_friendly_range_starts_at_midnight_in_the_time_zone(database):
    sctx = database.sql_context(now=dt.datetime(2026, 11, 25, 17, 30), timezone=BEIJING)
    condition = to_sql("days_since(last_followup_at) > 0", database.resolve, sctx)
    sql = str(condition.compile(database.engine, compile_kwargs={"literal_binds": True}))
    # Before 26 November began in Beijing, which was 16:00 on the 25th in UTC.
    assert sql.endswith("last_followup_at < '2026-11-25 16:00:00.000000'") or sql.endswith(
        "last_followup_at < '2026-11-25 16:00:00'"
    )


def test_a_chinese_sales_rep_sees_beijing_dates(scratch):
    now = dt.datetime(2026, 11, 25, 17, 30)  # 01:30 on 26 November in Beijing
    rows = [
        row(1, "evening", last_followup_at=dt.datetime(2026, 11, 25, 12), due=dt.date(2026, 11, 26)),
        row(
            2, "after midnight", last_followup_at=dt.datetime(2026, 11, 25, 16, 30), due=dt.date(2026, 11, 25)
        ),
        row(3, "late", last_followup_at=dt.datetime(2026, 11, 24, 15, 59), due=dt.date(2026, 11, 27)),
        row(4, "never"),
    ]
    scratch.replace_rows(rows)
    expected = {
        # Followed up at 20:00 yesterday, Beijing time: one day ago, though the same UTC date.
        "days_since(last_followup_at) == 1": [1],
        "days_since(last_followup_at) + 0 == 1": [1],
        # Not followed up today: 00:30 this morning counts as today.
        "days_since(last_followup_at) >= 1": [1, 3],
        "days_since(last_followup_at) == 0": [2],
        "days_since(last_followup_at) * 1 == 0": [2],
        "days_since(last_followup_at) > 1": [3],
        "days_until(due) == 0": [1],
        "days_until(due) + 0 == 1": [3],
        "due == today()": [1],
        "due < today()": [2],
        "day(last_followup_at) == 26": [2],
        "day(last_followup_at) == 25": [1],
        "day(last_followup_at) == 24": [3],
    }
    for text, ids in expected.items():
        assert python_selected(text, rows, now=now, timezone=BEIJING) == ids, text
        assert scratch.selected(text, now, BEIJING) == ids, text


@pytest.mark.not_on_sqlite(
    "SQLite shifts datetimes by the offset at the moment: an hour off across a DST change"
)
def test_postgresql_follows_daylight_saving_exactly(scratch):
    now, new_york = CLOCKS["America/New_York"]  # 01:30 on 10 March, before clocks spring forward at 02:00
    rows = [
        row(1, "00:30 on the 11th", last_followup_at=dt.datetime(2024, 3, 11, 4, 30)),
        row(2, "23:30 on the 10th", last_followup_at=dt.datetime(2024, 3, 11, 3, 30)),
    ]
    scratch.replace_rows(rows)
    for text, ids in {
        "days_until(last_followup_at) == 1": [1],
        "days_until(last_followup_at) + 0 == 1": [1],
        "days_until(last_followup_at) < 1": [2],
        "day(last_followup_at) == 10": [2],
    }.items():
        assert python_selected(text, rows, now=now, timezone=new_york) == ids, text
        assert scratch.selected(text, now, new_york) == ids, text


def test_the_time_zone_is_a_bound_parameter_on_postgresql():
    sctx = SqlContext(
        now=NOW, actor=SYSTEM, functions=default_functions(), dialect="postgresql", timezone=BEIJING
    )
    compiled = to_sql("day(last_followup_at) == 1", resolve, sctx).compile(dialect=postgresql.dialect())
    assert "Asia/Shanghai" not in str(compiled)
    assert "Asia/Shanghai" in compiled.params.values()


def test_user_and_roles_compile_to_the_actor(loaded):
    ann = Actor.user(5, "ann", frozenset({"sales"}))
    sctx = SqlContext(now=NOW, actor=ann, functions=default_functions(), dialect=loaded.dialect)
    for text in ('score == user() and has_role("sales")', 'score == user() and has_role("admin")'):
        condition = to_sql(text, loaded.resolve, sctx)
        with loaded.engine.connect() as connection:
            ids = sorted(connection.execute(sa.select(loaded.table.c.id).where(condition)).scalars())
        assert ids == python_selected(text, ROWS, actor=ann)
    assert python_selected('score == user() and has_role("sales")', ROWS, actor=ann) == [1]


def test_a_value_expression_compiles_to_its_value(loaded):
    value = to_sql("score * 2 + 1", loaded.resolve, loaded.sql_context())
    with loaded.engine.connect() as connection:
        results = dict(connection.execute(sa.select(loaded.table.c.id, value)).all())
    assert results == {r["id"]: None if r["score"] is None else r["score"] * 2 + 1 for r in ROWS}


def test_as_condition_chooses_between_value_and_condition(loaded):
    sctx = loaded.sql_context()
    as_value = to_sql("score", loaded.resolve, sctx)
    assert as_value is loaded.table.c.score
    as_condition = to_sql("score", loaded.resolve, sctx, as_condition=True)
    with loaded.engine.connect() as connection:
        ids = sorted(connection.execute(sa.select(loaded.table.c.id).where(as_condition)).scalars())
    assert ids == python_selected("score", ROWS)
    forced_value = to_sql("score > 3", loaded.resolve, sctx, as_condition=False)
    with loaded.engine.connect() as connection:
        values = dict(connection.execute(sa.select(loaded.table.c.id, forced_value)).all())
    assert {key: bool(value) for key, value in values.items()} == {
        r["id"]: r["score"] is not None and r["score"] > 3 for r in ROWS
    }


def test_a_formula_name_may_resolve_to_compiled_sql(loaded):
    sctx = loaded.sql_context()

    def resolve(name):
        if name == "doubled":
            return to_sql("score * 2", loaded.resolve, sctx)
        if name == "is_big":
            return to_sql("amount > 100", loaded.resolve, sctx)
        return loaded.resolve(name)

    condition = to_sql("doubled > 10 or not is_big", resolve, sctx)
    with loaded.engine.connect() as connection:
        ids = sorted(connection.execute(sa.select(loaded.table.c.id).where(condition)).scalars())
    expected = [
        r["id"]
        for r in ROWS
        if (r["score"] is not None and r["score"] * 2 > 10)
        or not (r["amount"] is not None and r["amount"] > 100)
    ]
    assert ids == expected


def sqlite_context(functions=None) -> SqlContext:
    return SqlContext(now=NOW, actor=SYSTEM, functions=functions or default_functions(), dialect="sqlite")


TABLE = build_table(sa.MetaData())


def resolve(name: str) -> sa.ColumnElement:
    if name not in TABLE.c:
        raise ExpressionError(f"unknown field '{name}'")
    return TABLE.c[name]


@pytest.mark.parametrize(
    ("text", "construct"),
    [
        ('changed("level")', "changed()"),
        ('old("level") == 1', "old()"),
        ("has_role(level)", "has_role()"),
        ("score ** 2 > 1", "**"),
        ("amount % 2 == 1", "%"),
        ("amount // 2 == 1", "//"),
        ("level in tags", "contains()"),
        ("min(tags) == 1", "min()"),
        ("round(amount, score) == 1", "round()"),
        ("(score or 0) > 1", "and/or"),
        ("[score, 1] == [1, 1]", "list"),
        ("due + 1 > today()", "add_days()"),
        ('level * 2 == "x"', "*"),
    ],
)
def test_what_sql_cannot_express_is_refused_by_name(text, construct):
    with pytest.raises(NotCompilable) as caught:
        to_sql(text, resolve, sqlite_context())
    assert construct in caught.value.message


def test_a_function_without_sql_is_refused():
    functions = default_functions()
    functions.register(Function("score_of", lambda ctx, x: 1, 1, 1))
    with pytest.raises(NotCompilable, match=r"score_of\(\) has no SQL form"):
        to_sql("score_of(name) > 1", resolve, sqlite_context(functions))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("levle == 1", "unknown field 'levle'"),
        ("nope(level)", "unknown function nope()"),
        ("days_since()", "days_since() takes 1 argument, 0 given"),
        ("level > 5", "cannot compare text with integer"),
        ('name + 1 == "x"', "cannot use + on text and integer"),
        ("name.upper()", "attribute access is not allowed"),
    ],
)
def test_errors_in_the_expression_are_expression_errors(text, message):
    with pytest.raises(ExpressionError) as caught:
        to_sql(text, resolve, sqlite_context())
    assert not isinstance(caught.value, NotCompilable)
    assert message in caught.value.message


# A property test: random small tables and random filters, SQL against Python.

TEXTS = ["vip", "Vip", "normal", "", "a", "A", "%", "_", "x_y", "Acme", "b%"]


def literal(text: str) -> str:
    return json.dumps(text)


numbers = st.one_of(
    st.sampled_from(
        [
            "score",
            "abs(score)",
            "len(name)",
            "len(tags)",
            "days_since(last_followup_at)",
            "days_until(due)",
            "day(due)",
            "month(last_followup_at)",
            "coalesce(score, 0)",
            "min(score, 3)",
            "max(score, -3)",
            "round(amount)",
        ]
    ),
    st.integers(-20, 20).map(str),
    st.builds(
        lambda op, n: f"(score {op} {n})",
        st.sampled_from(["+", "-", "*", "//", "%"]),
        st.integers(-5, 5).filter(bool),
    ),
)
texts = st.one_of(
    st.sampled_from(["name", "level", "lower(name)", "upper(level)", 'coalesce(level, "none")']),
    st.sampled_from(TEXTS).map(literal),
)
comparisons = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
day_offsets = st.integers(-30, 30)
predicate_leaves = st.one_of(
    st.builds(lambda a, op, b: f"{a} {op} {b}", numbers, comparisons, numbers),
    st.builds(lambda a, op, b: f"{a} {op} {b}", texts, comparisons, texts),
    st.builds(
        lambda op, cents: f"amount {op} {Decimal(cents) / 100}", comparisons, st.integers(-20000, 20000)
    ),
    st.builds(
        lambda c, op: f"{c} {op} None",
        st.sampled_from(["level", "score", "due", "tags"]),
        st.sampled_from(["==", "!=", "is", "is not"]),
    ),
    st.builds(
        lambda values, negated: f"level {'not in' if negated else 'in'} {values!r}",
        st.lists(st.sampled_from(["vip", "Vip", "gold", None]), max_size=3),
        st.booleans(),
    ),
    st.builds(lambda t: f"contains(name, {literal(t)})", st.sampled_from(TEXTS)),
    st.builds(lambda t: f"startswith(name, {literal(t)})", st.sampled_from(TEXTS)),
    st.builds(lambda t: f"{literal(t)} in tags", st.sampled_from(["a", "b", "c", "z"])),
    st.builds(lambda c: f"isblank({c})", st.sampled_from(["name", "level", "tags", "due"])),
    st.builds(lambda op, n: f"due {op} add_days(today(), {n})", comparisons, day_offsets),
    st.builds(lambda op, n: f"last_followup_at {op} add_days(today(), {n})", comparisons, day_offsets),
    st.builds(lambda op, n: f"add_days(due, {n}) {op} today()", comparisons, day_offsets),
    st.builds(lambda op, n: f"days_since(last_followup_at) {op} {n}", comparisons, day_offsets),
    st.builds(lambda op, n: f"days_until(due) {op} {n}", comparisons, day_offsets),
    st.builds(lambda a, b: f"{a} == {b}", numbers, st.sampled_from(["True", "False"])),
)


def combined(inner, *extra):
    return st.one_of(
        st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
        st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
        st.builds(lambda a: f"not ({a})", inner),
        st.builds(lambda a, b, c: f"({a}) if ({b}) else ({c})", inner, inner, inner),
        *extra,
    )


# Predicates evaluate to True or False, so they may also be compared with True/False as values.
predicates = st.recursive(
    predicate_leaves,
    lambda inner: combined(
        inner, st.builds(lambda a, b: f"({a}) == {b}", inner, st.sampled_from(["True", "False"]))
    ),
    max_leaves=4,
)
bare_values = st.sampled_from(["score", "level", "name", "tags", "due", "last_followup_at", "amount"])
conditions = st.recursive(st.one_of(predicates, bare_values), combined, max_leaves=3)
# Seconds into a UTC day: either side of midnight in New York (04:00 or 05:00 UTC, with and
# without daylight saving) and in Beijing (16:00 UTC), and a few others.
SECONDS = [0, 1, 14399, 14400, 17999, 18000, 3600 * 10, 57599, 57600, 86399]


def moments_around(today: dt.date, days: st.SearchStrategy[int]) -> st.SearchStrategy[dt.datetime]:
    midnight = dt.datetime.combine(today, dt.time())
    return st.builds(
        lambda day, second: midnight + dt.timedelta(days=day, seconds=second), days, st.sampled_from(SECONDS)
    )


def dates_around(today: dt.date, days: st.SearchStrategy[int]) -> st.SearchStrategy[dt.date]:
    return days.map(lambda day: today + dt.timedelta(days=day))


def random_rows(today: dt.date) -> st.SearchStrategy[list[dict]]:
    return st.lists(
        st.fixed_dictionaries(
            {
                "name": st.none() | st.text(alphabet="aAbB%_ x", max_size=5),
                "level": st.none() | st.sampled_from(["vip", "Vip", "gold", "", "normal"]),
                "amount": st.none() | st.integers(-20000, 20000).map(lambda cents: Decimal(cents) / 100),
                "score": st.none() | st.integers(-20, 20),
                "last_followup_at": st.none() | moments_around(today, st.integers(-40, 40)),
                "due": st.none() | dates_around(today, st.integers(-40, 40)),
                "tags": st.none() | st.lists(st.sampled_from(["a", "b", "c"]), max_size=3, unique=True),
            }
        ),
        max_size=8,
    ).map(lambda rows: [{"id": index + 1, **values} for index, values in enumerate(rows)])


# Dates only, close to today and to midnight in each zone, where the business calendar and
# UTC's disagree if anything does.
near_days = st.integers(-3, 3) | st.integers(-40, 40)
day_counts = st.sampled_from(
    [
        "days_since(last_followup_at)",
        "days_until(last_followup_at)",
        "days_since(due)",
        "days_until(due)",
        "days_since(add_days(last_followup_at, 1))",
    ]
)
dated = st.sampled_from(["last_followup_at", "due", "add_days(last_followup_at, -1)"])
date_leaves = st.one_of(
    st.builds(lambda a, op, n: f"{a} {op} {n}", day_counts, comparisons, near_days),
    # `+ 0` keeps days_since() itself in the SQL rather than the index-friendly range.
    st.builds(lambda a, op, n: f"{a} + 0 {op} {n}", day_counts, comparisons, near_days),
    st.builds(lambda a, op, b: f"{a} {op} {b}", day_counts, comparisons, day_counts),
    st.builds(
        lambda part, d, op, n: f"{part}({d}) {op} {part}(add_days(today(), {n}))",
        st.sampled_from(["year", "month", "day"]),
        dated,
        comparisons,
        near_days,
    ),
    st.builds(lambda op, n: f"last_followup_at {op} add_days(today(), {n})", comparisons, near_days),
    st.builds(
        lambda op, n: f"hours_between(last_followup_at, now()) {op} {n}",
        comparisons,
        st.integers(-3, 3).map(lambda n: n * 24) | st.integers(-1000, 1000),
    ),
)
date_conditions = st.recursive(date_leaves, combined, max_leaves=3)


def rows_of_dates(today: dt.date) -> st.SearchStrategy[list[dict]]:
    return st.lists(
        st.builds(
            # Every row has a follow-up: the property test above covers empty values.
            lambda moment, due: {"last_followup_at": moment, "due": due},
            moments_around(today, near_days),
            st.none() | dates_around(today, near_days),
        ),
        min_size=4,
        max_size=12,
    ).map(lambda rows: [row(index + 1, **values) for index, values in enumerate(rows)])


@pytest.fixture(scope="module")
def scratch(database):
    metadata = sa.MetaData()
    table = build_table(metadata)
    metadata.create_all(database.engine)
    try:
        yield Database(database.engine, table)
    finally:
        metadata.drop_all(database.engine)


@settings(
    max_examples=int(os.environ.get("LOOM_EXPR_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@pytest.mark.parametrize("zone", [*EXACT_ZONES, pytest.param("America/New_York", marks=DST_ON_POSTGRESQL)])
@given(data=st.data())
def test_property_sql_and_python_select_the_same_rows(scratch, zone, data):
    now, timezone = CLOCKS[zone]
    rows = data.draw(random_rows(now.date()), label="rows")
    text = data.draw(conditions, label="filter")
    scratch.replace_rows(rows)
    assert scratch.selected(text, now, timezone) == python_selected(text, rows, now=now, timezone=timezone), (
        text
    )


@settings(
    max_examples=int(os.environ.get("LOOM_EXPR_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@pytest.mark.parametrize("zone", [*EXACT_ZONES, pytest.param("America/New_York", marks=DST_ON_POSTGRESQL)])
@given(data=st.data())
def test_property_date_functions_follow_the_same_calendar_in_sql(scratch, zone, data):
    now, timezone = CLOCKS[zone]
    rows = data.draw(rows_of_dates(now.date()), label="rows")
    text = data.draw(date_conditions, label="filter")
    scratch.replace_rows(rows)
    assert scratch.selected(text, now, timezone) == python_selected(text, rows, now=now, timezone=timezone), (
        text
    )
