"""The engine's clock: real time, or a fixed moment from LOOM_NOW so time-based behaviour is testable.

Moments are naive UTC, as they are stored. Dates are business dates: the calendar day in the
instance's time zone, so that a follow-up at 20:00 in Beijing is "yesterday" there the next
morning even though it is the same UTC date.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.base.errors import LoomError

# Loom's home market is mainland China; an instance elsewhere sets LOOM_TIMEZONE.
DEFAULT_TIMEZONE = "Asia/Shanghai"
UTC_ZONE = ZoneInfo("UTC")


def parse_instant(text: str) -> dt.datetime:
    """Parse an ISO date or datetime into a naive UTC datetime (the engine's storage form)."""
    moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone of that name ("Asia/Shanghai"); a LoomError naming it if there is none."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise LoomError(
            f"unknown time zone '{name}': expected an IANA name such as 'Asia/Shanghai'"
        ) from None


@functools.lru_cache(maxsize=8192)
def business_date(moment: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """The date in `zone` at a naive UTC moment; OverflowError past the range of dates.

    Cached: conditions ask for today's date, and for the same stored moments, over and over, and
    the time-zone conversion costs more than the rest of a typical condition put together.
    """
    return moment.replace(tzinfo=dt.UTC).astimezone(zone).date()


def utc_offset(moment: dt.datetime, zone: dt.tzinfo) -> dt.timedelta:
    """How far `zone` is ahead of UTC at a naive UTC moment (+8 hours for Asia/Shanghai)."""
    return moment.replace(tzinfo=dt.UTC).astimezone(zone).utcoffset() or dt.timedelta()


def start_of_day(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The naive UTC moment at which `day` begins in `zone`; OverflowError past the range of dates.

    Where a daylight-saving jump skips midnight, fold=0 reads the skipped time with the offset
    before the jump, which lands on the jump itself: the first moment of that day.
    """
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)


class Clock:
    """Tells the time in naive UTC and the date in the business time zone.

    The moment is fixed when constructed with `fixed` or when LOOM_NOW is set (read as UTC
    unless it carries an offset). The time zone is the `timezone` keyword, else LOOM_TIMEZONE,
    else Asia/Shanghai, Loom's home market; `read_env=False` ignores both variables.
    """

    def __init__(
        self, fixed: dt.datetime | None = None, *, read_env: bool = True, timezone: str | None = None
    ) -> None:
        self._fixed = fixed
        self._read_env = read_env and fixed is None
        if timezone is None:
            timezone = (os.environ.get("LOOM_TIMEZONE") if read_env else None) or DEFAULT_TIMEZONE
        self.timezone = time_zone(timezone)

    def now(self) -> dt.datetime:
        if self._fixed is not None:
            return self._fixed
        if self._read_env and (override := os.environ.get("LOOM_NOW")):
            return parse_instant(override)
        return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)

    def today(self) -> dt.date:
        """Today's date in the business time zone (not UTC's date)."""
        return business_date(self.now(), self.timezone)

    def set(self, moment: dt.datetime | str | None) -> None:
        """Pin the clock to a moment (or release it with None); used by tests and `loom shell`."""
        self._fixed = parse_instant(moment) if isinstance(moment, str) else moment
