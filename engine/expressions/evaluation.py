"""Evaluation in Python with simpleeval, over a cached tree, one reusable evaluator per thread."""

from __future__ import annotations

import ast
import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import simpleeval

from engine.base.errors import ExpressionError, LoomError
from engine.expressions.context import EvalContext
from engine.expressions.limits import MAX_STRING_LENGTH
from engine.expressions.operators import OPERATORS
from engine.expressions.parsing import Expression, in_expression, parse


class _Evaluator(simpleeval.SimpleEval):
    """simpleeval restricted to the validated node types, with Loom's names, calls and lists.

    Building a SimpleEval costs more than evaluating a typical condition, so each thread keeps
    idle evaluators and swaps in the names, context and functions of each call (an evaluator
    holds per-call state, so one is never shared between threads or nested calls).
    """

    def __init__(self) -> None:
        super().__init__(operators=dict(OPERATORS), functions={}, names={})
        self.ctx: EvalContext | None = None
        # Only the node types parse() lets through: attribute, subscript, f-string and import
        # handlers are dropped, not merely unreachable.
        self.nodes = {
            ast.Name: self._eval_name,
            ast.Constant: self._eval_constant,
            ast.UnaryOp: self._eval_unaryop,
            ast.BinOp: self._eval_binop,
            ast.BoolOp: self._eval_boolop,
            ast.Compare: self._eval_compare,
            ast.IfExp: self._eval_ifexp,
            ast.Call: self._eval_call,
            ast.List: self._eval_list,
            ast.Tuple: self._eval_tuple,
        }

    def _eval(self, node: ast.AST) -> Any:
        # simpleeval also scans every result for modules and forbidden functions; here no value
        # can be one: names hold record data, and function names never resolve to values.
        return self.nodes[type(node)](node)

    def _eval_name(self, node: ast.Name) -> Any:
        try:
            return self.names[node.id]
        except KeyError:
            raise ExpressionError(f"unknown name '{node.id}'") from None

    @staticmethod
    def _eval_constant(node: ast.Constant) -> Any:
        return node.value

    def _eval_call(self, node: ast.Call) -> Any:
        name = node.func.id
        function = self.functions.get(name)
        if function is None:
            raise ExpressionError(f"unknown function {name}()")
        args = [self._eval(arg) for arg in node.args]
        count = len(args)
        if count < function.min_args or (function.max_args is not None and count > function.max_args):
            raise ExpressionError(function.arity_error(count))
        if function.reads_record:
            return function.impl(self.ctx, self.names, *args)
        return function.impl(self.ctx, *args)

    def _eval_list(self, node: ast.List) -> list[Any]:
        values = [self._eval(element) for element in node.elts]
        # Flat lists only: nested lists would let equality checks multiply their sizes.
        if any(isinstance(value, list | tuple) for value in values):
            raise ExpressionError("a list cannot contain lists")
        return values

    def _eval_tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        return tuple(self._eval_list(node))


_threads = threading.local()


def evaluate(expr: Expression | str, names: Mapping[str, Any], ctx: EvalContext) -> Any:
    """Evaluate an expression over read-only names; every failure is an ExpressionError."""
    if expr.__class__ is not Expression:
        expr = parse(expr)
    try:
        idle = _threads.idle
    except AttributeError:
        idle = _threads.idle = []
    evaluator = idle.pop() if idle else _Evaluator()
    evaluator.names = names if names.__class__ is MappingProxyType else MappingProxyType(names)
    evaluator.functions = ctx.functions.lookup()
    evaluator.ctx = ctx
    try:
        return evaluator.eval(expr.text, previously_parsed=expr.tree.body)
    except LoomError as error:
        if isinstance(error, ExpressionError):
            raise ExpressionError(in_expression(error.message, expr.text)) from None
        raise
    except simpleeval.IterableTooLong:
        detail = f"text or list would be longer than {MAX_STRING_LENGTH}"
        raise ExpressionError(in_expression(detail, expr.text)) from None
    except ZeroDivisionError:
        raise ExpressionError(in_expression("division by zero", expr.text)) from None
    except ArithmeticError:  # decimal Overflow and InvalidOperation, float OverflowError
        raise ExpressionError(in_expression("a number is out of range", expr.text)) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(in_expression("expression is too complex to evaluate", expr.text)) from None
    except Exception as error:  # a plugin function that failed
        detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise ExpressionError(in_expression(f"evaluation failed: {detail}", expr.text)) from None
    finally:
        # Drop references to the caller's data before the evaluator goes back to the pool.
        evaluator.names = evaluator.ctx = None
        idle.append(evaluator)
