"""Forms at run time: which fields are shown, required and locked for the values being typed.

The engine decides, so the page and the save agree: `evaluate_form` runs each section's and
field's conditions over the values coerced as a save would coerce them (a missing value is null),
then folds in what the object and the actor's roles say. It runs on every keystroke, so
expressions come parsed from the cache and a condition that fails while a record is half typed
(arithmetic on an empty field) simply does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from engine.base.actors import Actor
from engine.base.errors import ExpressionError, FieldValueError
from engine.base.messages import Message
from engine.expressions import EvalContext, evaluate, parse
from engine.fieldtypes.base import Source
from engine.identity.permissions import ObjectAccess, access_for
from engine.records.sql import SYSTEM_NAMES, formula_value
from engine.schema.registry import ObjectModel
from metadata.forms import FormField, FormSpec
from metadata.references import GENERATED_TYPES

if TYPE_CHECKING:
    from engine.loom import Loom

REQUIRED_MESSAGE = Message("required")
_SETTABLE_SYSTEM_NAMES = frozenset({"owner"})


@dataclass(frozen=True)
class FieldState:
    """How one field of a form is shown now."""

    visible: bool
    required: bool
    readonly: bool


@dataclass(frozen=True)
class FormState:
    """The state of every field placed on a form (by name) and of each section (by position)."""

    form: FormSpec
    sections: tuple[bool, ...]
    fields: Mapping[str, FieldState]
    values: Mapping[str, Any]  # the values as the conditions saw them: coerced, computed, null when missing


def evaluate_form(
    loom: Loom, form: FormSpec, values: Mapping[str, Any], actor: Actor, *, source: Source = "json"
) -> FormState:
    """Each section's visibility and each field's visible, required and read-only state for `values`."""
    return _evaluate(loom, form, values, actor, source)[0]


def check_form(
    loom: Loom, form: FormSpec, values: Mapping[str, Any], actor: Actor, *, source: Source = "json"
) -> dict[str, list[str]]:
    """Errors to show before saving: values that cannot be read, and required fields left empty.

    Only visible fields are judged (a hidden one cannot be fixed by the person typing); a required
    field with a default is left to the default.
    """
    state, model, unreadable = _evaluate(loom, form, values, actor, source)
    errors: dict[str, list[str]] = {}
    for name, field_state in state.fields.items():
        if not field_state.visible:
            continue
        if name in unreadable:
            errors[name] = [unreadable[name]]
        elif field_state.required and _empty(model, name, state.values.get(name)):
            errors[name] = [REQUIRED_MESSAGE]
    return errors


def _evaluate(
    loom: Loom, form: FormSpec, values: Mapping[str, Any], actor: Actor, source: Source
) -> tuple[FormState, ObjectModel, dict[str, str]]:
    registry = loom.registry
    model = registry.object(form.object)
    access = access_for(registry, actor, model.name)
    ectx, _ = loom.contexts(actor)
    record, unreadable = _record(model, values, source, ectx)
    names = MappingProxyType(record)
    sections = []
    fields: dict[str, FieldState] = {}
    for section in form.sections:
        shown = section.visible_if is None or _holds(section.visible_if, names, ectx)
        sections.append(shown)
        for entry in section.fields:
            if entry.field in model.fields or entry.field in SYSTEM_NAMES:
                fields[entry.field] = _field_state(model, access, entry, shown, names, ectx)
    return FormState(form, tuple(sections), MappingProxyType(fields), names), model, unreadable


def _record(
    model: ObjectModel, values: Mapping[str, Any], source: Source, ectx: EvalContext
) -> tuple[dict[str, Any], dict[str, str]]:
    """The values as a save would see them (coerced, formulas computed), and why any could not be read."""
    record: dict[str, Any] = dict.fromkeys(SYSTEM_NAMES)
    record.update(dict.fromkeys(model.fields))
    unreadable: dict[str, str] = {}
    for name, raw in values.items():
        spec = model.fields.get(name)
        if spec is None or spec.type in GENERATED_TYPES:
            # Nobody types these: a stored record's autonumber or roll-up is shown as it is.
            if name in SYSTEM_NAMES or spec is not None:
                record[name] = raw
            continue
        try:
            record[name] = model.types[name].coerce(raw, spec, source)
        except FieldValueError as error:
            unreadable[name] = str(error)
    for spec in model.formulas:
        record[spec.name] = formula_value(model, spec, record, ectx)
    return record, unreadable


def _holds(text: str, names: Mapping[str, Any], ectx: EvalContext) -> bool:
    try:
        return bool(evaluate(parse(text), names, ectx))
    except ExpressionError:
        return False


def _field_state(
    model: ObjectModel,
    access: ObjectAccess,
    entry: FormField,
    section_shown: bool,
    names: Mapping[str, Any],
    ectx: EvalContext,
) -> FieldState:
    spec = model.fields.get(entry.field)
    visible = (
        section_shown
        and access.visible(entry.field)
        and (entry.visible_if is None or _holds(entry.visible_if, names, ectx))
    )
    if spec is None:  # a system field: only the owner may be chosen, and it is never demanded
        return FieldState(visible, False, entry.field not in _SETTABLE_SYSTEM_NAMES)
    generated = spec.type in GENERATED_TYPES
    readonly = (
        generated
        or spec.readonly
        or entry.field in access.read_only
        or (entry.readonly_if is not None and _holds(entry.readonly_if, names, ectx))
    )
    required = (
        visible
        and not generated
        and (spec.required or (entry.required_if is not None and _holds(entry.required_if, names, ectx)))
    )
    return FieldState(visible, required, readonly)


def _empty(model: ObjectModel, name: str, value: Any) -> bool:
    spec = model.fields.get(name)
    if spec is None or spec.default is not None:
        return False
    return model.types[name].is_empty(value)
