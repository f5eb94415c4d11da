"""Python truth in SQL: conditions TRUE exactly where Python is truthy, and compile-time constants.

SQL has three truth values; Python has two. A compiled condition may be NULL where Python says
False, which a WHERE clause treats alike, but negation and use as a value need care: `not`
becomes IS NOT TRUE, and a condition used as a value becomes CASE WHEN … THEN true ELSE false.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, False_, True_

from engine.base.errors import NotCompilable
from engine.expressions.sql_types import json_length, sql_kind

if TYPE_CHECKING:
    from engine.expressions.context import SqlContext


class Const:
    """A value known while compiling (a literal, or a call folded in Python)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


Compiled = Const | ColumnElement[Any]


def is_none(value: Compiled) -> bool:
    return isinstance(value, Const) and value.value is None


def constant_condition(value: Any) -> ColumnElement[Any]:
    return sa.true() if value else sa.false()


def not_true(condition: ColumnElement[Any]) -> ColumnElement[Any]:
    """Python's `not`: TRUE where the condition is FALSE or NULL."""
    if isinstance(condition, True_ | False_):
        return constant_condition(isinstance(condition, False_))
    return condition.is_not(sa.true())


def as_value(condition: ColumnElement[Any]) -> Compiled:
    """A condition as the True/False value Python gives (never NULL)."""
    if isinstance(condition, True_ | False_):
        return Const(isinstance(condition, True_))
    return sa.case((condition, sa.true()), else_=sa.false())


def truthy(arg: ColumnElement[Any], dialect: str, shown: Callable[[], str]) -> ColumnElement[Any]:
    """A condition TRUE exactly where Python finds the value truthy (NULL counts as false).

    `shown` gives the expression's text for the refusal, only when there is one: finding a node's
    text costs a pass over the source, and an `and` chain asks for every one of its terms.
    """
    kind = sql_kind(arg)
    if kind == "boolean":
        return arg
    if kind == "text":
        return arg != ""
    if kind in ("integer", "number"):
        return arg != 0
    if kind in ("date", "datetime"):
        return arg.is_not(None)
    if kind == "list":
        return json_length(arg, dialect) > 0
    raise NotCompilable(f"cannot tell in SQL whether {shown()} is true: compare it with a value instead")


def is_predicate(node: ast.AST, sctx: SqlContext) -> bool:
    """Whether Python evaluates the node to True or False (never to another value)."""
    if isinstance(node, ast.Compare) or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)):
        return True
    if isinstance(node, ast.BoolOp):
        return all(is_predicate(value, sctx) for value in node.values)
    if isinstance(node, ast.IfExp):
        return is_predicate(node.body, sctx) and is_predicate(node.orelse, sctx)
    if isinstance(node, ast.Constant):
        return isinstance(node.value, bool)
    return (
        isinstance(node, ast.Call)
        and node.func.id in sctx.functions
        and sctx.functions.get(node.func.id).returns == "boolean"
    )
