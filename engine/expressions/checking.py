"""Static checking of an expression at metadata-validation time, before anything runs."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Collection, Mapping
from datetime import datetime

import sqlalchemy as sa

from engine.base.actors import SYSTEM
from engine.base.errors import ExpressionError
from engine.expressions.context import SqlContext
from engine.expressions.functions import FunctionRegistry
from engine.expressions.kinds import condition_problem, fits, infer
from engine.expressions.parsing import Expression, parse
from engine.expressions.sql import to_sql
from engine.expressions.sql_depth import TooDeepForSql


def check(
    text: str,
    known_names: Collection[str],
    functions: FunctionRegistry,
    *,
    expect: str | None = None,
    expected_as: str = "the declared result",
) -> list[str]:
    """Problems with an expression: syntax, safety, unknown names or functions, argument counts,
    kinds that do not fit (`known_names` may map each name to its kind) and parts that always fail.

    `expect` is "condition" for a filter or condition (true or false for each record), or the
    kind a formula declares or a default's field holds (`expected_as` names which); a condition
    is also compiled to SQL to see that the database can read it.
    """
    try:
        expression = parse(text)
    except ExpressionError as error:
        return [error.message]
    problems: list[str] = []
    for name in sorted(expression.names - set(known_names)):
        if name in functions:
            problems.append(f"{name} is a function: call it as {name}(...)")
        else:
            problems.append(f"unknown field '{name}'{_suggestion(name, known_names)}")
    for node in ast.walk(expression.tree):
        if isinstance(node, ast.Call):
            problems.extend(_check_call(node, known_names, functions))
    if problems:
        return problems
    kinds = known_names if isinstance(known_names, Mapping) else {}
    kind, problems = infer(expression, kinds, functions)
    if problems:
        return problems
    shown = expression.text.strip()
    if expect == "condition":
        problem = condition_problem(kind, shown if len(shown) <= 40 else "the expression")
        if problem is None:
            problem = sql_depth_problem(expression, kinds, functions)
        return [problem] if problem else []
    if expect is not None and not fits(kind, expect):
        return [f"gives {kind}, but {expected_as} is {expect}"]
    return []


def _check_call(node: ast.Call, known_names: Collection[str], functions: FunctionRegistry) -> list[str]:
    name = node.func.id
    if name not in functions:
        return [f"unknown function {name}(){_suggestion(name, functions.names(), call=True)}"]
    function = functions.get(name)
    if not function.accepts(len(node.args)):
        return [function.arity_error(len(node.args))]
    if function.field_name_arg:
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            return [f'{name}() needs a field name in quotes, such as {name}("status")']
        if first.value not in known_names:
            return [f"{name}(): unknown field '{first.value}'{_suggestion(first.value, known_names)}"]
    return []


def _suggestion(name: str, candidates: Collection[str], call: bool = False) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1)
    if not close:
        return ""
    return f": did you mean {close[0]}()?" if call else f": did you mean '{close[0]}'?"


def condition_error(text: str, kinds: Mapping[str, str], functions: FunctionRegistry) -> str | None:
    """Why a filter typed by a user cannot select records (kinds, parts that always fail, not a
    condition), or None; names are left to the resolver, which knows which fields the user sees."""
    expression = parse(text)
    kind, problems = infer(expression, kinds, functions)
    if problems:
        return problems[0]
    shown = expression.text.strip()
    return condition_problem(kind, shown if len(shown) <= 40 else "the filter")


_COLUMN_TYPES = {
    "boolean": sa.Boolean,
    "number": sa.Numeric,
    "text": sa.String,
    "date": sa.Date,
    "datetime": sa.DateTime,
    "list": sa.JSON,
    "id": sa.Integer,
}


def sql_depth_problem(
    expression: Expression, kinds: Mapping[str, str], functions: FunctionRegistry
) -> str | None:
    """Why a condition's SQL form is too deep for the database, or None (also when it has no SQL form)."""
    table = sa.table(
        "probe",
        *(sa.column(name, _COLUMN_TYPES.get(kind, sa.types.NullType)()) for name, kind in kinds.items()),
    )

    def resolve(name: str) -> sa.ColumnElement:
        if name not in table.c:
            raise ExpressionError(f"unknown name '{name}'")
        return table.c[name]

    sctx = SqlContext(datetime(2000, 1, 1), SYSTEM, functions, "sqlite")
    try:
        to_sql(expression, resolve, sctx, as_condition=True)
    except TooDeepForSql as error:
        return error.message
    except ExpressionError:
        return None  # not a filter the database runs, or a problem reported otherwise
    return None
