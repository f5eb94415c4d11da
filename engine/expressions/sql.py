"""Compiling an expression to SQLAlchemy Core so the database, not Python, scans the rows.

The compiled condition is TRUE exactly on the rows where Python evaluation is truthy: SQL's NULL
is treated as Python treats None here (`!=` is IS DISTINCT FROM, `not` is IS NOT TRUE, …).
What cannot be expressed that way raises NotCompilable; nothing ever falls back to Python.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, False_, True_

from engine.base.errors import ExpressionError, NotCompilable
from engine.expressions import sql_dates, sql_functions
from engine.expressions.context import EvalContext, SqlContext
from engine.expressions.operators import OPERATORS
from engine.expressions.parsing import ALLOWED_OPERATORS, Expression, in_expression, parse
from engine.expressions.sql_depth import ensure_readable
from engine.expressions.sql_truth import (
    Compiled,
    Const,
    as_value,
    constant_condition,
    is_none,
    is_predicate,
    not_true,
    truthy,
)
from engine.expressions.sql_types import as_datetime, bind, boolean_as_integer, comparable, sql_kind, widened

_ORDERING: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def to_sql(
    expr: Expression | str,
    resolve: Callable[[str], ColumnElement[Any]],
    sctx: SqlContext,
    *,
    as_condition: bool | None = None,
) -> ColumnElement[Any]:
    """Compile to SQL; raises NotCompilable for what SQL cannot express exactly.

    A condition (a comparison, and/or/not, a boolean function) compiles to one that is TRUE on
    exactly the rows where Python evaluation is truthy; anything else compiles to its value.
    `as_condition=True` forces the condition (`score` becomes `score != 0`), False the value.
    """
    if not isinstance(expr, Expression):
        expr = parse(expr)
    compiler = _Compiler(resolve, sctx, expr.text)
    if as_condition is None:
        as_condition = is_predicate(expr.tree.body, sctx)
    try:
        compiled = (
            compiler.condition(expr.tree.body)
            if as_condition
            else compiler.sql(compiler.value(expr.tree.body))
        )
        ensure_readable(compiled)
        return compiled
    except ExpressionError as error:
        raise type(error)(in_expression(error.message, expr.text)) from None


class _Compiler:
    def __init__(self, resolve: Callable[[str], ColumnElement[Any]], sctx: SqlContext, text: str) -> None:
        self.resolve = resolve
        self.sctx = sctx
        self.dialect = sctx.dialect
        self.source = text.strip()
        self.columns: dict[str, ColumnElement[Any]] = {}
        # Calls with only constant arguments run in Python, against the same clock and actor.
        self.ctx = EvalContext(
            now=sctx.now, actor=sctx.actor, functions=sctx.functions, timezone=sctx.timezone
        )

    def shown(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or ast.unparse(node)

    def sql(self, value: Compiled) -> ColumnElement[Any]:
        return bind(value.value, self.dialect) if isinstance(value, Const) else value

    def fold(self, compute: Callable[[], Any]) -> Const:
        try:
            return Const(compute())
        except ExpressionError:
            raise
        except Exception as error:
            raise ExpressionError(f"evaluation failed: {type(error).__name__}: {error}") from None

    # Conditions: TRUE where Python is truthy; NULL or FALSE where it is not.

    def condition(self, node: ast.AST) -> ColumnElement[Any]:
        if isinstance(node, ast.BoolOp):
            parts = [self.condition(value) for value in node.values]
            return sa.and_(*parts) if isinstance(node.op, ast.And) else sa.or_(*parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not_true(self.condition(node.operand))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            test = self.condition(node.test)
            if isinstance(test, True_ | False_):
                return self.condition(node.body if isinstance(test, True_) else node.orelse)
            return sa.case((test, self.condition(node.body)), else_=self.condition(node.orelse))
        value = self.call(node) if isinstance(node, ast.Call) else self.value(node)
        if isinstance(value, Const):
            return constant_condition(value.value)
        return truthy(value, self.dialect, lambda: self.shown(node))

    def compare(self, node: ast.Compare) -> ColumnElement[Any]:
        parts = []
        left_node, left = node.left, None
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            window = self.date_window(left_node, op, right_node)
            if window is not None:
                parts.append(window)
                left = None
            else:
                left = self.value(left_node) if left is None else left
                right = self.value(right_node)
                parts.append(self.pair(left, op, right))
                left = right
            left_node = right_node
        return sa.and_(*parts)

    def pair(self, left: Compiled, op: ast.cmpop, right: Compiled) -> ColumnElement[Any]:
        if isinstance(left, Const) and isinstance(right, Const):
            return constant_condition(self.fold(lambda: OPERATORS[type(op)](left.value, right.value)).value)
        if isinstance(op, ast.In | ast.NotIn):
            contained = self.membership(left, right)
            return not_true(contained) if isinstance(op, ast.NotIn) else contained
        if isinstance(op, ast.Is | ast.IsNot | ast.Eq | ast.NotEq) and (is_none(left) or is_none(right)):
            other = self.sql(right if is_none(left) else left)
            return other.is_(None) if isinstance(op, ast.Is | ast.Eq) else other.is_not(None)
        if is_none(left) or is_none(right):
            return sa.false()  # an ordering comparison with None is False, in Python too
        kinds = {self.kind(left), self.kind(right)}
        if not comparable(kinds):
            if isinstance(op, ast.Eq | ast.NotEq):
                # Python finds values of different kinds unequal (text is never 5), and so must SQL.
                return constant_condition(isinstance(op, ast.NotEq))
            symbol = ALLOWED_OPERATORS[type(op)]
            raise ExpressionError(f"cannot compare {self.kind(left)} with {self.kind(right)} using {symbol}")
        left, right = self.align(left, right, kinds)
        left_sql, right_sql = self.sql(left), self.sql(right)
        if isinstance(op, ast.Eq):
            if isinstance(left, Const) or isinstance(right, Const):
                return left_sql == right_sql
            return left_sql.is_not_distinct_from(right_sql)
        if isinstance(op, ast.NotEq):
            return left_sql.is_distinct_from(right_sql)
        if self.dialect == "postgresql" and "text" in (self.kind(left), self.kind(right)):
            # Python orders text by code point; so does the "C" collation, whatever the database's.
            left_sql = sa.collate(left_sql, "C")
        return _ORDERING[type(op)](left_sql, right_sql)

    def align(self, left: Compiled, right: Compiled, kinds: set[str]) -> tuple[Compiled, Compiled]:
        """Meet a date with a datetime at midnight, and a boolean with a number as 0 or 1, as Python does."""
        if kinds == {"date", "datetime"}:
            convert = as_datetime
        elif "boolean" in kinds and kinds & {"integer", "number"}:
            convert = boolean_as_integer
        else:
            return left, right
        return self._wrap(convert(self._unwrap(left), self.dialect)), self._wrap(
            convert(self._unwrap(right), self.dialect)
        )

    def kind(self, value: Compiled) -> str:
        return sql_kind(self._unwrap(value))

    @staticmethod
    def _unwrap(value: Compiled) -> Any:
        return value.value if isinstance(value, Const) else value

    @staticmethod
    def _wrap(value: Any) -> Compiled:
        return value if isinstance(value, ColumnElement) else Const(value)

    def membership(self, item: Compiled, container: Compiled) -> ColumnElement[Any]:
        if is_none(container):
            return sa.false()
        if isinstance(container, Const) and isinstance(container.value, list | tuple):
            # Values Python could never find equal to the item (5 among texts) are left out.
            item_kind = self.kind(item)
            values = [v for v in container.value if v is not None and comparable({item_kind, sql_kind(v)})]
            matched = self.sql(item).in_([self.sql(Const(value)) for value in values])
            if None in container.value:
                return sa.or_(matched, self.sql(item).is_(None))
            return matched
        if self.kind(container) in ("text", "list"):
            return sql_functions.contains(self.sctx, [self._unwrap(container), self._unwrap(item)])
        raise NotCompilable("`in` in a filter needs a list of constants, a text field or a list field")

    def date_window(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> ColumnElement[Any] | None:
        return sql_dates.window_for(left, ALLOWED_OPERATORS[type(op)], right, self.column, self.sctx)

    # Values.

    def column(self, name: str) -> ColumnElement[Any]:
        if name not in self.columns:
            self.columns[name] = self.resolve(name)
        return self.columns[name]

    def value(self, node: ast.AST) -> Compiled:
        if isinstance(node, ast.Constant):
            return Const(node.value)
        if isinstance(node, ast.Name):
            return self.column(node.id)
        if isinstance(node, ast.List | ast.Tuple):
            items = [self.value(element) for element in node.elts]
            if not all(isinstance(item, Const) for item in items):
                raise NotCompilable(f"a list in a filter may only hold constants: {self.shown(node)}")
            return Const([item.value for item in items])
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.arithmetic(node)
        if isinstance(node, ast.Compare):
            return as_value(self.compare(node))
        if isinstance(node, ast.BoolOp):
            if not all(is_predicate(value, self.sctx) for value in node.values):
                raise NotCompilable(f"and/or in a filter must join conditions: {self.shown(node)}")
            return as_value(self.condition(node))
        if isinstance(node, ast.IfExp):
            test = self.condition(node.test)
            if isinstance(test, True_ | False_):
                return self.value(node.body if isinstance(test, True_) else node.orelse)
            body, orelse = self.sql(self.value(node.body)), self.sql(self.value(node.orelse))
            return sa.case((test, body), else_=orelse)
        if isinstance(node, ast.Call):
            result = self.call(node)
            if isinstance(result, Const) or self.sctx.functions.get(node.func.id).returns != "boolean":
                return result
            return as_value(result)
        raise NotCompilable(f"unknown syntax in a filter: {self.shown(node)}")

    def unary(self, node: ast.UnaryOp) -> Compiled:
        if isinstance(node.op, ast.Not):
            inner = self.condition(node.operand)
            return as_value(not_true(inner))
        operand = self.value(node.operand)
        if isinstance(operand, Const):
            return self.fold(lambda: OPERATORS[type(node.op)](operand.value))
        if sql_kind(operand) not in ("integer", "number", "unknown"):
            raise ExpressionError(f"cannot use {ALLOWED_OPERATORS[type(node.op)]} on {sql_kind(operand)}")
        return -widened(operand, self.dialect) if isinstance(node.op, ast.USub) else operand

    def arithmetic(self, node: ast.BinOp) -> Compiled:
        left, right = self.value(node.left), self.value(node.right)
        symbol = ALLOWED_OPERATORS[type(node.op)]
        if isinstance(left, Const) and isinstance(right, Const):
            return self.fold(lambda: OPERATORS[type(node.op)](left.value, right.value))
        if is_none(left) or is_none(right):
            return Const(None)  # arithmetic with None gives None
        kinds = (self.kind(left), self.kind(right))
        left_sql, right_sql = self.sql(left), self.sql(right)
        numeric = {"integer", "number", "unknown"}
        if isinstance(node.op, ast.Add) and "text" in kinds:
            if not set(kinds) <= {"text", "unknown"}:
                raise ExpressionError(f"cannot use + on {kinds[0]} and {kinds[1]}")
            return sa.type_coerce(left_sql, sa.String).concat(right_sql)
        if not set(kinds) <= numeric:
            raise NotCompilable(
                f"{symbol} on {kinds[0]} and {kinds[1]} cannot be used in a filter"
                " (for dates use add_days() or days_since())"
            )
        left_sql, right_sql = widened(left_sql, self.dialect), widened(right_sql, self.dialect)
        if isinstance(node.op, ast.Add):
            return left_sql + right_sql
        if isinstance(node.op, ast.Sub):
            return left_sql - right_sql
        if isinstance(node.op, ast.Mult):
            return left_sql * right_sql
        divisor = right_sql
        if not (isinstance(right, Const) and right.value != 0):
            divisor = sa.func.nullif(right_sql, 0, type_=right_sql.type)
        if isinstance(node.op, ast.Div):
            # Python raises on division by zero; SQL gives NULL rather than failing the whole query.
            return left_sql / divisor
        if isinstance(node.op, ast.FloorDiv | ast.Mod) and kinds == ("integer", "integer"):
            # SQL truncates toward zero, Python floors: ((a % b) + b) % b is Python's a % b.
            remainder = ((left_sql % divisor) + divisor) % divisor
            return remainder if isinstance(node.op, ast.Mod) else (left_sql - remainder) // divisor
        raise NotCompilable(f"{symbol} on {kinds[0]} and {kinds[1]} cannot be used in a filter")

    def call(self, node: ast.Call) -> Compiled:
        name = node.func.id
        function = self.sctx.functions.get(name)  # raises ExpressionError for unknown functions
        if not function.accepts(len(node.args)):
            raise ExpressionError(function.arity_error(len(node.args)))
        if function.sql is None:
            raise NotCompilable(f"{name}() has no SQL form, so it cannot be used in a filter or report")
        args = [self.value(arg) for arg in node.args]
        if all(isinstance(arg, Const) for arg in args):
            values = [arg.value for arg in args]
            return self.fold(lambda: function.impl(self.ctx, *values))
        return function.sql(self.sctx, [self._unwrap(arg) for arg in args])
