"""Evaluation in Python: each parsed expression runs as its tree of closures (compiled.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import simpleeval

from engine.base.errors import ExpressionError, LoomError
from engine.expressions.compiled import build
from engine.expressions.context import EvalContext
from engine.expressions.limits import MAX_STRING_LENGTH
from engine.expressions.parsing import Expression, in_expression, parse


def evaluate(expr: Expression | str, names: Mapping[str, Any], ctx: EvalContext) -> Any:
    """Evaluate an expression over read-only names; every failure is an ExpressionError."""
    if expr.__class__ is not Expression:
        expr = parse(expr)
    program = expr.program
    if program is None:
        program = build(expr.tree.body)
        # Built from the validated tree and the same every time: a benign race between threads.
        object.__setattr__(expr, "program", program)
    try:
        return program(names, ctx.functions.lookup(), ctx)
    except LoomError as error:
        if isinstance(error, ExpressionError):
            raise ExpressionError(in_expression(error.message, expr.text)) from None
        raise
    except simpleeval.IterableTooLong:  # raised by the bounded + and * of operators.py
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
