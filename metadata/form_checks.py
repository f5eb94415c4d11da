"""What a schema cannot say about a form: its object exists, and each field is the object's, placed once.

Expressions are listed by `form_expressions_in` and checked by the engine against its functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from metadata.forms import FormSpec, PublicForm
from metadata.problems import Problem, pointer
from metadata.references import did_you_mean, missing_object, no_field
from metadata.reserved import EXPRESSION_SYSTEM_NAMES
from metadata.specs import ObjectSpec


def form_problems(
    form: FormSpec, file: str, known: Mapping[str, ObjectSpec], broken: Iterable[str] = ()
) -> list[Problem]:
    """Semantic problems of a schema-valid form; `broken` names objects already reported as invalid."""
    missing = missing_object(form.object, known, broken)
    if missing:
        return [Problem(file, "/object", f"form {form.name!r} edits {missing}")]
    obj = known.get(form.object)
    if obj is None:  # broken: reported in its own document
        return []
    problems = []
    placed_at: dict[str, str] = {}
    for i, j, _, entry in form.placed():
        at = pointer("sections", i, "fields", j, *(() if entry.short else ("field",)))
        if not obj.has_field(entry.field) and entry.field not in EXPRESSION_SYSTEM_NAMES:
            problems.append(Problem(file, at, no_field(obj, entry.field)))
        elif entry.field in placed_at:
            message = f"field {entry.field!r} is already on the form at {placed_at[entry.field]}"
            problems.append(Problem(file, at, message))
        else:
            placed_at[entry.field] = pointer("sections", i, "fields", j)
    if form.public is not None:
        problems += _public_problems(form, form.public, file, obj)
    return problems


#: What a visitor may fill in on a public form: nothing pointing into the data, nothing computed.
PUBLIC_TYPES = frozenset(
    {"text", "long_text", "email", "phone", "url", "select", "integer", "decimal", "date", "boolean"}
)
_COMPUTED = frozenset({"formula", "rollup", "autonumber"})


def _public_problems(form: FormSpec, public: PublicForm, file: str, obj: ObjectSpec) -> list[Problem]:
    """A public form offers visitors only fields they can type, and its values fit their fields."""
    problems = []
    for i, j, _, entry in form.placed():
        spec = next((f for f in obj.fields if f.name == entry.field), None)
        if spec is None or spec.type not in PUBLIC_TYPES:
            kind = spec.type if spec is not None else "system"
            message = (
                f"a public form may not offer the {kind} field {entry.field!r}: visitors fill in only "
                f"{', '.join(sorted(PUBLIC_TYPES))} fields"
            )
            problems.append(Problem(file, pointer("sections", i, "fields", j), message))
    placed = set(form.field_names)
    for name, value in public.values.items():
        at = pointer("public", "values", name)
        spec = next((f for f in obj.fields if f.name == name), None)
        if spec is None:
            problems.append(Problem(file, at, no_field(obj, name)))
        elif spec.type in _COMPUTED:
            problems.append(
                Problem(file, at, f"{name!r} is a {spec.type} field: Loom sets it, a form cannot")
            )
        elif name in placed:
            message = f"{name!r} is also on the form for visitors to fill in; give it one way only"
            problems.append(Problem(file, at, message))
        elif spec.type == "select":
            options = [option["value"] for option in spec.param("options", ())]
            if value not in options:
                message = (
                    f"{value!r} is not an option of {obj.name}.{name}{did_you_mean(str(value), options)}"
                )
                problems.append(Problem(file, at, message))
    return problems
