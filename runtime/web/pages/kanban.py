"""The kanban board: an object's records in one column per option of a select field; moving a card
changes that field through the engine, so the object's rules, validation and permissions apply."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from engine.base.errors import ConflictError, LoomError, RecordInvalid
from engine.identity.permissions import PermissionDenied
from engine.records.queries import Page
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import error_text, label_text, page_locale
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.formatting import ValueFormatter, field_label, is_field
from runtime.web.pages.list_query import ListQuery, default_columns
from runtime.web.pages.objects import ObjectPage, flash_errors, object_page

CARDS_PER_COLUMN = 20
CARD_FIELDS = 3


def kanban_field(page: ObjectPage, wanted: str | None = None) -> str | None:
    """The select field the board groups by: the one asked for, else the object's kanban default."""
    selects = [s.name for s in page.model.spec.fields if s.type == "select" and page.visible(s.name)]
    default = page.model.spec.extra.get("kanban", {}).get("group_by")
    for name in (wanted, default):
        if name in selects:
            return name
    return None


def sum_field(page: ObjectPage) -> str | None:
    """The amount a column adds up: the object's first stored currency field the reader may see."""
    for spec in page.model.spec.fields:
        if spec.type == "currency" and page.visible(spec.name):
            return spec.name
    return None


def card_fields(page: ObjectPage, by: str) -> list[str]:
    """The fields a card shows: the object's kanban card_fields, else its first list columns
    other than the title and the board's field; either way only those the reader may see."""
    chosen = page.model.spec.extra.get("kanban", {}).get("card_fields")
    if chosen is not None:
        return [n for n in chosen if is_field(page.model, n) and page.visible(n)]
    title = page.model.spec.title_field
    return [n for n in default_columns(page) if n not in (by, title) and page.visible(n)][:CARD_FIELDS]


@dataclass(frozen=True)
class Board:
    """What one board shows: grouped by `by`, filtered by the list query, cards showing `shown`."""

    page: ObjectPage
    by: str
    query: ListQuery
    shown: list[str]
    amount: str | None

    @classmethod
    def from_args(cls, page: ObjectPage, args: Mapping[str, Any]) -> Board:
        """The board the URL's arguments ask for; 404 when the object has no field to group by."""
        by = kanban_field(page, args.get("by"))
        if by is None:
            abort(404)
        return cls(page, by, ListQuery.from_args(args), card_fields(page, by), sum_field(page))

    def column_filter(self, value: str) -> str:
        condition = f"{self.by} == {value!r}"
        base = self.query.expression(self.page)
        return f"({base}) and {condition}" if base else condition

    def cards(self, value: str, cursor: str | None = None) -> Page:
        return (
            current_loom()
            .queries(current_actor())
            .find(
                self.page.name,
                filter=self.column_filter(value),
                sort=self.query.sort or None,
                limit=CARDS_PER_COLUMN,
                cursor=cursor,
            )
        )

    def totals(self, formatter: ValueFormatter) -> dict[str, dict[str, Any]]:
        """Each column's count and, when the object has an amount, its sum as the page shows money."""
        sums = [self.amount] if self.amount else []
        found = (
            current_loom()
            .queries(current_actor())
            .group_totals(self.page.name, self.by, filter=self.query.expression(self.page), sums=sums)
        )
        spec = self.page.model.field(self.amount) if self.amount else None
        totals = {}
        for option in self.page.model.field(self.by).param("options", ()):
            row = found.get(option["value"], {"count": 0, "sums": {}})
            total = row["sums"].get(self.amount) or 0
            text = formatter.text("currency", Decimal(str(total)), spec) if spec else None
            totals[option["value"]] = {"count": row["count"], "sum": text}
        return totals


@blueprint.get("/app/<object_name>/kanban")
def kanban(object_name: str) -> str:
    page = object_page(object_name)
    board = Board.from_args(page, request.args)
    loom, actor = current_loom(), current_actor()
    formatter = ValueFormatter(loom, actor, page_locale())
    columns: list[dict[str, Any]] = []
    problem = None
    try:
        totals = board.totals(formatter)
    except PermissionDenied:
        raise
    except LoomError as error:
        problem, totals = error_text(error), {}
    for option in page.model.field(board.by).param("options", ()):
        value = option["value"]
        found = None
        if problem is None:
            try:
                found = board.cards(value)
            except LoomError as error:
                problem = error_text(error)
        records = found.records if found else []
        formatter.prepare(page.model, records, board.shown)
        columns.append(
            {
                "value": value,
                "label": label_text(option.get("label"), value),
                "color": option.get("color") or "#94a3b8",
                "records": records,
                "cursor": found.next_cursor if found else None,
                **totals.get(value, {"count": 0, "sum": None}),
            }
        )
    others = [s for s in page.model.spec.fields if s.type == "select" and page.visible(s.name)]
    return render_template(
        "kanban.html",
        page=page,
        by=board.by,
        by_label=field_label(page.model, board.by),
        group_fields=others,
        columns=columns,
        amount_label=field_label(page.model, board.amount) if board.amount else None,
        problem=problem,
        query_args=urlencode({**board.query.to_args(), "by": board.by}),
        **_card_context(board, formatter),
    )


@blueprint.get("/app/<object_name>/kanban/cards")
def kanban_cards(object_name: str) -> Response:
    """The next cards of one column, after `cursor`: {"html": …, "cursor": … or null}."""
    page = object_page(object_name)
    board = Board.from_args(page, request.args)
    value = request.args.get("value", "")
    options = [o["value"] for o in page.model.field(board.by).param("options", ())]
    if value not in options:
        abort(404)
    try:
        found = board.cards(value, request.args.get("cursor") or None)
    except PermissionDenied:
        raise
    except LoomError as error:
        return jsonify({"html": "", "cursor": None, "error": error_text(error)})
    formatter = ValueFormatter(current_loom(), current_actor(), page_locale())
    formatter.prepare(page.model, found.records, board.shown)
    columns = [
        {"value": o["value"], "label": label_text(o.get("label"), o["value"])}
        for o in page.model.field(board.by).param("options", ())
    ]
    html = render_template(
        "_kanban_cards.html",
        page=page,
        by=board.by,
        column={"value": value},
        columns=columns,
        records=found.records,
        **_card_context(board, formatter),
    )
    return jsonify({"html": html, "cursor": found.next_cursor})


def _card_context(board: Board, formatter: ValueFormatter) -> dict[str, Any]:
    page = board.page
    return {
        "shown": board.shown,
        "title_field": page.model.spec.title_field,
        "formatter": formatter,
        "field_label": field_label,
        "query": board.query,
        "can_move": page.editable(board.by) and page.access.allows("update"),
    }


@blueprint.post("/app/<object_name>/<int:record_id>/move")
def move_card(object_name: str, record_id: int) -> Response:
    """Set the board's field of one record; JSON for the board's script, a redirect for a plain form."""
    page = object_page(object_name, "update")
    wants_json = request.is_json
    data = request.get_json(silent=True) if wants_json else request.form
    data = data or {}
    field, value = str(data.get("field", "")), str(data.get("value", ""))
    version = data.get("version")
    back = url_for(".kanban", object_name=object_name, by=field)
    errors: list[str] = []
    if not page.editable(field):
        errors = [_("This field cannot be changed here")]
    else:
        try:
            version_number = int(version) if str(version or "").isdigit() else None
            record = (
                current_loom()
                .records(current_actor())
                .update(object_name, record_id, {field: value}, version=version_number, source="form")
            )
        except RecordInvalid as error:
            errors = flash_errors(error.fields, page)
        except ConflictError:
            errors = [_("Someone else changed this record meanwhile: reload the board and try again")]
        except (PermissionDenied, LoomError) as error:
            errors = [error_text(error)]
    if wants_json:
        # A refused move is an answer for the board's script (200, ok false), not a failed request.
        if errors:
            return jsonify({"ok": False, "errors": errors})
        return jsonify({"ok": True, "version": record["version"], "columns": _totals_after_move(page, data)})
    for line in errors:
        flash(line, "error")
    if not errors:
        flash(_("Moved"), "success")
    return redirect(back)  # type: ignore[return-value]


def _totals_after_move(page: ObjectPage, data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The board's column counts and sums once the card has moved, for the board's filter."""
    args = dict(parse_qsl(str(data.get("query") or "")))
    args["by"] = str(data.get("field", ""))
    try:
        board = Board.from_args(page, args)
        return board.totals(ValueFormatter(current_loom(), current_actor(), page_locale()))
    except (LoomError, HTTPException):
        return {}
