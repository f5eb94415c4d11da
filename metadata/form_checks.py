"""What a schema cannot say about a form: its object exists, and each field is the object's, placed once.

Expressions are listed by `form_expressions_in` and checked by the engine against its functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from metadata.forms import FormSpec
from metadata.problems import Problem, pointer
from metadata.references import missing_object, no_field
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
    return problems
