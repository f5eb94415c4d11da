"""Create and edit forms that follow the object's form metadata.

`visible_if`, `required_if` and `readonly_if` are evaluated by the engine's own evaluator, on the
server: the page's script posts the values as they are typed to `form-state` and applies the
answer, so what the page shows and what saving enforces can never disagree. Saving runs the
form's checks and the engine's validation together and shows every error next to its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import identity
from engine.base.errors import ConflictError, LoomError, RecordInvalid
from engine.records.forms import check_form, evaluate_form
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import field_errors, label_text, page_locale
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.files import take_uploads
from runtime.web.pages.formatting import ValueFormatter, field_label
from runtime.web.pages.layout import form_sections
from runtime.web.pages.objects import ObjectPage, object_page

INPUT_TYPES = {"email": "email", "phone": "tel", "url": "url", "date": "date", "datetime": "datetime-local"}
NUMBER_TYPES = ("integer", "decimal", "currency", "percent")


class FormRefused(Exception):
    """The form's own conditions refused the values; carries the field errors."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("form refused")
        self.errors = errors


@blueprint.route("/app/<object_name>/new", methods=["GET", "POST"])
def record_new(object_name: str) -> str | Response:
    page = object_page(object_name, "create")
    if request.method == "POST":
        return _save(page, None)
    given = {name: value for name, value in request.args.items() if page.editable(name)}
    defaults = current_loom().records(current_actor()).defaults(object_name, given, source="form")
    return _render(page, None, {**form_inputs(page, defaults), **given}, {})


@blueprint.route("/app/<object_name>/<int:record_id>/edit", methods=["GET", "POST"])
def record_edit(object_name: str, record_id: int) -> str | Response:
    page = object_page(object_name, "update")
    loom, actor = current_loom(), current_actor()
    record = loom.records(actor).get(object_name, record_id)
    if loom.flows.lock_on(object_name, record_id, actor) is not None:
        flash(_("This record is locked by its approval and cannot be edited"), "error")
        return redirect(url_for(".record_detail", object_name=object_name, record_id=record_id))  # type: ignore[return-value]
    page = _with_lock(page, record_id)
    if request.method == "POST":
        return _save(page, record)
    return _render(page, record, form_inputs(page, record), {})


def _with_lock(page: ObjectPage, record_id: int) -> ObjectPage:
    """The page with the fields the record's approval locks read-only (`"lock_record": {"fields": …}`)."""
    locked = current_loom().flows.locked_fields(page.name, record_id, current_actor())
    if not locked:
        return page
    return ObjectPage(page.model, replace(page.access, read_only=page.access.read_only | locked))


@blueprint.post("/app/<object_name>/form-state")
def form_state(object_name: str) -> Response:
    """The form's conditions for the values typed: {"fields": {name: {visible, required, readonly}}}"""
    page = object_page(object_name)
    body = request.get_json(silent=True) or {}
    raw = body.get("values") if isinstance(body.get("values"), dict) else {}
    record = _existing(page, body.get("record_id"))
    if record is not None:
        page = _with_lock(page, record["id"])
    return jsonify({"fields": _field_states(page, form_values(page, raw, record))})


# -- saving -----------------------------------------------------------------------------------------


def _save(page: ObjectPage, record: Mapping[str, Any] | None) -> str | Response:
    loom, actor = current_loom(), current_actor()
    raw = posted_values(page)
    upload_errors = take_uploads(page, raw)  # multipart: attachment fields upload their files here
    values = form_values(page, raw, record)
    form = loom.registry.form_for(page.name)
    states = _field_states(page, values)
    changes = {
        name: engine_value(page, name, value)
        for name, value in raw.items()
        if page.editable(name)
        and states.get(name, {}).get("visible", True)
        and not states.get(name, {}).get("readonly")
    }
    try:
        form_errors = _merged(check_form(loom, form, values, actor, source="form"), upload_errors)
        with loom.begin() as conn:
            records = loom.records(actor, conn)
            if record is None:
                saved = records.create(page.name, changes, source="form")
            else:
                version = request.form.get("_version", type=int)
                saved = records.update(page.name, record["id"], changes, version=version, source="form")
            if form_errors:
                raise FormRefused(form_errors)
    # The form comes back with its errors as a page (200): a browser logs any 4xx page as a console error.
    except RecordInvalid as error:
        return _render(page, record, raw, _merged(error.fields, form_errors))
    except FormRefused as refused:
        return _render(page, record, raw, refused.errors)
    except ConflictError:
        message = _(
            "Someone else saved this record after you opened it: reload it and make your change again"
        )
        return _render(page, record, raw, {"_record": [message]})
    flash(_("Saved"), "success")
    return redirect(url_for(".record_detail", object_name=page.name, record_id=saved["id"]))  # type: ignore[return-value]


def _merged(*error_sets: Mapping[str, list[str]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for errors in error_sets:
        for name, messages in errors.items():
            merged.setdefault(name, [])
            merged[name] += [m for m in messages if m not in merged[name]]
    return merged


def posted_values(page: ObjectPage) -> dict[str, Any]:
    """The form's fields as posted: strings, lists for multi-select, a moment in the business time zone."""
    values: dict[str, Any] = {}
    for name, spec in page.model.fields.items():
        if not page.editable(name):
            continue
        if spec.type == "boolean":
            if f"{name}__present" in request.form:
                values[name] = "true" if request.form.get(name) else "false"
        elif spec.type == "multi_select":
            if f"{name}__present" in request.form:
                values[name] = request.form.getlist(name)
        elif name in request.form:
            values[name] = request.form.get(name, "")
    return values


def engine_value(page: ObjectPage, name: str, value: Any) -> Any:
    """A posted value as the engine takes it: a moment typed on the page is in the business time zone."""
    if page.model.field(name).type == "datetime" and isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value).replace(tzinfo=current_loom().clock.timezone)
        except ValueError:
            return value  # the field type's own message names what was expected
    return value


def form_values(page: ObjectPage, raw: Mapping[str, Any], record: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the form's conditions see: the stored record's fields with the typed values over them."""
    values = {name: value for name, value in (record or {}).items() if name in page.model.fields}
    values.update(
        (name, engine_value(page, name, value))
        for name, value in raw.items()
        if name in page.model.fields and page.visible(name)
    )
    return values


def _field_states(page: ObjectPage, values: Mapping[str, Any]) -> dict[str, dict[str, bool]]:
    """Each form field's state for the values, as the engine's evaluator decides it."""
    loom = current_loom()
    state = evaluate_form(loom, loom.registry.form_for(page.name), values, current_actor(), source="form")
    return {
        name: {
            "visible": field.visible,
            "required": field.required,
            "readonly": field.readonly or not page.editable(name),
        }
        for name, field in state.fields.items()
        if name in page.model.fields
        and page.visible(name)  # a hidden field is never named, not even by its state
    }


def _existing(page: ObjectPage, record_id: Any) -> dict[str, Any] | None:
    if not str(record_id or "").isdigit():
        return None
    try:
        return current_loom().records(current_actor()).get(page.name, int(record_id))
    except LoomError:
        return None


# -- showing ----------------------------------------------------------------------------------------


def _render(
    page: ObjectPage,
    record: Mapping[str, Any] | None,
    values: Mapping[str, Any],
    errors: Mapping[str, list[str]],
) -> str:
    loom, actor = current_loom(), current_actor()
    states = _field_states(page, form_values(page, values, record))
    sections = form_sections(page, record or {})
    names = [name for section in sections for name in section["fields"]]
    for section in sections:
        section["shown"] = any(states.get(name, {}).get("visible", True) for name in section["fields"])
    formatter = ValueFormatter(loom, actor, page_locale())
    if record is not None:
        formatter.prepare(page.model, [record], names)
    errors = field_errors(errors)
    record_errors = [m for key, ms in errors.items() if key not in page.model.fields for m in ms]
    return render_template(
        "form.html",
        page=page,
        record=record,
        sections=sections,
        fields={name: field_control(page, name, values, states.get(name, {})) for name in names},
        errors=errors,
        record_errors=record_errors,
        formatter=formatter,
        field_label=field_label,
    )


def field_control(
    page: ObjectPage, name: str, values: Mapping[str, Any], state: Mapping[str, bool]
) -> dict[str, Any]:
    """How one field is entered: its control, value, choices, and its state under the form's conditions."""
    spec = page.model.field(name)
    value = values.get(name)
    control = {
        "name": name,
        "label": label_text(spec.label, name),
        "help": label_text(spec.help, ""),
        "type": spec.type,
        "value": "" if value is None else value,
        "visible": state.get("visible", True),
        "required": state.get("required", spec.required),
        "readonly": state.get("readonly", False) or not page.editable(name),
        "input_type": INPUT_TYPES.get(spec.type, "text"),
        "inputmode": "decimal" if spec.type in NUMBER_TYPES else None,
        "choices": [],
        "max_length": spec.param("max_length"),
    }
    if spec.type in ("select", "multi_select"):
        control["choices"] = [
            (o["value"], label_text(o.get("label"), o["value"])) for o in spec.param("options", ())
        ]
    elif spec.type == "lookup":
        control["lookup"] = _lookup_control(page, name, value)
    elif spec.type == "user":
        users = identity.list_users(current_loom(), include_disabled=False)
        control["choices"] = [(str(u["id"]), u["display_name"]) for u in users]
    if spec.type == "multi_select":
        control["value"] = value if isinstance(value, list) else [v for v in str(value or "").split(",") if v]
    elif spec.type == "boolean":
        control["value"] = _ticked(value)
    return control


def _ticked(value: Any) -> bool:
    """A check box's state from a stored value or a posted one ("true" when ticked, "false" when not)."""
    return value is True or str(value).strip().lower() in ("true", "1", "on")


def _lookup_control(page: ObjectPage, name: str, current: Any) -> dict[str, str]:
    """The picker of a lookup: where it searches, and the title of the record it points at now."""
    target = page.model.field(name).param("target")
    title = ""
    text = str(current or "")
    if text.isascii() and text.isdigit() and len(text) <= 18:
        with suppress(LoomError):
            title = current_loom().queries(current_actor()).titles(target, [int(text)]).get(int(text), "")
        title = title or f"#{text}"
    url = url_for(".lookup_search", object_name=page.name, field=name)
    return {"url": url, "title": title, "target": target}


def form_inputs(page: ObjectPage, record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored record as the form's inputs show it (moments in the business time zone)."""
    zone = current_loom().clock.timezone
    values: dict[str, Any] = {}
    for name, spec in page.model.fields.items():
        value = record.get(name)
        if value is None:
            continue
        if spec.type == "datetime" and isinstance(value, datetime):
            value = value.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
        elif spec.type == "date":
            value = value.isoformat()
        elif spec.type == "boolean":
            value = "true" if value else ""
        values[name] = value
    return values
