"""Static kinds: what an expression gives (boolean, number, text, …) from its fields and functions.

The checker refuses, before anything runs, what would fail or mean different things in Python and
in SQL: arithmetic on text, ordering text against numbers, a condition that is not true or false,
and constant parts that fail every time (`1 / 0`, `2 ** 100000000`, `"a" * 10**10`).
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Mapping

from engine.base.errors import ExpressionError
from engine.expressions.context import EvalContext
from engine.expressions.evaluation import evaluate
from engine.expressions.functions import FunctionRegistry
from engine.expressions.library import default_functions
from engine.expressions.limits import kind_of
from engine.expressions.parsing import ALLOWED_OPERATORS, Expression

# The kinds: those of field values (value_kind of a field type), "empty" for None and "any" when
# nothing is known (a plugin function, a webhook payload, a field of a plugin type).
KINDS = frozenset({"boolean", "number", "text", "date", "datetime", "list", "id", "empty", "any"})
_NUMERIC = frozenset({"number", "id"})
_TIMES = frozenset({"date", "datetime"})
_LENIENT = frozenset({"any", "empty"})

# The kinds of the system fields every record has.
SYSTEM_KINDS = {
    "id": "id",
    "owner": "id",
    "owner_id": "id",
    "created_by": "id",
    "updated_by": "id",
    "created_at": "datetime",
    "updated_at": "datetime",
    "deleted_at": "datetime",
    "version": "number",
}

_BUILTINS = default_functions()
# Built-ins whose result depends on nothing but their arguments: with constant arguments they are
# constants, evaluated once at check time. today(), user(), old() … depend on when and who.
_PURE = frozenset(
    {"isblank", "coalesce", "contains", "startswith", "lower", "upper", "len", "round", "abs", "min",
     "max", "year", "month", "day", "text", "add_days", "add_hours", "days_since", "days_until",
     "hours_between"}
)  # fmt: skip
# What each built-in accepts, argument by argument (None: anything).
_ARGUMENTS: Mapping[str, tuple[frozenset[str] | None, ...]] = {
    "days_since": (_TIMES,),
    "days_until": (_TIMES,),
    "hours_between": (frozenset({"datetime"}), frozenset({"datetime"})),
    "add_days": (_TIMES, _NUMERIC),
    "add_hours": (_TIMES, _NUMERIC),
    "lower": (frozenset({"text"}),),
    "upper": (frozenset({"text"}),),
    "len": (frozenset({"text", "list"}),),
    "round": (_NUMERIC, _NUMERIC),
    "abs": (_NUMERIC,),
    "year": (_TIMES,),
    "month": (_TIMES,),
    "day": (_TIMES,),
    "contains": (frozenset({"text", "list"}), None),
    "startswith": (frozenset({"text"}), frozenset({"text"})),
    "has_role": (frozenset({"text"}),),
}
# The operators whose operands must be numbers, or of one orderable kind, as the language spells them.
_SYMBOLS: Mapping[type, str] = {
    operator: ALLOWED_OPERATORS[operator]
    for operator in (
        *(ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow),
        *(ast.Lt, ast.LtE, ast.Gt, ast.GtE),
    )
}
_CONDITION_HINTS = {
    "text": 'compare it, e.g. {0} != "" or isblank({0})',
    "number": "compare it, e.g. {0} > 0",
    "date": "compare it, e.g. {0} < today() or isblank({0})",
    "datetime": "compare it, e.g. days_since({0}) > 7 or isblank({0})",
    "list": "compare it, e.g. len({0}) > 0",
    "id": "compare it, e.g. {0} == user() or isblank({0})",
}


def kind_of_constant(value: object) -> str:
    """A constant's kind; a value of no kind the checker reasons about is "any"."""
    kind = kind_of(value)
    return kind if kind in _CONSTANT_KINDS else "any"


_CONSTANT_KINDS = frozenset({"empty", "boolean", "number", "text", "datetime", "date", "list"})


def unify(kinds: list[str]) -> str | None:
    """The kind of a value that is one of `kinds`, or None when they differ (text or number)."""
    known = {kind for kind in kinds if kind != "empty"}
    if "any" in known:
        return "any"
    if not known:
        return "empty"
    if len(known) == 1:
        return known.pop()
    if known <= _NUMERIC:
        return "number"
    return None


def fits(kind: str, wanted: str) -> bool:
    """Whether a value of `kind` can stand where `wanted` is expected (a formula's result, a condition)."""
    if kind in _LENIENT or wanted in _LENIENT or kind == wanted:
        return True
    return (kind in _NUMERIC and wanted in _NUMERIC) or (kind in _TIMES and wanted in _TIMES)


def condition_problem(kind: str, shown: str) -> str | None:
    """Why an expression of `kind` cannot be a condition, or None when it is true or false."""
    if fits(kind, "boolean"):
        return None
    simple = " " not in shown and len(shown) <= 30
    hint = _CONDITION_HINTS.get(kind, "compare it with a value") if simple else "compare it with a value"
    hint = hint.format(shown)
    return f"must be true or false, but {shown} gives {kind}: {hint}"


class KindChecker:
    """Infers the kind of every node, collecting what cannot work; `problems` says what and where."""

    def __init__(self, expression: Expression, kinds: Mapping[str, str], functions: FunctionRegistry) -> None:
        self.expression = expression
        self.source = expression.text.strip()
        self.kinds = kinds
        self.functions = functions
        self.problems: list[str] = []

    def shown(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or ast.unparse(node)

    def refuse(self, message: str) -> str:
        self.problems.append(message)
        return "any"  # reported once; what contains it is not reported again

    def kind(self, node: ast.AST) -> str:
        handler = getattr(self, f"_{type(node).__name__}", None)
        return handler(node) if handler else "any"

    def _Constant(self, node: ast.Constant) -> str:
        return kind_of_constant(node.value)

    def _Name(self, node: ast.Name) -> str:
        kind = self.kinds.get(node.id, "any")
        return kind if kind in KINDS else "any"

    def _List(self, node: ast.List | ast.Tuple) -> str:
        for element in node.elts:
            self.kind(element)
        return "list"

    _Tuple = _List

    def _UnaryOp(self, node: ast.UnaryOp) -> str:
        operand = self.kind(node.operand)
        if isinstance(node.op, ast.Not):
            return "boolean"
        if operand in _LENIENT or operand in _NUMERIC:
            return "number" if operand in _NUMERIC else operand
        symbol = "-" if isinstance(node.op, ast.USub) else "+"
        return self.refuse(f"cannot use {symbol} on {operand} in {self.shown(node)}")

    def _BinOp(self, node: ast.BinOp) -> str:
        left, right = self.kind(node.left), self.kind(node.right)
        symbol = _SYMBOLS[type(node.op)]
        if "any" in (left, right):
            return "any"
        if "empty" in (left, right):
            return "empty"  # arithmetic with None gives None
        if left in _NUMERIC and right in _NUMERIC:
            return "number"
        if isinstance(node.op, ast.Add) and left == right and left in ("text", "list"):
            return left
        if isinstance(node.op, ast.Mult) and {left, right} in ({"text", "number"}, {"text", "id"}):
            return "text"  # "-" * 10 repeats the text
        hint = ""
        if left in _TIMES or right in _TIMES:
            hint = ": for dates use add_days(), add_hours(), days_since() or days_until()"
        elif "text" in (left, right) and isinstance(node.op, ast.Add):
            hint = ": make the number text first, e.g. text(x)"
        return self.refuse(f"cannot use {symbol} on {left} and {right} in {self.shown(node)}{hint}")

    def _BoolOp(self, node: ast.BoolOp) -> str:
        kinds = [self.kind(value) for value in node.values]
        unified = unify(kinds)
        if unified is None:
            # `a or b` gives a or b: different kinds make a value no field or condition can hold.
            return self.refuse(f"{self.shown(node)} gives {' or '.join(sorted(set(kinds)))}")
        return unified

    def _Compare(self, node: ast.Compare) -> str:
        left = self.kind(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.kind(right_node)
            if isinstance(op, ast.In | ast.NotIn):
                self._membership(node, left, right)
            elif type(op) in _SYMBOLS and not _orderable(left, right):
                symbol = _SYMBOLS[type(op)]
                self.refuse(f"cannot compare {left} with {right} using {symbol} in {self.shown(node)}")
            left = right
        return "boolean"

    def _membership(self, node: ast.Compare, item: str, container: str) -> None:
        if container in _LENIENT or container == "list":
            return
        if container == "text":
            if item not in _LENIENT and item != "text":
                self.refuse(f"`in` looks for text inside text, got {item} in {self.shown(node)}")
            return
        self.refuse(f"`in` needs a list or text on its right, got {container} in {self.shown(node)}")

    def _IfExp(self, node: ast.IfExp) -> str:
        self.kind(node.test)
        body, orelse = self.kind(node.body), self.kind(node.orelse)
        unified = unify([body, orelse])
        if unified is None:
            return self.refuse(
                f"{self.shown(node)} gives {body} or {orelse}: both branches must give the same kind"
            )
        return unified

    def _Call(self, node: ast.Call) -> str:
        name = node.func.id
        args = [self.kind(arg) for arg in node.args]
        if name not in self.functions:
            return "any"  # reported as an unknown function
        function = self.functions.get(name)
        if not function.accepts(len(args)):
            return "any"  # reported as a wrong argument count
        if not _builtin(name, self.functions):
            return function.returns if function.returns in KINDS else "any"
        for index, (wanted, got) in enumerate(zip(_ARGUMENTS.get(name, ()), args, strict=False)):
            if wanted is not None and got not in _LENIENT and got not in wanted:
                expected = " or ".join(sorted(wanted - {"id"}))
                where = f"argument {index + 1}" if len(args) > 1 else "its argument"
                return self.refuse(f"{name}() expects {expected} as {where}, got {got} in {self.shown(node)}")
        if name in ("coalesce", "min", "max"):
            if name != "coalesce" and len(args) == 1:
                return "any"  # the smallest of a list: the list's items are of no known kind
            unified = unify(args)
            if unified is None:
                return self.refuse(f"{name}() mixes {' and '.join(sorted(set(args)))} in {self.shown(node)}")
            return unified
        if name in ("add_days", "add_hours"):
            return "datetime" if name == "add_hours" or args[0] == "datetime" else "date"
        if name == "old":
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                return self._Name(ast.Name(first.value))
            return "any"
        return function.returns if function.returns in KINDS else "any"


def _builtin(name: str, functions: FunctionRegistry) -> bool:
    """Whether `name` is the built-in function (not one a plugin registered in its place)."""
    return name in _BUILTINS and name in functions and functions.get(name) == _BUILTINS.get(name)


def _orderable(left: str, right: str) -> bool:
    known = {left, right} - _LENIENT
    return len(known) < 2 or known <= _NUMERIC | {"boolean"} or known <= _TIMES


def constant_failures(expression: Expression, functions: FunctionRegistry) -> list[str]:
    """Parts without fields whose evaluation fails whatever the record: `1 / 0`, `2 ** 100000000`."""
    source = expression.text.strip()
    ctx = EvalContext(now=dt.datetime(2000, 1, 1), functions=functions)
    problems: list[str] = []

    def visit(node: ast.AST) -> None:
        if _constant(node, functions) and not isinstance(node, ast.Constant):
            text = ast.get_source_segment(source, node)
            if text is None:
                return
            try:
                evaluate(text, {}, ctx)
            except ExpressionError as error:
                problems.append(f"fails for every record: {error.message}")
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(expression.tree.body)
    return problems


def _constant(node: ast.AST, functions: FunctionRegistry) -> bool:
    if isinstance(node, ast.Name):
        return False
    if isinstance(node, ast.Call):
        name = node.func.id
        if name not in _PURE or not _builtin(name, functions):
            return False
        return all(_constant(arg, functions) for arg in node.args)
    if isinstance(node, ast.expr_context | ast.operator | ast.cmpop | ast.boolop | ast.unaryop):
        return True
    return all(_constant(child, functions) for child in ast.iter_child_nodes(node))


def infer(
    expression: Expression, kinds: Mapping[str, str], functions: FunctionRegistry
) -> tuple[str, list[str]]:
    """The kind an expression gives over fields of these kinds, and the problems found on the way."""
    checker = KindChecker(expression, kinds, functions)
    kind = checker.kind(expression.tree.body)
    return kind, checker.problems + constant_failures(expression, functions)
