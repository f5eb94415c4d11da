"""Report results as the API and `loom report --format json` send them: labels in one language,
decimals as exact strings, dates as YYYY-MM-DD, and each row's drill-down filter."""

from __future__ import annotations

from typing import Any

from engine.records.reports import ReportColumn, ReportResult
from metadata.reports import ReportSpec
from runtime.web.api.record_json import plain_json
from runtime.web.i18n import label_text


def spec_json(spec: ReportSpec, locale: str) -> dict[str, Any]:
    """What a caller needs to run a report: its name, title, object, folder, sharing, chart and
    parameters."""
    folder = spec.folder
    return {
        "name": spec.name,
        "label": label_text(spec.label, spec.name, locale),
        "object": spec.object,
        "folder": folder if isinstance(folder, str) or folder is None else label_text(folder, "", locale),
        "sharing": spec.sharing.with_,
        "chart": spec.chart,
        "parameters": [
            {
                "name": p.name,
                "kind": p.kind,
                "field": p.field,
                "default": p.default,
                "label": label_text(p.label, p.name, locale),
            }
            for p in spec.parameters
        ],
    }


def _column_json(column: ReportColumn, locale: str) -> dict[str, Any]:
    return {
        "name": column.name,
        "role": column.role,
        "label": label_text(column.label, column.name, locale),
        "field": column.field,
        "bucket": column.bucket,
        "function": column.function,
    }


def report_json(result: ReportResult, locale: str) -> dict[str, Any]:
    """A report's result as the API sends it; decimals as exact strings, dates as YYYY-MM-DD."""
    spec = result.report
    groups = [column.name for column in result.columns if column.role == "group"]
    rows = []
    for row, filter in zip(result.rows, result.filters, strict=True):
        rows.append(
            {
                "values": plain_json(dict(row)),
                "labels": {name: result.label(name, row[name], locale) for name in groups},
                "filter": filter,
            }
        )
    period = result.period
    previous = result.previous
    return {
        **spec_json(spec, locale),
        "values": dict(result.parameters),
        "period": None
        if period is None
        else {"first": period.first.isoformat(), "last": period.last.isoformat()},
        "previous_period": (
            None
            if previous is None
            else {"first": previous.first.isoformat(), "last": previous.last.isoformat()}
        ),
        "columns": [_column_json(column, locale) for column in result.columns],
        "rows": rows,
        "pivot": _pivot_json(result, locale),
    }


def _pivot_json(result: ReportResult, locale: str) -> dict[str, Any] | None:
    """Two groups as a cross table; each cell is the index of its row in `rows` (null: no records)."""
    pivot = result.pivot()
    if pivot is None:
        return None
    return {
        "down": pivot.down,
        "across": pivot.across,
        "rows": plain_json(list(pivot.rows)),
        "columns": plain_json(list(pivot.columns)),
        "row_labels": [result.label(pivot.down, value, locale) for value in pivot.rows],
        "column_labels": [result.label(pivot.across, value, locale) for value in pivot.columns],
        "cells": [[pivot.cells.get((down, across)) for across in pivot.columns] for down in pivot.rows],
    }
