"""The clock: moments in naive UTC, dates in the business time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.base.clock import Clock, business_date, start_of_day
from engine.base.errors import LoomError
from engine.expressions import evaluate
from engine.loom import Loom

# 01:30 on 26 November in Beijing.
BEIJING_NIGHT = datetime(2026, 11, 25, 17, 30)


@pytest.fixture(autouse=True)
def no_clock_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOOM_NOW", raising=False)
    monkeypatch.delenv("LOOM_TIMEZONE", raising=False)


def test_today_is_the_date_in_the_business_time_zone():
    clock = Clock(BEIJING_NIGHT, timezone="Asia/Shanghai")
    assert clock.now() == BEIJING_NIGHT
    assert clock.now().tzinfo is None
    assert clock.today() == date(2026, 11, 26)


def test_the_time_zone_defaults_to_asia_shanghai():
    assert Clock().timezone == ZoneInfo("Asia/Shanghai")
    assert Clock(BEIJING_NIGHT).today() == date(2026, 11, 26)


def test_loom_timezone_sets_the_zone_unless_one_is_given(monkeypatch):
    monkeypatch.setenv("LOOM_TIMEZONE", "Europe/Berlin")
    assert Clock().timezone == ZoneInfo("Europe/Berlin")
    assert Clock(BEIJING_NIGHT).timezone == ZoneInfo("Europe/Berlin")
    assert Clock(timezone="UTC").timezone == ZoneInfo("UTC")
    assert Clock(read_env=False).timezone == ZoneInfo("Asia/Shanghai")


def test_new_york_is_still_on_yesterday_just_after_midnight_utc():
    clock = Clock(datetime(2026, 11, 26, 3, 0), timezone="America/New_York")  # 22:00 on the 25th there
    assert clock.now().date() == date(2026, 11, 26)
    assert clock.today() == date(2026, 11, 25)
    clock.set("2026-11-26T05:00:00Z")
    assert clock.today() == date(2026, 11, 26)


def test_loom_now_is_read_as_utc_and_an_offset_is_converted(monkeypatch):
    clock = Clock(timezone="Asia/Shanghai")
    monkeypatch.setenv("LOOM_NOW", "2026-11-25T17:30:00")
    assert clock.now() == BEIJING_NIGHT
    monkeypatch.setenv("LOOM_NOW", "2026-11-26T01:30:00+08:00")
    assert clock.now() == BEIJING_NIGHT
    assert clock.today() == date(2026, 11, 26)


@pytest.mark.parametrize("name", ["Asia/Beijing", "", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused_by_name(name):
    with pytest.raises(LoomError, match="unknown time zone") as caught:
        Clock(timezone=name)
    assert f"'{name}'" in caught.value.message


def test_an_unknown_loom_timezone_is_refused(monkeypatch):
    monkeypatch.setenv("LOOM_TIMEZONE", "Mars/Olympus")
    with pytest.raises(LoomError, match="'Mars/Olympus'"):
        Clock()


def test_a_day_begins_at_local_midnight_in_utc():
    shanghai, new_york = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")
    assert start_of_day(date(2026, 11, 26), shanghai) == datetime(2026, 11, 25, 16, 0)
    assert business_date(datetime(2026, 11, 25, 16, 0), shanghai) == date(2026, 11, 26)
    assert business_date(datetime(2026, 11, 25, 15, 59, 59), shanghai) == date(2026, 11, 25)
    # Daylight saving: midnight is 05:00 UTC in winter and 04:00 UTC in summer.
    assert start_of_day(date(2024, 3, 10), new_york) == datetime(2024, 3, 10, 5, 0)
    assert start_of_day(date(2024, 3, 11), new_york) == datetime(2024, 3, 11, 4, 0)


@pytest.fixture
def clock() -> Clock:
    return Clock(BEIJING_NIGHT, timezone="Asia/Shanghai")


def test_expressions_run_in_the_clocks_time_zone(loom: Loom):
    ctx, sctx = loom.contexts()
    assert ctx.timezone == sctx.timezone == ZoneInfo("Asia/Shanghai")
    assert ctx.now == sctx.now == BEIJING_NIGHT
    assert evaluate("today()", {}, ctx) == date(2026, 11, 26)
    assert evaluate("days_since(d)", {"d": datetime(2026, 11, 25, 12, 0)}, ctx) == 1
