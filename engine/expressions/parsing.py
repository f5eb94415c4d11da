"""Parsing: expression text to a validated, cached syntax tree of the allowed Python subset."""

from __future__ import annotations

import ast
import functools
import math
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.base.errors import ExpressionError
from engine.expressions.limits import MAX_DEPTH, MAX_EXPRESSION_LENGTH, MAX_INT_BITS, MAX_STRING_LENGTH

ALLOWED_OPERATORS: dict[type, str] = {
    ast.And: "and",
    ast.Or: "or",
    ast.Not: "not",
    ast.USub: "-",
    ast.UAdd: "+",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}

# Operators Python has but the language refuses, named the way a person typed them.
_REFUSED_OPERATORS: dict[type, str] = {
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Invert: "~",
    ast.MatMult: "@",
}

# Refused syntax with a message that says what to do instead.
_REFUSED_SYNTAX: dict[type, str] = {
    ast.Attribute: "attribute access is not allowed: use functions such as lower(x)",
    ast.Subscript: "indexing and slicing are not allowed: use functions such as contains(x, y)",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Starred: "* unpacking is not allowed",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.Lambda: "unknown syntax: lambda",
    ast.Dict: "unknown syntax: dictionary",
    ast.Set: "unknown syntax: set",
    ast.Await: "unknown syntax: await",
    ast.Yield: "unknown syntax: yield",
    ast.YieldFrom: "unknown syntax: yield",
    ast.Slice: "indexing and slicing are not allowed",
}


@dataclass(frozen=True)
class Expression:
    """A parsed, validated expression; shared through the parse cache, so never mutated."""

    text: str
    tree: ast.Expression = field(compare=False, repr=False)
    names: frozenset[str] = field(compare=False)
    functions: frozenset[str] = field(compare=False)
    # The tree as closures (compiled.py), built on first evaluation and kept: the one memo it holds.
    program: Any = field(default=None, compare=False, repr=False)


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Expression:
    """Parse and validate expression text; raises ExpressionError saying what is wrong and where."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    source = text.strip()
    if not source:
        raise ExpressionError("expression is empty")
    try:
        # Python warns about things like `x is 1` while parsing; the validator reports them instead.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        where = f" (column {error.offset})" if error.offset else ""
        raise ExpressionError(f"syntax error: {error.msg}{where}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression is nested too deeply to read") from None
    validator = _Validator()
    validator.visit(tree.body, 1)
    return Expression(
        text=text, tree=tree, names=frozenset(validator.names), functions=frozenset(validator.functions)
    )


def in_expression(detail: str, text: str) -> str:
    """An error message that quotes the expression it is about (shortened when long)."""
    shown = text if len(text) <= 80 else text[:77] + "..."
    return f"{detail} (in: {shown})"


def _refuse(node: ast.AST, message: str) -> ExpressionError:
    column = getattr(node, "col_offset", None)
    return ExpressionError(f"{message} (column {column + 1})" if column is not None else message)


class _Validator:
    """Walks the tree once: refuses anything off the whitelist and collects names and functions."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.functions: set[str] = set()

    def visit(self, node: ast.AST, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _refuse(node, f"expression is nested too deeply (more than {MAX_DEPTH} levels)")
        handler = getattr(self, f"visit_{type(node).__name__}", None)
        if handler is None:
            message = _REFUSED_SYNTAX.get(type(node), f"unknown syntax: {type(node).__name__.lower()}")
            raise _refuse(node, message)
        handler(node, depth + 1)

    def _operator(self, node: ast.AST, op: ast.AST) -> None:
        if type(op) not in ALLOWED_OPERATORS:
            symbol = _REFUSED_OPERATORS.get(type(op), type(op).__name__)
            raise _refuse(node, f"operator {symbol} is not allowed")

    def visit_BoolOp(self, node: ast.BoolOp, depth: int) -> None:
        self._operator(node, node.op)
        for value in node.values:
            self.visit(value, depth)

    def visit_UnaryOp(self, node: ast.UnaryOp, depth: int) -> None:
        self._operator(node, node.op)
        self.visit(node.operand, depth)

    def visit_BinOp(self, node: ast.BinOp, depth: int) -> None:
        self._operator(node, node.op)
        self.visit(node.left, depth)
        self.visit(node.right, depth)

    def visit_Compare(self, node: ast.Compare, depth: int) -> None:
        for op, right in zip(node.ops, node.comparators, strict=True):
            self._operator(node, op)
            if isinstance(op, ast.Is | ast.IsNot) and not _is_none(right):
                raise _refuse(node, "`is` can only compare with None: use == to compare values")
        self.visit(node.left, depth)
        for right in node.comparators:
            self.visit(right, depth)

    def visit_IfExp(self, node: ast.IfExp, depth: int) -> None:
        self.visit(node.test, depth)
        self.visit(node.body, depth)
        self.visit(node.orelse, depth)

    def visit_Call(self, node: ast.Call, depth: int) -> None:
        if isinstance(node.func, ast.Attribute):
            raise _refuse(node, _REFUSED_SYNTAX[ast.Attribute])
        if not isinstance(node.func, ast.Name):
            raise _refuse(node, "only functions called by name can be called, such as lower(x)")
        if node.keywords:
            raise _refuse(node, "keyword arguments are not allowed: pass arguments by position")
        self._check_name(node.func, node.func.id)
        self.functions.add(node.func.id)
        for arg in node.args:
            self.visit(arg, depth)

    def visit_Name(self, node: ast.Name, depth: int) -> None:
        self._check_name(node, node.id)
        self.names.add(node.id)

    def _check_name(self, node: ast.AST, name: str) -> None:
        if name.startswith("_"):
            raise _refuse(node, f"names starting with an underscore are not allowed: {name}")

    def visit_List(self, node: ast.List, depth: int) -> None:
        for element in node.elts:
            self.visit(element, depth)

    visit_Tuple = visit_List

    def visit_Constant(self, node: ast.Constant, depth: int) -> None:
        value = node.value
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, str):
            if len(value) > MAX_STRING_LENGTH:
                raise _refuse(node, f"text is longer than {MAX_STRING_LENGTH} characters")
            if "\x00" in value or any("\ud800" <= char <= "\udfff" for char in value):
                # PostgreSQL stores neither; refused everywhere so a text means the same in each place.
                raise _refuse(
                    node, "text holds a NUL character or an unpaired surrogate, which cannot be stored"
                )
        elif isinstance(value, int):
            if value.bit_length() > MAX_INT_BITS:
                raise _refuse(node, "number is too large")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise _refuse(node, "number is too large")
            # Fractional literals become Decimal so they mix with money fields (amount * 0.1).
            node.value = Decimal(repr(value))
        else:
            raise _refuse(node, f"unknown syntax: {type(value).__name__} literal")


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None
