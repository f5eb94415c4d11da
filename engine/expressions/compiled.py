"""A validated expression tree turned into a tree of Python closures, built once per expression.

Each node becomes a function of (names, functions, ctx) that calls its children's functions: no
tree walk, no dispatch on node type and no evaluator object per call. Nothing here compiles or
evaluates user text; only the node types the parser lets through are built, with the operator
semantics and limits of operators.py, exactly as the tree walk applied them.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from engine.base.errors import ExpressionError
from engine.expressions.context import EvalContext
from engine.expressions.operators import OPERATORS, ORDERINGS

# names (read-only record values), functions by name (the context's registry), the context.
Program = Callable[[Mapping[str, Any], Mapping[str, Any], EvalContext], Any]


def build(node: ast.AST) -> Program:
    """The closure that evaluates `node`; the node must come from parse(), so its types are known."""
    return _BUILDERS[type(node)](node)


def _name(node: ast.Name) -> Program:
    key = node.id

    def name(names: Mapping[str, Any], functions: Mapping[str, Any], ctx: EvalContext) -> Any:
        try:
            return names[key]
        except KeyError:
            raise ExpressionError(f"unknown name '{key}'") from None

    return name


def _constant(node: ast.Constant) -> Program:
    value = node.value
    return lambda names, functions, ctx: value


def _unary(node: ast.UnaryOp) -> Program:
    apply, operand = OPERATORS[type(node.op)], build(node.operand)
    return lambda names, functions, ctx: apply(operand(names, functions, ctx))


def _binary(node: ast.BinOp) -> Program:
    return _pair(OPERATORS[type(node.op)], node.left, node.right)


def _pair(apply: Callable[[Any, Any], Any], left_node: ast.AST, right_node: ast.AST) -> Program:
    """apply(left, right), with a constant operand (amount > 100, level == 'vip') taken as it is."""
    left = build(left_node)
    if isinstance(right_node, ast.Constant):
        value = right_node.value
        return lambda names, functions, ctx: apply(left(names, functions, ctx), value)
    right = build(right_node)
    return lambda names, functions, ctx: apply(left(names, functions, ctx), right(names, functions, ctx))


def _boolean(node: ast.BoolOp) -> Program:
    # Like Python's and/or: the value that decided, not a bool.
    values = [build(value) for value in node.values]
    if len(values) == 2:  # the common shape, without the loop
        first, second = values
        if isinstance(node.op, ast.And):
            return lambda names, functions, ctx: (
                first(names, functions, ctx) and second(names, functions, ctx)
            )
        return lambda names, functions, ctx: first(names, functions, ctx) or second(names, functions, ctx)
    if isinstance(node.op, ast.And):

        def all_of(names: Mapping[str, Any], functions: Mapping[str, Any], ctx: EvalContext) -> Any:
            result = False
            for value in values:
                result = value(names, functions, ctx)
                if not result:
                    break
            return result

        return all_of

    def any_of(names: Mapping[str, Any], functions: Mapping[str, Any], ctx: EvalContext) -> Any:
        result = False
        for value in values:
            result = value(names, functions, ctx)
            if result:
                break
        return result

    return any_of


def _compare(node: ast.Compare) -> Program:
    if len(node.ops) == 1:
        op, right = type(node.ops[0]), node.comparators[0]
        if isinstance(right, ast.Constant):
            return _compare_with_constant(op, build(node.left), right.value)
        return _pair(OPERATORS[op], node.left, right)
    first = build(node.left)
    pairs = zip(node.ops, node.comparators, strict=True)
    steps = [(OPERATORS[type(op)], build(right)) for op, right in pairs]

    def chained(names: Mapping[str, Any], functions: Mapping[str, Any], ctx: EvalContext) -> Any:
        # a < b < c: each operand evaluated once, stopping at the first comparison that fails.
        right = first(names, functions, ctx)
        result: Any = True
        for apply, operand in steps:
            if not result:
                break
            left, right = right, operand(names, functions, ctx)
            result = apply(left, right)
        return result

    return chained


def _compare_with_constant(op: type, left: Program, value: Any) -> Program:
    """`amount > 100`, `level == 'vip'`: a constant is never a date, so == is Python's own, and an
    ordering needs the operator's fuller rules only when the plain comparison fails."""
    apply = OPERATORS[op]
    if op is ast.Eq:
        return lambda names, functions, ctx: left(names, functions, ctx) == value
    if op is ast.NotEq:
        return lambda names, functions, ctx: left(names, functions, ctx) != value
    compare = ORDERINGS.get(op)
    if compare is None or value is None:
        return lambda names, functions, ctx: apply(left(names, functions, ctx), value)

    def ordered(names: Mapping[str, Any], functions: Mapping[str, Any], ctx: EvalContext) -> Any:
        operand = left(names, functions, ctx)
        if operand is None:
            return False
        try:
            return compare(operand, value)
        except TypeError:
            return apply(operand, value)  # mixed kinds: the operator's own message

    return ordered


def _if(node: ast.IfExp) -> Program:
    test, body, orelse = build(node.test), build(node.body), build(node.orelse)

    def choose(names: Mapping[str, Any], functions: Mapping[str, Any], ctx: EvalContext) -> Any:
        if test(names, functions, ctx):
            return body(names, functions, ctx)
        return orelse(names, functions, ctx)

    return choose


def _call(node: ast.Call) -> Program:
    key = node.func.id  # type: ignore[attr-defined]  # parse() lets only calls by name through
    arguments = [build(arg) for arg in node.args]
    count = len(arguments)

    def call(names: Mapping[str, Any], functions: Mapping[str, Any], ctx: EvalContext) -> Any:
        # Looked up per call: which functions exist depends on the context's registry.
        function = functions.get(key)
        if function is None:
            raise ExpressionError(f"unknown function {key}()")
        args = [argument(names, functions, ctx) for argument in arguments]
        if count < function.min_args or (function.max_args is not None and count > function.max_args):
            raise ExpressionError(function.arity_error(count))
        if function.reads_record:
            return function.impl(ctx, _read_only(names), *args)
        return function.impl(ctx, *args)

    if count != 1:
        return call
    [only] = arguments

    def call_with_one(names: Mapping[str, Any], functions: Mapping[str, Any], ctx: EvalContext) -> Any:
        # The common shape (days_since(x), lower(x)): the same steps without building a list.
        function = functions.get(key)
        if function is None:
            raise ExpressionError(f"unknown function {key}()")
        value = only(names, functions, ctx)
        if function.min_args > 1 or (function.max_args is not None and function.max_args < 1):
            raise ExpressionError(function.arity_error(1))
        if function.reads_record:
            return function.impl(ctx, _read_only(names), value)
        return function.impl(ctx, value)

    return call_with_one


def _read_only(names: Mapping[str, Any]) -> Mapping[str, Any]:
    # Only a function given the record could change it; names are read far more often than that.
    return names if names.__class__ is MappingProxyType else MappingProxyType(names)


def _list(node: ast.List | ast.Tuple) -> Program:
    if all(isinstance(element, ast.Constant) for element in node.elts):
        # status in ['won', 'lost']: made once; a list is copied so no caller shares it.
        constants = [element.value for element in node.elts]
        if isinstance(node, ast.Tuple):
            frozen = tuple(constants)
            return lambda names, functions, ctx: frozen
        return lambda names, functions, ctx: list(constants)
    elements = [build(element) for element in node.elts]

    def flat_list(names: Mapping[str, Any], functions: Mapping[str, Any], ctx: EvalContext) -> list[Any]:
        values = [element(names, functions, ctx) for element in elements]
        # Flat lists only: nested lists would let equality checks multiply their sizes.
        if any(isinstance(value, list | tuple) for value in values):
            raise ExpressionError("a list cannot contain lists")
        return values

    if isinstance(node, ast.List):
        return flat_list
    return lambda names, functions, ctx: tuple(flat_list(names, functions, ctx))


_BUILDERS: dict[type, Callable[[Any], Program]] = {
    ast.Name: _name,
    ast.Constant: _constant,
    ast.UnaryOp: _unary,
    ast.BinOp: _binary,
    ast.BoolOp: _boolean,
    ast.Compare: _compare,
    ast.IfExp: _if,
    ast.Call: _call,
    ast.List: _list,
    ast.Tuple: _list,
}
