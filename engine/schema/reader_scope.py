"""Where a reader-scoped roll-up may not be read: places that keep a value or decide for everyone.

A roll-up with `"scope": "reader"` differs from one reader to the next. Lists, records, filters,
reports and form conditions show it to the reader, which is its point; a default, a validation
rule, a pool cap, a conversion or a before-save rule would store or enforce one user's partial
total as if it were everyone's, so metadata that does that is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engine.base.errors import ExpressionError
from engine.expressions import parse
from metadata.expression_sites import ExpressionSite
from metadata.problems import Problem
from metadata.specs import ObjectSpec

# What each refused site does, as its problem says it.
SHARED_SITES = {
    "default": "a default is stored",
    "validation": "a validation rule holds for every writer",
    "validation_when": "a validation rule holds for every writer",
    "pool": "the pool cap holds for everyone",
    "convert_value": "a converted value is stored",
    "condition": "a before-save rule decides for every writer",
    "action": "a before-save rule stores what it computes",
}


def reader_scoped(obj: ObjectSpec) -> frozenset[str]:
    """The fields of `obj` whose value depends on the reader: reader-scoped roll-ups and the formulas
    that read one, directly or through other formulas."""
    found = {
        field.name
        for field in obj.fields
        if field.type == "rollup" and (field.param("source") or {}).get("scope") == "reader"
    }
    reads = {field.name: _names(field.param("expression")) for field in obj.fields if field.type == "formula"}
    grown = True
    while grown:
        grown = False
        for name, names in reads.items():
            if name not in found and names & found:
                found.add(name)
                grown = True
    return frozenset(found)


def reader_scope_problems(
    sites: Iterable[ExpressionSite], objects: Mapping[str, ObjectSpec], file: str
) -> list[Problem]:
    """A problem at each shared site that reads a reader-scoped roll-up (or a formula over one)."""
    problems = []
    for site in sites:
        scope = objects.get(site.scope_object)
        why = SHARED_SITES.get(site.role)
        if scope is None or why is None:
            continue
        for name in sorted(_names(site.text) & reader_scoped(scope)):
            message = (
                f"{name!r} depends on who reads it (a roll-up with scope 'reader'), but {why}:"
                " read a roll-up with scope 'all' here"
            )
            problems.append(Problem(file, site.path, message))
    return problems


def _names(text: object) -> frozenset[str]:
    if not isinstance(text, str):
        return frozenset()
    try:
        return frozenset(parse(text).names)
    except ExpressionError:
        return frozenset()  # the expression checks report it
