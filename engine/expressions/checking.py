"""Static checking of an expression at metadata-validation time, before anything runs."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Collection

from engine.errors import ExpressionError
from engine.expressions.functions import FunctionRegistry
from engine.expressions.parsing import parse


def check(text: str, known_names: Collection[str], functions: FunctionRegistry) -> list[str]:
    """Problems with an expression (syntax, safety, unknown names or functions, argument counts)."""
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
    return problems


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
