"""A report's result as a page shows it: the parameter form's choices, the table (the chart's
accessible twin) with a drill-down link on each row, the chart's series for ECharts, and the rows
an export writes.

The engine applies the reader's scope and hidden fields; this module only lays out what it returns.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_decimal
from flask import url_for
from flask_babel import gettext as _

from engine import identity
from engine.base.actors import Actor
from engine.base.errors import ExpressionError
from engine.loom import Loom
from engine.records.report_parameters import InvalidReportParameter
from engine.records.reports import ReportColumn, ReportResult
from metadata.reports import ReportSpec
from runtime.web.i18n import babel_locale, label_text, page_locale

#: The period presets a page offers, in this order; the engine takes more (and any range).
# The periods a report's or dashboard's period list offers; any other named one shows when in use.
PERIOD_PRESETS = ("this_month", "last_month", "this_quarter", "last_quarter", "this_year", "last_year")
CUSTOM = "custom"
RATIO_COLUMNS = ("conversion", "retention")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadParameters(Exception):
    """The page's parameters do not make a value the report takes; `message` says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def period_labels() -> dict[str, str]:
    """Every named period a report takes, in the reader's language."""
    return {
        "today": _("Today"),
        "yesterday": _("Yesterday"),
        "this_week": _("This week"),
        "last_week": _("Last week"),
        "this_month": _("This month"),
        "last_month": _("Last month"),
        "this_quarter": _("This quarter"),
        "last_quarter": _("Last quarter"),
        "this_year": _("This year"),
        "last_year": _("Last year"),
        "last_7_days": _("Last 7 days"),
        "last_30_days": _("Last 30 days"),
        "last_90_days": _("Last 90 days"),
        "last_12_months": _("Last 12 months"),
    }


def period_names() -> dict[str, str]:
    labels = period_labels()
    return {"": _("All periods"), **{name: labels[name] for name in PERIOD_PRESETS}, CUSTOM: _("Custom")}


def user_choices(loom: Loom) -> list[tuple[str, str]]:
    found = identity.list_users(loom, include_disabled=False)
    people = [(str(user["id"]), user["display_name"]) for user in found]
    return [("", _("Everyone I may see")), ("me", _("Me")), ("my_team", _("My team")), *people]


def department_choices(loom: Loom) -> list[tuple[str, str]]:
    found = [(str(row["id"]), row["name"]) for row in identity.list_departments(loom)]
    return [("", _("All departments")), ("mine", _("My department")), *found]


@dataclass
class ParameterField:
    """One control of the parameter form: its name, label, the value shown and its choices."""

    name: str
    kind: str
    label: str
    value: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    first: str = ""
    last: str = ""


def custom_range(first: str | None, last: str | None) -> str:
    """A custom period's two dates as the engine's range `first..last`."""
    first, last = str(first or "").strip(), str(last or "").strip()
    try:
        if not (_DATE.match(first) and _DATE.match(last)):
            raise ValueError(first)
        if dt.date.fromisoformat(first) > dt.date.fromisoformat(last):
            raise ValueError(first)
    except ValueError:
        message = _("Give both dates of the custom period, the first not after the last.")
        raise BadParameters(message) from None
    return f"{first}..{last}"


def engine_parameters(spec: ReportSpec, args: Mapping[str, str]) -> dict[str, str]:
    """The values the page's query string gives the report's parameters (a custom period becomes
    a range); absent ones are left to the report's defaults, empty ones do not narrow (all time)."""
    given: dict[str, str] = {}
    for parameter in spec.parameters:
        if parameter.name not in args:
            continue
        value = str(args.get(parameter.name) or "").strip()
        if parameter.kind == "period" and value == CUSTOM:
            value = custom_range(args.get(f"{parameter.name}_from"), args.get(f"{parameter.name}_to"))
        given[parameter.name] = value
    return given


def parameter_fields(
    loom: Loom, spec: ReportSpec, args: Mapping[str, str], used: Mapping[str, str]
) -> list[ParameterField]:
    """The form's controls, showing the values the report ran with (its defaults included)."""
    fields = []
    for parameter in spec.parameters:
        label = label_text(parameter.label, parameter.name)
        shown = str(args[parameter.name] if parameter.name in args else used.get(parameter.name, ""))
        control = ParameterField(parameter.name, parameter.kind, label, shown)
        if parameter.kind == "period":
            control.choices = list(period_names().items())
            if ".." in shown:
                control.first, control.last = shown.split("..", 1)
                control.value = CUSTOM
            else:
                control.first = str(args.get(f"{parameter.name}_from", ""))
                control.last = str(args.get(f"{parameter.name}_to", ""))
            if control.value not in dict(control.choices):
                control.choices.append((control.value, period_labels().get(control.value, control.value)))
        elif parameter.kind == "user":
            control.choices = user_choices(loom)
        else:
            control.choices = department_choices(loom)
        fields.append(control)
    return fields


def run(loom: Loom, name: str, actor: Actor, given: Mapping[str, str]) -> ReportResult:
    """The report as `actor` sees it; a value it does not take is a BadParameters."""
    spec = loom.registry.report(name)
    try:
        return loom.reports.run(name, actor, parameters=given)
    except InvalidReportParameter as error:
        labels = {p.name: label_text(p.label, p.name) for p in spec.parameters}
        named = "、".join(labels.get(key, key) for key in error.fields)
        raise BadParameters(_("The report does not take this value of %(names)s.", names=named)) from None
    except ExpressionError:
        raise BadParameters(_("The report cannot run with these values.")) from None


def is_ratio(column: ReportColumn) -> bool:
    return column.function == "ratio" or column.name in RATIO_COLUMNS


def shown(column: ReportColumn, value: Any, result: ReportResult, locale: str) -> str:
    """A cell as the table shows it: a group's label, a measure with thousands separators."""
    if column.role == "group":
        return result.label(column.name, value, locale)
    if value is None:
        return "—"
    parsed = babel_locale(locale)
    if is_ratio(column):
        return format_decimal(Decimal(str(value)) * 100, format="#,##0.0", locale=parsed) + "%"
    if isinstance(value, Decimal | float):
        return format_decimal(Decimal(str(value)), format="#,##0.00", locale=parsed)
    if isinstance(value, int):
        return format_decimal(value, format="#,##0", locale=parsed)
    return str(value)


def plain(column: ReportColumn, value: Any, result: ReportResult, locale: str) -> Any:
    """A cell as an export writes it: a group's label, a measure's exact value."""
    if column.role == "group":
        return result.label(column.name, value, locale)
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def report_links(name: str, args: Mapping[str, str]) -> dict[str, str]:
    """The report's page and its exports, run with the same parameters."""
    query = f"?{urlencode(dict(args))}" if args else ""
    return {
        "page": url_for("pages.report_page", name=name) + query,
        "csv": url_for("pages.report_export", name=name, kind="csv") + query,
        "xlsx": url_for("pages.report_export", name=name, kind="xlsx") + query,
    }


def drill_url(spec: ReportSpec, filter: str | None) -> str | None:
    """The list of the records a row counts: the object's list page with the row's filter."""
    if filter is None:
        return None
    return url_for("pages.record_list", object_name=spec.object, where=filter)


@dataclass
class Table:
    """The result laid out: headers, rows of shown cells, each row's drill-down link."""

    columns: list[ReportColumn]
    headers: list[str]
    rows: list[dict[str, Any]]


def table(result: ReportResult) -> Table:
    locale = page_locale()
    columns = list(result.columns)
    rows = []
    filters = result.filters or (None,) * len(result.rows)
    for row, filter in zip(result.rows, filters, strict=True):
        cells = [shown(column, row.get(column.name), result, locale) for column in columns]
        groups = [cell for cell, column in zip(cells, columns, strict=True) if column.role == "group"]
        rows.append({"cells": cells, "url": drill_url(result.report, filter), "name": " ".join(groups)})
    headers = [label_text(column.label, column.name) for column in columns]
    return Table(columns, headers, rows)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal | float | int) else None


def chart_data(result: ReportResult) -> dict[str, Any] | None:
    """What ECharts draws: the first group along the axis (a second one as the series), the first
    measure as the bars' height, each point with its drill-down link; None for a table."""
    spec = result.report
    if spec.chart == "table" or spec.cohort is not None or not result.rows:
        return None  # an empty chart says nothing the table's "no records" does not
    locale = page_locale()
    groups = [column for column in result.columns if column.role == "group"]
    measures = [column for column in result.columns if column.role == "measure"]
    if not measures:
        return None
    measure = measures[0]
    filters = result.filters or (None,) * len(result.rows)
    points = list(zip(result.rows, filters, strict=True))
    data: dict[str, Any] = {
        "type": spec.chart,
        "measure": label_text(measure.label, measure.name),
        "label": label_text(spec.label, spec.name),
    }
    if spec.chart == "number" or not groups:
        first = points[0][0].get(measure.name) if points else None
        data.update(type="number", value=shown(measure, first, result, locale))
        return data
    axis = groups[0]
    if spec.chart in ("pie", "funnel") or len(groups) == 1:
        data["categories"] = [result.label(axis.name, row.get(axis.name), locale) for row, _f in points]
        data["series"] = [
            {
                "name": data["measure"],
                "data": [
                    {"value": _number(row.get(measure.name)), "url": drill_url(spec, filter)}
                    for row, filter in points
                ],
            }
        ]
        return data
    # Two groups: the engine's cross table, its columns (months, stages) as the series.
    pivot = result.pivot()
    if pivot is None:
        return None
    series = []
    for name in pivot.columns:
        values = []
        for category in pivot.rows:
            index = pivot.cells.get((category, name))
            values.append(
                {"value": None, "url": None}
                if index is None
                else {
                    "value": _number(points[index][0].get(measure.name)),
                    "url": drill_url(spec, points[index][1]),
                }
            )
        series.append({"name": result.label(pivot.across, name, locale), "data": values})
    data["categories"] = [result.label(pivot.down, value, locale) for value in pivot.rows]
    data["series"] = series
    return data


def kept_args(spec: ReportSpec, args: Mapping[str, str]) -> dict[str, str]:
    """The query string's report parameters alone, for links that run the report the same way
    (an empty one kept: it means "do not narrow", not "the default")."""
    names = set()
    for parameter in spec.parameters:
        names.add(parameter.name)
        if parameter.kind == "period":
            names.update((f"{parameter.name}_from", f"{parameter.name}_to"))
    return {key: str(value) for key, value in args.items() if key in names}
