"""Report parameters at run time: a period, a user or a department, each narrowing one field.

Every value is also written as a condition in the expression language (a period as year(),
month() and day() of the field, in business time), so the records behind any row of a report
can be listed with the list API's `filter`: the report's own filter, its parameters and the
row's group values, joined with `and`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from engine.base.actors import Actor
from engine.base.errors import LoomError
from engine.store.system_tables import departments, users
from metadata.report_checks import DATE_RANGE, default_problem
from metadata.reports import Parameter, ReportSpec


class InvalidReportParameter(LoomError):
    """A parameter the report does not take, or a value its kind does not; `fields` names each."""

    code = "invalid_parameter"

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.fields = {name: [message] for name, message in problems.items()}
        super().__init__("; ".join(f"{name}: {message}" for name, message in problems.items()))


@dataclass(frozen=True)
class Period:
    """Business dates from `first` to `last`, both included."""

    first: dt.date
    last: dt.date

    def previous(self) -> Period:
        """The period just before: as many whole months when this is whole months, else as many days
        (from the calendar's first day when it would begin before it)."""
        if self.first == dt.date.min:
            return Period(dt.date.min, dt.date.min)
        end = self.first - dt.timedelta(days=1)
        after_last = self.last + dt.timedelta(days=1) if self.last < dt.date.max else None
        if self.first.day == 1 and after_last is not None and after_last.day == 1:
            months = (after_last.year - self.first.year) * 12 + after_last.month - self.first.month
            return Period(_add_months(self.first, -months), end)
        days = (self.last - self.first).days + 1
        return Period(_shifted(self.first, -days), end)


def _shifted(day: dt.date, days: int) -> dt.date:
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.min if days < 0 else dt.date.max


def _add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (or earlier), at most the month's last; the calendar's ends clamp."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if year < dt.MINYEAR:
        return dt.date.min
    if year > dt.MAXYEAR:
        return dt.date.max
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_of(value: str, today: dt.date) -> Period:
    """The dates a period value names, seen from `today` (weeks start on Monday)."""
    found = DATE_RANGE.match(value)
    if found is not None:
        return Period(dt.date.fromisoformat(found.group(1)), dt.date.fromisoformat(found.group(2)))
    month_start = today.replace(day=1)
    quarter_start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    week_start = today - dt.timedelta(days=today.weekday())
    year_start = today.replace(month=1, day=1)
    named = {
        "today": Period(today, today),
        "this_week": Period(week_start, week_start + dt.timedelta(days=6)),
        "this_month": Period(month_start, _month_end(today)),
        "this_quarter": Period(quarter_start, _month_end(_add_months(quarter_start, 2))),
        "this_year": Period(year_start, today.replace(month=12, day=31)),
        "last_7_days": Period(today - dt.timedelta(days=6), today),
        "last_30_days": Period(today - dt.timedelta(days=29), today),
        "last_90_days": Period(today - dt.timedelta(days=89), today),
        "last_12_months": Period(_add_months(month_start, -11), _month_end(today)),
    }
    if value.startswith("last_") and value not in named:  # the one before this_…
        return named[value.replace("last_", "this_")].previous()
    if value == "yesterday":
        return named["today"].previous()
    return named[value]


def bucket_period(start: dt.date, bucket: str) -> Period:
    """The dates of the time bucket starting on `start`."""
    if bucket == "day":
        return Period(start, start)
    if bucket == "week":
        return Period(start, _shifted(start, 6))
    months = {"month": 1, "quarter": 3, "year": 12}[bucket]
    after = _add_months(start, months)
    return Period(start, dt.date.max if after == dt.date.max else after - dt.timedelta(days=1))


def period_expression(field: str, period: Period) -> str:
    """A condition true when `field` falls in the period, in business time: year(), month() and day()."""
    pieces: list[str] = []
    full_years: list[int] = []
    day: dt.date | None = period.first
    while day is not None and day <= period.last:
        year_end = day.replace(month=12, day=31)
        if day.month == 1 and day.day == 1 and year_end <= period.last:
            full_years.append(day.year)
            day = _next(year_end)
            continue
        pieces += _years(field, full_years)
        full_years = []
        month_end = _month_end(day)
        if day.day == 1 and month_end <= period.last:  # whole months, up to the year's end
            last_month = day
            while _month_end(last_month) < period.last and last_month.month < 12:
                following = _add_months(last_month, 1)
                if _month_end(following) > period.last:
                    break
                last_month = following
            pieces.append(_range(field, day.year, "month", day.month, last_month.month))
            day = _next(_month_end(last_month))
            continue
        last = min(month_end, period.last)
        months = f"year({field}) == {day.year} and month({field}) == {day.month}"
        pieces.append(_range(field, None, "day", day.day, last.day, prefix=months))
        day = _next(last)
    pieces += _years(field, full_years)
    return pieces[0] if len(pieces) == 1 else " or ".join(f"({piece})" for piece in pieces)


def _next(day: dt.date) -> dt.date | None:
    return None if day == dt.date.max else day + dt.timedelta(days=1)


def _years(field: str, years: list[int]) -> list[str]:
    if not years:
        return []
    if len(years) == 1:
        return [f"year({field}) == {years[0]}"]
    return [f"year({field}) >= {years[0]} and year({field}) <= {years[-1]}"]


def _range(field: str, year: int | None, part: str, low: int, high: int, prefix: str = "") -> str:
    head = prefix or f"year({field}) == {year}"
    if low == high:
        return f"{head} and {part}({field}) == {low}"
    return f"{head} and {part}({field}) >= {low} and {part}({field}) <= {high}"


def parameter_values(spec: ReportSpec, given: Mapping[str, str]) -> dict[str, str]:
    """The value of each parameter in use: the one given (empty: none), else its default; unknown
    names refused."""
    problems: dict[str, str] = {}
    for name in given:
        if spec.parameter(name) is None:
            takes = ", ".join(p.name for p in spec.parameters) or "none"
            problems[name] = f"the report {spec.name!r} takes no parameter {name!r} (it takes: {takes})"
    values: dict[str, str] = {}
    for parameter in spec.parameters:
        # Given empty, a parameter does not narrow, whatever its default: "all time", "everyone".
        value = given.get(parameter.name, parameter.default)
        if not value:
            continue
        problem = default_problem(parameter.kind, value)
        if problem is not None:
            problems[parameter.name] = problem
        else:
            values[parameter.name] = value
    if problems:
        raise InvalidReportParameter(problems)
    return values


def user_ids(conn: Connection, parameter: Parameter, value: str, actor: Actor) -> list[int]:
    """The users a user or department parameter stands for, in id order."""
    if parameter.kind == "user" and value == "me":
        return [actor.user_id] if actor.user_id is not None else []
    if parameter.kind == "user" and value != "my_team":
        return [int(value)]
    if parameter.kind == "department" and value != "mine":
        path = conn.execute(sa.select(departments.c.path).where(departments.c.id == int(value))).scalar()
    else:  # my team, my department: the actor's department and those below it
        path = actor.department_path
    if path is None:
        return [actor.user_id] if parameter.kind == "user" and actor.user_id is not None else []
    below = sa.select(departments.c.id).where(departments.c.path.startswith(path))
    query = sa.select(users.c.id).where(users.c.department_id.in_(below)).order_by(users.c.id)
    return list(conn.execute(query).scalars())


def users_expression(field: str, ids: list[int]) -> str:
    """A condition true when `field` holds one of these users (never true for none)."""
    if not ids:
        return f"{field} == -1"
    if len(ids) == 1:
        return f"{field} == {ids[0]}"
    return f"{field} in [{', '.join(str(i) for i in ids)}]"
