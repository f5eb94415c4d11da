"""Dates and times as spreadsheets hold them: every unambiguous spelling, a day order, business time.

ISO dates, 2026/1/15, 2026年1月15日, 20260115 and spreadsheet serial numbers always read one way.
Day-month-year spellings (15.01.2026, 01/15/2026, 1-15-26) read one way when one of the first two
numbers is above 12; when both are 12 or less the file's day order decides: the one chosen for the
import, else the one the file itself shows for that separator (a file whose slashed dates include
01/15/2026 writes month first throughout), else for dots the day first they always mean
(03.04.2026 is 3 April). A date none of these settles is reported on its row.

Times without an offset are business time (LOOM_TIMEZONE), as the web form reads them: a follow-up
typed as 2026-07-06 20:00 in Beijing is 12:00 UTC, whichever way it reached Loom.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from engine.base.messages import Message
from engine.fieldtypes.halfwidth import half_width
from engine.fieldtypes.temporal import from_spreadsheet_serial, parse_moment

DATE_ORDERS = ("auto", "dmy", "mdy")
SEPARATORS = "/.-"

# 15.01.2026, 01/15/2026, 1-15-26, optionally followed by a time (14:30, 2:30 PM, 14:30:05).
_DAY_MONTH = re.compile(
    r"(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})"
    r"(?:(?:\s+|T)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<half>[AaPp][Mm])?)?",
    re.ASCII,
)
# Month names as English exports write them: Jan 15, 2026; 15 Jan 2026; 15-Jan-26; January 15 2026.
_MONTHS = {
    name: index
    for index, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_NAMED_MONTH = re.compile(
    r"(?:(?P<d1>\d{1,2})[\s\-]+(?P<m1>[A-Za-z]{3,9})\.?|(?P<m2>[A-Za-z]{3,9})\.?\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?)"
    r"[\s\-,]+(?P<year>\d{4}|\d{2})"
    r"(?:\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<half>[AaPp][Mm])?)?",
    re.ASCII,
)
# Where the file shows no order: dotted dates are written day first wherever they are used.
_CONVENTION = {".": "dmy"}
# A serial day number as text: 1982 to 2119, so a 5-digit number in a date column is not read as a year.
_SERIAL_TEXT = re.compile(r"[3-7][0-9]{4}(?:\.[0-9]+)?", re.ASCII)
# An offset after a time of day (14:30+08:00, 06:00Z); -15 in 2026-01-15 is no offset.
_OFFSET = re.compile(
    r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE
)


@dataclass
class DayOrderEvidence:
    """What a file's day-month-year dates say about their order, per separator."""

    day_first: dict[str, int] = field(default_factory=dict)  # 15/01/2026
    month_first: dict[str, int] = field(default_factory=dict)  # 01/15/2026

    def see(self, text: str) -> None:
        match = _DAY_MONTH.match(text.strip())
        if match is None:
            return
        a, b, sep = int(match["a"]), int(match["b"]), match["sep"]
        if a > 12 >= b:
            self.day_first[sep] = self.day_first.get(sep, 0) + 1
        elif b > 12 >= a:
            self.month_first[sep] = self.month_first.get(sep, 0) + 1

    def orders(self) -> dict[str, str]:
        """The order each separator's dates show, where they show only one."""
        found = {}
        for sep in SEPARATORS:
            day, month = self.day_first.get(sep, 0), self.month_first.get(sep, 0)
            if day and not month:
                found[sep] = "dmy"
            elif month and not day:
                found[sep] = "mdy"
        return found


class AmbiguousDate(ValueError):
    """A day-month-year date whose order neither the import nor the file settles."""

    def __init__(self, text: str, first: date, second: date) -> None:
        super().__init__(text)
        self.message = Message(
            "ambiguous_date", got=repr(text), day_first=first.isoformat(), month_first=second.isoformat()
        )


class DateReader:
    """Reads date and datetime cells of one import; one per import, its rules settled before a row
    needs them.

    `survey` reads the file's own day orders (`DayOrderEvidence` over the whole file) the first
    time a date could be read either way; most files never have one, and are read once.
    """

    def __init__(
        self,
        zone: tzinfo,
        order: str = "auto",
        file_orders: Mapping[str, str] | None = None,
        survey: Callable[[], Mapping[str, str]] | None = None,
    ):
        self.zone = zone
        self.order = order
        self.file_orders = dict(file_orders or {})
        self._survey = survey

    def read_date(self, value: Any) -> Any:
        """A date cell as a date; text that is no date is returned for the field type to refuse."""
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value  # the field type reads serial numbers
        if not isinstance(value, str):
            return value
        moment = self._moment(value)
        return moment.date() if isinstance(moment, datetime) else moment

    def read_datetime(self, value: Any) -> Any:
        """A datetime cell as an aware datetime; a naive time is business time."""
        if type(value) is str:
            return self._datetime_text(value)
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=self.zone)
        if isinstance(value, date):
            return datetime.combine(value, time(), tzinfo=self.zone)
        if isinstance(value, int | float) and not isinstance(value, bool):
            moment = from_spreadsheet_serial(value)
            return value if moment is None else moment.replace(tzinfo=self.zone)
        if not isinstance(value, str):
            return value
        return self._datetime_text(value)

    def _datetime_text(self, value: str) -> Any:
        text = half_width(value).strip()
        # Looked for once: both the offset test and the reading of the naive time need it.
        zone = _OFFSET.search(text)
        if zone and (parsed := parse_moment(text)) is not None:
            return parsed.replace(tzinfo=UTC)  # an offset was written: parse_moment made it UTC
        moment = self._moment_of(text, text, zone)
        return moment.replace(tzinfo=self.zone) if isinstance(moment, datetime) else moment

    def _moment(self, value: str) -> Any:
        """Naive date-time text as written (no zone); the text itself when it is no date."""
        text = half_width(value).strip()
        return self._moment_of(value, text, _OFFSET.search(text))

    def _moment_of(self, value: str, text: str, zone: re.Match[str] | None) -> Any:
        """`_moment` of `value`, given its trimmed half-width text and the offset found at its end."""
        if not text:
            return text
        if _SERIAL_TEXT.fullmatch(text):
            return from_spreadsheet_serial(float(text)) or value
        if zone is not None:
            text = text[: zone.start("zone")].rstrip()
        moment = parse_moment(text) if text[:4].isdigit() else None
        if moment is not None:
            return moment
        match = _DAY_MONTH.fullmatch(text)
        if match is None:
            named = _NAMED_MONTH.fullmatch(text)
            return _named_month(named) or value if named is not None else value
        return self._day_month(text, match) or value

    def _day_month(self, text: str, match: re.Match[str]) -> datetime | None:
        a, b = int(match["a"]), int(match["b"])
        year = int(match["year"])
        if len(match["year"]) == 2:
            year += 2000 if year < 70 else 1900
        clock = _clock(match)
        if clock is None:
            return None
        if a > 12 or b > 12:
            day, month = (a, b) if a > 12 else (b, a)
        elif a == b:
            day = month = a
        else:
            order = self.order
            if order == "auto":
                if self._survey is not None:
                    self.file_orders, self._survey = dict(self._survey()), None
                order = self.file_orders.get(match["sep"]) or _CONVENTION.get(match["sep"])
            if order is None:
                first, second = _date(year, b, a), _date(year, a, b)
                if first is None or second is None:
                    return None
                raise AmbiguousDate(text, first, second)
            day, month = (a, b) if order == "dmy" else (b, a)
        try:
            return datetime(year, month, day, *clock)
        except ValueError:
            return None


def _named_month(match: re.Match[str]) -> datetime | None:
    month = _MONTHS.get((match["m1"] or match["m2"])[:3].lower())
    clock = _clock(match)
    if month is None or clock is None:
        return None
    year = int(match["year"])
    if len(match["year"]) == 2:
        year += 2000 if year < 70 else 1900
    try:
        return datetime(year, month, int(match["d1"] or match["d2"]), *clock)
    except ValueError:
        return None


def _clock(match: re.Match[str]) -> tuple[int, int, int] | None:
    if match["hour"] is None:
        return (0, 0, 0)
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    half = (match["half"] or "").lower()
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return (hour, minute, second)


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def survey_orders(values: Iterable[Any]) -> dict[str, str]:
    """The day order each separator's dates show among `values` (text cells of date columns)."""
    evidence = DayOrderEvidence()
    for value in values:
        if isinstance(value, str):
            evidence.see(half_width(value))
    return evidence.orders()
