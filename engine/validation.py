"""The metadata checks that need the engine: field types from the registry, expressions against functions."""

from __future__ import annotations

from collections.abc import Mapping

from jsonschema import Draft202012Validator

from engine.errors import ExpressionError
from engine.expressions import FunctionRegistry, check, parse
from engine.fieldtypes.registry import FieldTypeRegistry
from metadata.problems import Problem, pointer
from metadata.reserved import SYSTEM_FIELDS
from metadata.specs import ObjectSpec, thaw
from metadata.validation import expressions_in


def check_objects(
    objects: Mapping[str, ObjectSpec],
    field_types: FieldTypeRegistry,
    functions: FunctionRegistry,
    files: Mapping[str, str],
    only: set[str] | None = None,
) -> list[Problem]:
    """Problems in `objects` (all, or those named in `only`), each with its file and JSON pointer."""
    problems: list[Problem] = []
    for name, obj in sorted(objects.items()):
        if only is not None and name not in only:
            continue
        file = files.get(name, f"objects/{name}.json")
        problems += _field_type_problems(obj, objects, field_types, file)
        if not any(p.file == file and p.path.endswith("/type") for p in problems):
            problems += _expression_problems(obj, objects, functions, file)
            problems += _formula_cycles(obj, file)
    return sorted(set(problems))


def _field_type_problems(obj, objects, field_types, file) -> list[Problem]:  # type: ignore[no-untyped-def]
    problems = []
    specs = dict(objects)
    for index, field in enumerate(obj.fields):
        if field.type not in field_types:
            known = ", ".join(field_types.names())
            problems.append(
                Problem(
                    file,
                    pointer("fields", index, "type"),
                    f"unknown field type {field.type!r}; known types: {known}",
                )
            )
            continue
        ftype = field_types.get(field.type)
        if ftype.params_schema:
            validator = Draft202012Validator(ftype.params_schema)
            for error in validator.iter_errors(thaw(field.params)):
                where = pointer("fields", index, *error.absolute_path)
                problems.append(Problem(file, where, error.message))
        for message in ftype.check_spec(field, obj, specs):
            problems.append(Problem(file, pointer("fields", index), message))
    return problems


def _expression_problems(obj, objects, functions, file) -> list[Problem]:  # type: ignore[no-untyped-def]
    problems = []
    for site in expressions_in(obj):
        scope = objects.get(site.scope_object)
        if scope is None:
            continue  # the missing object is reported by the structural checks
        known = {f.name for f in scope.fields} | set(SYSTEM_FIELDS)
        for message in check(site.text, known, functions):
            problems.append(Problem(file, site.path, f"{message} in {site.text!r}"))
    return problems


def _formula_cycles(obj: ObjectSpec, file: str) -> list[Problem]:
    formulas = {f.name: f for f in obj.fields if f.type == "formula"}
    reads: dict[str, set[str]] = {}
    for name, spec in formulas.items():
        try:
            reads[name] = set(parse(spec.param("expression", "None")).names) & set(formulas)
        except ExpressionError:
            reads[name] = set()
    problems = []
    for index, field in enumerate(obj.fields):
        if field.name in formulas and _reaches(field.name, field.name, reads, set()):
            problems.append(
                Problem(
                    file,
                    pointer("fields", index, "expression"),
                    f"formula {field.name!r} depends on itself through other formulas",
                )
            )
    return problems


def _reaches(start: str, target: str, reads: dict[str, set[str]], seen: set[str]) -> bool:
    for name in reads.get(start, ()):
        if name == target:
            return True
        if name not in seen:
            seen.add(name)
            if _reaches(name, target, reads, seen):
                return True
    return False
