"""Date and datetime field types; datetimes are stored as naive UTC."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, DateTime
from sqlalchemy.types import TypeEngine

from engine.base.errors import FieldValueError
from engine.base.messages import Message
from engine.fieldtypes.base import FieldType, Source
from engine.fieldtypes.halfwidth import half_width
from engine.fieldtypes.messages import shown
from metadata.specs import FieldSpec

# One pattern for every date and datetime people type: ISO, slashes, dots, 年月日, an optional time
# with 时/分/秒, fractions of a second, and an optional offset (Z, UTC, +08, +0800, +08:00).
_MOMENT = re.compile(
    r"(?P<year>\d{4})[-/.年](?P<month>\d{1,2})[-/.月](?P<day>\d{1,2})日?"
    r"(?:(?:T|\s+|(?<=日))(?P<hour>\d{1,2})[:时時点點](?P<minute>\d{1,2})"
    r"(?:[:分](?P<second>\d{1,2})(?:[.,]\d+)?秒?|分)?)?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?",
    re.ASCII | re.IGNORECASE,
)
_COMPACT_DATE = re.compile(r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})", re.ASCII)
# Spreadsheet serial day numbers; counting from 1899-12-30 absorbs Lotus 1-2-3's phantom 1900-02-29.
_SPREADSHEET_EPOCH = datetime(1899, 12, 30)
_SPREADSHEET_MAX_DAY = 2_958_465  # 9999-12-31
_DAYS_1900_TO_1904 = 1462  # 1904-01-01 is day 0 of the 1904 system and day 1462 of the 1900 one


def _zone_offset(zone: str) -> timedelta:
    if zone.upper() in ("Z", "UTC", "GMT"):
        return timedelta()
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    if offset >= timedelta(hours=24):
        raise ValueError("offset out of range")
    return -offset if zone[0] == "-" else offset


def parse_moment(text: str) -> datetime | None:
    """Parse typed date or datetime text into a naive UTC datetime (midnight if no time); None if not one."""
    text = half_width(text).strip()
    match = _MOMENT.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match is None:
        return None
    groups = match.groupdict()
    year, month, day = int(groups["year"]), int(groups["month"]), int(groups["day"])
    # Written out, not as a comprehension: this runs for every date cell of an import.
    hour, minute, second = groups.get("hour"), groups.get("minute"), groups.get("second")
    try:
        moment = datetime(
            year,
            month,
            day,
            int(hour) if hour else 0,
            int(minute) if minute else 0,
            int(second) if second else 0,
        )
        if groups.get("zone"):
            moment -= _zone_offset(groups["zone"])
    except (ValueError, OverflowError):
        return None
    return moment


def written_moment(text: str) -> datetime | None:
    """The date and time as written when the text carries no offset (midnight if no time); else None.

    Such text is read in the business time zone by whoever knows it (the record writer, imports).
    """
    text = half_width(text).strip()
    match = _MOMENT.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match is None or match.groupdict().get("zone"):
        return None
    groups = match.groupdict()
    clock = [int(groups.get(part) or 0) for part in ("hour", "minute", "second")]
    try:
        return datetime(int(groups["year"]), int(groups["month"]), int(groups["day"]), *clock)
    except ValueError:
        return None


def _written_date(text: str) -> date | None:
    """The calendar date as written, ignoring any time or offset after it."""
    text = half_width(text).strip()
    match = _MOMENT.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return None


def from_spreadsheet_serial(serial: float, *, date1904: bool = False) -> datetime | None:
    """A spreadsheet's serial day number as a naive datetime, to the second; None outside 1900–9999.

    Day 1 is 1900-01-01, or 1904-01-02 in a workbook of the 1904 date system.
    """
    if date1904:
        serial += _DAYS_1900_TO_1904
    if not 1 <= serial <= _SPREADSHEET_MAX_DAY:
        return None
    if serial < 60:
        serial += 1  # Excel counts a 29 February 1900 that never was: days before it are one off
    # Rounded to the second: a serial's fraction of a day carries float noise.
    return _SPREADSHEET_EPOCH + timedelta(seconds=round(serial * 86400))


def to_naive_utc(moment: datetime) -> datetime:
    """Convert an aware datetime to naive UTC; a naive one is taken as UTC already. Whole seconds."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0) if moment.microsecond else moment


class DateType(FieldType):
    """A calendar date with no time of day."""

    name = "date"
    value_kind = "date"
    params_schema = {"type": "object", "properties": {}, "additionalProperties": False}

    def column_type(self, field: FieldSpec) -> TypeEngine:
        return Date()

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        kind = type(value)
        if kind is str:
            if not value or value.isspace():
                return None
            parsed = _written_date(value)
        elif kind is date:
            return value
        elif value is None:
            return None
        elif isinstance(value, datetime):
            # The date the sender wrote down, not shifted to UTC: a deadline of the 26th stays the 26th.
            return value.date()
        elif isinstance(value, date):
            return date(value.year, value.month, value.day)
        elif source == "csv" and kind in (int, float):
            serial = from_spreadsheet_serial(value)
            parsed = serial.date() if serial else None
        else:
            parsed = None
        if parsed is None:
            raise FieldValueError(Message("not_date", got=shown(value)))
        return parsed

    def to_json(self, value: Any, field: FieldSpec) -> Any:
        return None if value is None else value.isoformat()

    def from_db(self, value: Any, field: FieldSpec) -> Any:
        if value is None or type(value) is date:
            return value
        if isinstance(value, datetime):
            return value.date()
        return _written_date(value) if isinstance(value, str) else value


class DateTimeType(FieldType):
    """A moment in time, stored as naive UTC to the second.

    `coerce` takes text without an offset as UTC; the record writer, forms and imports read such
    text in the business time zone first (see `written_moment`), so only the engine's own callers
    handing over naive datetime objects mean UTC.
    """

    name = "datetime"
    value_kind = "datetime"
    params_schema = {"type": "object", "properties": {}, "additionalProperties": False}

    def column_type(self, field: FieldSpec) -> TypeEngine:
        return DateTime()

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        kind = type(value)
        if kind is str:
            if not value or value.isspace():
                return None
            moment = parse_moment(value)
        elif isinstance(value, datetime):
            try:
                return to_naive_utc(value)
            except OverflowError:  # 0001-01-01 00:00 in Beijing is before the first UTC moment
                raise FieldValueError(Message("not_datetime", got=shown(value.isoformat()))) from None
        elif value is None:
            return None
        elif isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        elif source == "csv" and kind in (int, float):
            serial = from_spreadsheet_serial(value)
            moment = to_naive_utc(serial + timedelta(microseconds=500_000)) if serial else None
        else:
            moment = None
        if moment is None:
            raise FieldValueError(Message("not_datetime", got=shown(value)))
        return moment

    def coercer(self, field: FieldSpec, source: Source) -> Callable[[Any], Any] | None:
        if type(self).coerce is not DateTimeType.coerce:
            return None
        coerce = self.coerce

        def moment(value: Any) -> Any:
            if type(value) is datetime:
                try:
                    return to_naive_utc(value)
                except OverflowError:
                    pass  # coerce says why
            return coerce(value, field, source)

        return moment

    def to_json(self, value: Any, field: FieldSpec) -> Any:
        if value is None:
            return None
        if value.tzinfo is None and value.year >= 1000:  # the usual case, without strftime's cost
            return value.isoformat(timespec="seconds") + "Z"
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")

    def from_db(self, value: Any, field: FieldSpec) -> Any:
        if value is None:
            return None
        if isinstance(value, datetime):
            return to_naive_utc(value)
        if isinstance(value, str):
            return parse_moment(value) or value
        return value
