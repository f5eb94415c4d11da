"""The conversion page (线索转客户): what the record becomes, prefilled from its metadata mapping, with
likely duplicates to link instead and the optional targets to tick; one click converts it all."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.base.errors import LoomError, RecordInvalid
from engine.records import conversion
from engine.records.conversion import TargetPlan
from engine.schema.registry import ObjectModel
from runtime.web.api.inputs import MAX_ID
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.objects import object_page
from runtime.web.pages.record_actions import refusal_text

EDITABLE_TYPES = frozenset(
    {"text", "phone", "email", "url", "integer", "decimal", "currency", "percent", "date"}
)
ASKED_TYPES = frozenset({"currency", "date"})  # worth asking for on an optional target (amount, close date)


@blueprint.route("/app/<object_name>/<int:record_id>/convert", methods=["GET", "POST"])
def convert_record(object_name: str, record_id: int) -> Response | str:
    page = object_page(object_name)
    loom, actor = current_loom(), current_actor()
    back = url_for(".record_detail", object_name=object_name, record_id=record_id)
    try:
        plans = conversion.plan(loom, actor, object_name, record_id)
    except LoomError as error:
        flash(refusal_text(error), "error")
        return redirect(back)  # type: ignore[return-value]
    errors: dict[str, list[str]] = {}
    problem = None
    if request.method == "POST":
        values, existing, include = _asked(plans)
        try:
            done = conversion.convert(
                loom, actor, object_name, record_id, values=values, existing=existing, include=include
            )
        except RecordInvalid as invalid:
            errors = invalid.fields
            problem = _("Please correct the fields marked below.")
        except LoomError as error:
            problem = refusal_text(error)
        else:
            first = plans[0].target.object
            flash(_("Converted. Here is the record it became."), "success")
            return redirect(  # type: ignore[return-value]
                url_for(".record_detail", object_name=first, record_id=done.records[first]["id"])
            )
    record = loom.records(actor).get(object_name, record_id)
    title_field = page.model.spec.title_field
    return render_template(
        "convert.html",
        page=page,
        record=record,
        title=str(record.get(title_field) or f"{page.label} #{record_id}"),
        targets=[_target_view(loom, actor, plan, errors) for plan in plans],
        problem=problem,
        back=back,
    )


def _asked(plans: list[TargetPlan]) -> tuple[dict[str, dict[str, str]], dict[str, int], list[str]]:
    """Values per target ("customer.name" inputs), links to existing records, optional targets ticked."""
    values: dict[str, dict[str, str]] = {}
    existing: dict[str, int] = {}
    include: list[str] = []
    for plan in plans:
        name = plan.target.object
        chosen = request.form.get(f"{name}__existing", "")
        if plan.target.link_existing and chosen.isdigit() and 0 < int(chosen) <= MAX_ID:
            existing[name] = int(chosen)
            continue
        if plan.target.optional:
            if request.form.get(f"{name}__include") != "1":
                continue
            include.append(name)
        prefix = f"{name}."
        values[name] = {
            key.removeprefix(prefix): value.strip()
            for key, value in request.form.items()
            if key.startswith(prefix) and value.strip()
        }
    return values, existing, include


def _target_view(loom: Any, actor: Any, plan: TargetPlan, errors: dict[str, list[str]]) -> dict[str, Any]:
    model: ObjectModel = loom.registry.object(plan.target.object)
    prefix = f"{model.name}."
    posted = request.method == "POST"
    fields = []
    for name in _shown_fields(model, plan):
        spec = model.fields[name]
        key = prefix + name
        value = request.form.get(key, "") if posted else _text(plan.values.get(name))
        fields.append(
            {
                "key": key,
                "label": label_text(spec.label, name),
                "type": spec.type,
                "required": spec.required,
                "value": value,
                "errors": errors.get(key, []),
                "options": [
                    (o["value"], label_text(o.get("label"), o["value"])) for o in spec.param("options", ())
                ],
            }
        )
    shown = {field["key"] for field in fields}
    chosen = request.form.get(f"{model.name}__existing", "") if posted else ""
    return {
        "object": model.name,
        "label": label_text(model.spec.label, model.name),
        "optional": plan.target.optional,
        "included": (request.form.get(f"{model.name}__include") == "1") if posted else False,
        "duplicates": plan.duplicates,
        "hidden_duplicates": plan.hidden_duplicates,
        "existing": chosen,
        "fields": fields,
        "other_errors": [
            f"{label_text(model.fields[key[len(prefix) :]].label, key)}: {message}"
            if key[len(prefix) :] in model.fields
            else message
            for key, messages in errors.items()
            if key.startswith(prefix) and key not in shown
            for message in messages
        ],
    }


def _shown_fields(model: ObjectModel, plan: TargetPlan) -> list[str]:
    """The title field, fields the target needs that the mapping leaves empty, and — for an optional
    target — the amounts and dates its list shows: what a person converting would want to say."""
    names = []
    listed = (model.spec.extra.get("list") or {}).get("columns", ())
    title = model.spec.title_field
    if title and model.fields[title].type in EDITABLE_TYPES | {"select"}:
        names.append(title)
    for spec in model.spec.fields:
        if spec.name in names or spec.readonly or spec.type not in EDITABLE_TYPES | {"select"}:
            continue
        needed = spec.required and spec.default is None and plan.values.get(spec.name) in (None, "")
        if needed or (plan.target.optional and spec.type in ASKED_TYPES and spec.name in listed):
            names.append(spec.name)
    return names


def _text(value: Any) -> str:
    return "" if value is None else str(value)
