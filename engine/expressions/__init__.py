"""Loom's one expression language: a safe subset of Python expressions.

Used for defaults, formulas, validation rules, rule conditions and list filters. `parse` validates
and caches, `evaluate` runs in Python, `check` reports problems at metadata-validation time and
`to_sql` turns a filter into a SQLAlchemy expression the database runs.
"""

from engine.expressions.checking import check, condition_error
from engine.expressions.context import EvalContext, SqlContext
from engine.expressions.evaluation import evaluate
from engine.expressions.functions import Function, FunctionRegistry
from engine.expressions.library import default_functions
from engine.expressions.parsing import Expression, parse
from engine.expressions.sql import to_sql

__all__ = [
    "EvalContext",
    "Expression",
    "Function",
    "FunctionRegistry",
    "SqlContext",
    "check",
    "condition_error",
    "default_functions",
    "evaluate",
    "parse",
    "to_sql",
]
