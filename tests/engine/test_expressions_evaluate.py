"""Evaluation in Python: semantics shared with SQL, the function library, context and failures."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import ExpressionError
from engine.expressions import EvalContext, Function, FunctionRegistry, default_functions, evaluate, parse

NOW = dt.datetime(2024, 5, 20, 10, 30)
CTX = EvalContext(now=NOW)
RECORD = {
    "name": "Acme Ltd",
    "level": "vip",
    "amount": Decimal("100.50"),
    "ratio": 0.5,
    "score": 7,
    "empty": None,
    "last_followup_at": dt.datetime(2024, 5, 1, 23, 59),
    "due": dt.date(2024, 5, 25),
    "tags": ["a", "b"],
}


def run(text, names=RECORD, ctx=CTX):
    return evaluate(text, names, ctx)


def test_typical_condition():
    assert run('level == "vip" and days_since(last_followup_at) > 15') is True
    assert run('level == "vip" and days_since(last_followup_at) > 19') is False


def test_evaluate_accepts_a_parsed_expression():
    assert evaluate(parse("score * 2"), RECORD, CTX) == 14


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("empty < 1", False),
        ("empty > 1", False),
        ("1 <= empty", False),
        ("empty >= empty", False),
        ("empty == None", True),
        ("empty != None", False),
        ("empty == 1", False),
        ("empty != 1", True),
        ("empty is None", True),
        ("score is not None", True),
        ("empty + 1", None),
        ("2 * empty", None),
        ("empty / 2", None),
        ("-empty", None),
        ("empty ** 2", None),
        ("empty % 2", None),
        ("not empty", True),
        ("empty in tags", False),
        ('"a" in empty', False),
        ('"a" not in empty', True),
    ],
)
def test_none_behaves_as_sql_null_in_orderings_and_arithmetic(text, expected):
    assert run(text) == expected


def test_fractional_literals_are_decimal_and_mix_with_decimal_fields():
    assert run("amount * 0.1") == Decimal("10.050")
    assert isinstance(run("amount * 0.1"), Decimal)
    assert run("0.1 + 0.2 == 0.3") is True


def test_decimal_and_float_values_mix():
    assert run("ratio * 0.5") == Decimal("0.25")
    assert run("ratio < 0.6") is True


def test_a_date_meets_a_datetime_at_midnight():
    assert run("last_followup_at < today()") is True
    assert run("due > now()") is True
    assert evaluate("d == today()", {"d": dt.datetime(2024, 5, 20)}, CTX) is True


def test_and_or_return_python_values():
    assert run("empty or level") == "vip"
    assert run("score and level") == "vip"


def test_lists_and_membership():
    assert run('"a" in tags') is True
    assert run('"z" not in tags') is True
    assert run('level in ["vip", "gold"]') is True
    assert run('"cme" in name') is True
    assert run("[1, 2] + [3]") == [1, 2, 3]


def test_text_operations():
    assert run('name + "!"') == "Acme Ltd!"
    assert run('"ab" * 3') == "ababab"


def test_integer_arithmetic_follows_python():
    assert run("-7 // 2") == -4
    assert run("-7 % 3") == 2
    assert run("2 ** 10") == 1024
    assert run("2 ** -1") == Decimal("0.5")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("levle == 1", "unknown name 'levle'"),
        ("score / 0", "division by zero"),
        ("score // 0", "division by zero"),
        ("level > 5", "cannot compare text with number using >"),
        ("name - 1", "cannot use - on text and number"),
        ('"%d" % score', "% works on numbers only"),
        ("tags * 2", "lists cannot be repeated"),
        ("-name", "cannot use - on text"),
        ("[tags]", "a list cannot contain lists"),
        ("nope(1)", "unknown function nope()"),
        ("days_since(1, 2)", "days_since() takes 1 argument, 2 given"),
        ("round()", "round() takes 1 to 2 arguments, 0 given"),
        ("days_since(name)", "days_since() expects a date, got text"),
        ("hours_between(due, now())", "hours_between() expects two datetimes, got date"),
        ("1 in 5", "`in` needs a list or text on its right"),
        ("1 in name", "`in` looks for text inside text"),
        ("2 ** 2000", "exponent is larger than 1000"),
        ("3 ** 1000", "number is too large"),
    ],
)
def test_runtime_failures_are_expression_errors(text, message):
    with pytest.raises(ExpressionError) as caught:
        run(text)
    assert message in caught.value.message
    assert text in caught.value.message


def test_a_failing_plugin_function_becomes_an_expression_error():
    functions = default_functions()
    functions.register(Function("explode", lambda ctx: 1 / 0 if ctx else None, 0, 0))
    functions.register(Function("broken", lambda ctx: {}["missing"], 0, 0))
    ctx = EvalContext(now=NOW, functions=functions)
    with pytest.raises(ExpressionError, match="division by zero"):
        evaluate("explode()", {}, ctx)
    with pytest.raises(ExpressionError, match="evaluation failed: KeyError"):
        evaluate("broken()", {}, ctx)


def test_names_are_read_only_and_left_untouched():
    functions = default_functions()

    def tamper(ctx, names):
        names["level"] = "hacked"

    functions.register(Function("tamper", tamper, 0, 0, reads_record=True))
    record = dict(RECORD)
    with pytest.raises(ExpressionError):
        evaluate("tamper()", record, EvalContext(now=NOW, functions=functions))
    assert record == RECORD


def test_names_may_be_any_mapping():
    assert evaluate("level", MappingProxyType({"level": "x"}), CTX) == "x"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today()", dt.date(2024, 5, 20)),
        ("now()", NOW),
        ("days_since(last_followup_at)", 19),
        ("days_since(due)", -5),
        ("days_since(empty)", None),
        ("days_until(due)", 5),
        ("days_until(empty)", None),
        ("add_days(due, 7)", dt.date(2024, 6, 1)),
        ("add_days(last_followup_at, 1)", dt.datetime(2024, 5, 2, 23, 59)),
        ("add_days(due, 2.0)", dt.date(2024, 5, 27)),
        ("add_days(empty, 1)", None),
        ("add_hours(last_followup_at, 2)", dt.datetime(2024, 5, 2, 1, 59)),
        ("add_hours(last_followup_at, -24)", dt.datetime(2024, 4, 30, 23, 59)),
        ("add_hours(due, 1)", dt.datetime(2024, 5, 25, 1, 0)),
        ("add_hours(empty, 1)", None),
        ("hours_between(last_followup_at, now())", 442),  # 18 days 10 h 31 min
        ("hours_between(now(), last_followup_at)", -442),
        ("hours_between(last_followup_at, add_hours(last_followup_at, 3))", 3),
        ("hours_between(empty, now())", None),
        ("isblank(empty)", True),
        ('isblank("")', True),
        ("isblank([])", True),
        ("isblank(0)", False),
        ("isblank(name)", False),
        ("coalesce(empty, empty, 3)", 3),
        ("coalesce(empty)", None),
        ('contains(name, "Ltd")', True),
        ('contains(name, "ltd")', False),
        ('contains(tags, "b")', True),
        ('contains(empty, "b")', False),
        ("contains(name, empty)", False),
        ('startswith(name, "Ac")', True),
        ('startswith(name, "ac")', False),
        ('startswith(empty, "a")', False),
        ("lower(name)", "acme ltd"),
        ("upper(name)", "ACME LTD"),
        ("lower(empty)", None),
        ("len(name)", 8),
        ("len(tags)", 2),
        ("len(empty)", None),
        ("round(2.5)", 3),
        ("round(-2.5)", -3),
        ("round(amount, 1)", Decimal("100.5")),
        ("round(1.005, 2)", Decimal("1.01")),
        ("round(ratio, 0)", 1),
        ("round(score)", 7),
        ("abs(-3)", 3),
        ("abs(empty)", None),
        ("min(3, 1, 2)", 1),
        ("max(3, 1, 2)", 3),
        ("min([4, 5])", 4),
        ("max([])", None),
        ("min(score, empty)", None),
        ("year(due)", 2024),
        ("month(last_followup_at)", 5),
        ("day(due)", 25),
        ("year(empty)", None),
        ("user()", None),
        ('has_role("admin")', True),
        ('has_role("sales")', False),
    ],
)
def test_builtin_functions(text, expected):
    result = run(text)
    assert result == expected
    assert type(result) is type(expected)


# 01:30 on 26 November in Beijing is still 25 November in UTC, where datetimes are stored.
BEIJING = ZoneInfo("Asia/Shanghai")
BEIJING_NIGHT = EvalContext(now=dt.datetime(2026, 11, 25, 17, 30), timezone=BEIJING)
FOLLOWUPS = {
    "yesterday_evening": dt.datetime(2026, 11, 25, 12, 0),  # 20:00 on the 25th in Beijing
    "just_after_midnight": dt.datetime(2026, 11, 25, 16, 30),  # 00:30 on the 26th
    "day_before_yesterday_late": dt.datetime(2026, 11, 24, 15, 59),  # 23:59 on the 24th
    "tomorrow_at_midnight": dt.datetime(2026, 11, 26, 16, 0),  # 00:00 on the 27th
    "new_year": dt.datetime(2026, 12, 31, 16, 0),  # 00:00 on 1 January 2027
    "due": dt.date(2026, 11, 26),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today()", dt.date(2026, 11, 26)),
        ("now()", dt.datetime(2026, 11, 25, 17, 30)),
        ("days_since(yesterday_evening)", 1),
        ("days_since(just_after_midnight)", 0),
        ("days_since(day_before_yesterday_late)", 2),
        ("days_until(tomorrow_at_midnight)", 1),
        ("days_until(just_after_midnight)", 0),
        ("days_until(due)", 0),
        ("days_since(due)", 0),
        ("due == today()", True),
        ("days_since(yesterday_evening) >= 1", True),
        ("days_since(just_after_midnight) >= 1", False),
        ("year(new_year)", 2027),
        ("month(new_year)", 1),
        ("day(new_year)", 1),
        ("day(yesterday_evening)", 25),
        ("add_days(yesterday_evening, 1)", dt.datetime(2026, 11, 26, 12, 0)),
        ("add_days(due, 1)", dt.date(2026, 11, 27)),
    ],
)
def test_dates_are_business_dates_in_the_time_zone(text, expected):
    result = evaluate(text, FOLLOWUPS, BEIJING_NIGHT)
    assert result == expected
    assert type(result) is type(expected)


def test_without_a_time_zone_dates_are_utc_dates():
    utc_night = EvalContext(now=BEIJING_NIGHT.now)
    assert utc_night.timezone == ZoneInfo("UTC")
    assert evaluate("today()", {}, utc_night) == dt.date(2026, 11, 25)
    assert evaluate("days_since(yesterday_evening)", FOLLOWUPS, utc_night) == 0
    assert evaluate("day(just_after_midnight)", FOLLOWUPS, utc_night) == 25


def test_a_datetime_at_the_edge_of_the_range_of_dates_is_an_expression_error():
    with pytest.raises(ExpressionError, match=r"days_since\(\) got a datetime at the edge"):
        evaluate("days_since(d)", {"d": dt.datetime.max}, BEIJING_NIGHT)


def test_changed_and_old_read_the_stored_record():
    old = {**RECORD, "level": "normal"}
    ctx = EvalContext(now=NOW, old=old)
    assert evaluate('changed("level")', RECORD, ctx) is True
    assert evaluate('changed("score")', RECORD, ctx) is False
    assert evaluate('old("level")', RECORD, ctx) == "normal"
    assert evaluate('changed("level")', RECORD, CTX) is False
    assert evaluate('old("level")', RECORD, CTX) is None
    with pytest.raises(ExpressionError, match="unknown field 'nope'"):
        evaluate('changed("nope")', RECORD, ctx)


def test_user_and_roles_come_from_the_actor():
    ctx = EvalContext(now=NOW, actor=Actor.user(42, "ann", frozenset({"sales"})))
    assert evaluate("user()", {}, ctx) == 42
    assert evaluate('has_role("sales")', {}, ctx) is True
    assert evaluate('has_role("admin")', {}, ctx) is False
    assert EvalContext(now=NOW).actor is SYSTEM


def test_functions_check_their_arguments_sizes():
    with pytest.raises(ExpressionError, match="longer than 10000"):
        evaluate("upper(t)", {"t": "x" * 10_001}, CTX)
    with pytest.raises(ExpressionError, match="more than 10000 items"):
        evaluate("max(t)", {"t": list(range(10_001))}, CTX)
    with pytest.raises(ExpressionError, match="at most 1000000 days"):
        run("add_days(due, 10 ** 7)")
    with pytest.raises(ExpressionError, match="past the range of dates"):
        run("add_days(due, -999999)")
    with pytest.raises(ExpressionError, match="0 to 12 decimal places"):
        run("round(amount, 13)")


def test_registry_lookup_and_plugins():
    functions = default_functions()
    assert "days_since" in functions
    assert "nope" not in functions
    assert functions.get("lower").name == "lower"
    assert functions.names() == sorted(functions.names())
    with pytest.raises(ExpressionError, match="unknown function nope"):
        functions.get("nope")
    functions.register(Function("double", lambda ctx, x: x * 2, 1, 1, doc="Twice x."))
    assert evaluate("double(score)", RECORD, EvalContext(now=NOW, functions=functions)) == 14
    assert "double" not in default_functions(), "each call builds a new registry"
    with pytest.raises(ValueError):
        FunctionRegistry().register(Function("__class__", lambda ctx: None))


def test_threads_evaluate_independently():
    expression = parse("score * 2 + len(name)")
    failures = []

    def work(offset):
        names = {"score": offset, "name": "x" * offset}
        for _ in range(2000):
            if evaluate(expression, names, CTX) != offset * 3:
                failures.append(offset)
                return

    threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_function_may_evaluate_another_expression():
    functions = default_functions()
    functions.register(Function("inner", lambda ctx, x: evaluate("x + 1", {"x": x}, ctx), 1, 1))
    ctx = EvalContext(now=NOW, functions=functions)
    assert evaluate("inner(score) * 10 + score", RECORD, ctx) == 87


def test_get_reads_one_entry_of_an_inbound_payload():
    ctx = EvalContext(now=NOW)
    payload = {"company": "深圳华强电子", "phone": "13800138000", "tags": ["展会", "华南"]}
    assert evaluate("get(payload, 'company')", {"payload": payload}, ctx) == "深圳华强电子"
    assert evaluate("get(payload, 'email', 'none')", {"payload": payload}, ctx) == "none"
    assert evaluate("get(get(payload, 'tags'), 1)", {"payload": payload}, ctx) == "华南"
    assert evaluate("get(payload, 'missing')", {"payload": payload}, ctx) is None


def test_text_shows_numbers_and_dates_the_way_people_write_them():
    ctx = EvalContext(now=NOW)
    record = {"score": 85, "amount": Decimal("120000.50"), "due": dt.date(2026, 12, 1), "flag": None}
    assert evaluate("'评分 ' + text(score)", record, ctx) == "评分 85"
    assert evaluate("text(amount)", record, ctx) == "120000.50"
    assert evaluate("text(due)", record, ctx) == "2026-12-01"
    assert evaluate("text(flag)", record, ctx) == ""


def test_a_chained_comparison_reads_each_operand_once_and_stops_at_the_first_that_fails():
    calls = []

    def seen(ctx, value):
        calls.append(value)
        return value

    registry = default_functions()
    registry.register(Function("seen", seen, min_args=1, max_args=1))
    ctx = EvalContext(now=NOW, functions=registry)
    assert evaluate("1 < seen(score) < 10", RECORD, ctx) is True
    assert calls == [7]
    assert evaluate("10 < seen(score) < seen(99)", RECORD, ctx) is False
    assert calls == [7, 7]  # the second comparison never ran


def test_a_list_written_in_an_expression_is_a_new_list_each_time():
    first = run("['a', 'b']")
    first.append("changed by the caller")
    assert run("['a', 'b']") == ["a", "b"]
    assert run("level in ['vip', 'key']") is True and run("('x', 'y')") == ("x", "y")


def test_and_or_give_the_value_that_decided_as_python_does():
    assert run("empty or name") == "Acme Ltd"
    assert run("score and empty") is None
    assert run("name if empty is None else 'never'") == "Acme Ltd"
