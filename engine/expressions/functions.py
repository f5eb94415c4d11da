"""The function registry: expression functions by name, which plugins extend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.base.errors import ExpressionError
from engine.base.named_registry import NamedRegistry


@dataclass(frozen=True)
class Function:
    """One expression function: its Python implementation and, when it has one, its SQL form.

    `impl(ctx, *args)` receives the EvalContext first. `sql(sctx, args)` receives the SqlContext
    and the arguments, each a SQLAlchemy ColumnElement or a plain Python value for a constant;
    it returns a ColumnElement or raises NotCompilable. `returns` is the result kind
    ("boolean", "number", "text", "date", "datetime", "list" or "any"); "boolean" promises the
    Python implementation never returns None. `field_name_arg` marks functions whose first
    argument must be a quoted field name, such as changed("status"); `reads_record` functions
    are called as `impl(ctx, names, *args)` with the names the expression is evaluated over.
    """

    name: str
    impl: Callable[..., Any]
    min_args: int = 0
    max_args: int | None = None
    sql: Callable[..., Any] | None = None
    doc: str = ""
    returns: str = "any"
    field_name_arg: bool = False
    reads_record: bool = False

    def accepts(self, count: int) -> bool:
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)

    def arity_error(self, count: int) -> str:
        """A message saying how many arguments the function takes and how many it was given."""
        if self.max_args == self.min_args:
            expected, most = f"{self.min_args}", self.min_args
        elif self.max_args is None:
            expected, most = f"at least {self.min_args}", self.min_args
        else:
            expected, most = f"{self.min_args} to {self.max_args}", self.max_args
        plural = "" if most == 1 else "s"
        return f"{self.name}() takes {expected} argument{plural}, {count} given"


class FunctionRegistry(NamedRegistry[Function]):
    """Functions by name; plugins add their own through the plugin API."""

    kind = "function"

    def check(self, function: Function) -> None:
        if not function.name.isidentifier() or function.name.startswith("_"):
            raise ValueError(f"{function.name!r} is not a valid function name")

    def unknown(self, name: str) -> Exception:
        return ExpressionError(f"unknown function {name}()")

    def lookup(self) -> dict[str, Function]:
        """The name → Function mapping itself, for the evaluator's hot path; do not mutate."""
        return self._items
