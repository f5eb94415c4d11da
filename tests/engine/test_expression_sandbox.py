"""Hostile expressions: each is refused at parse time or stopped with an ExpressionError, quickly."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from engine.base.errors import ExpressionError
from engine.expressions import EvalContext, evaluate

RECORD = {
    "name": "Acme",
    "level": "vip",
    "amount": Decimal("10.00"),
    "score": 3,
    "tags": ["a", "b"],
    "due": dt.date(2024, 5, 25),
}
CTX = EvalContext(now=dt.datetime(2024, 5, 20, 10, 30), old={"level": "normal"})

HOSTILE = {
    # Escapes through attributes, dunders and the object graph.
    "subclasses": "().__class__.__bases__[0].__subclasses__()",
    "mro": '"".__class__.__mro__[1].__subclasses__()',
    "class_of_field": "name.__class__",
    "method_call": "name.upper()",
    "globals_of_function": "lower.__globals__",
    "self_of_builtin": "len.__self__",
    "import": '__import__("os").system("id")',
    "builtins_name": "__builtins__",
    "underscore_name": "_secret",
    "hidden_in_branch": 'name if name else __import__("os")',
    # Dangerous names that are not functions here.
    "getattr": 'getattr(name, "upper")()',
    "type": "type(name)",
    "eval": 'eval("1 + 1")',
    "exec": 'exec("x = 1")',
    "open": 'open("/etc/passwd")',
    "compile": 'compile("1", "x", "eval")',
    "globals": "globals()",
    "vars": "vars()",
    "breakpoint": "breakpoint()",
    "import_statement": "import os",
    # Functions that are not plain names, and other syntax.
    "lambda": "lambda: 1",
    "called_lambda": "(lambda x: x)(1)",
    "call_of_call": "lower(name)(1)",
    "keywords": "round(amount, ndigits=10**9)",
    "starred": "coalesce(*tags)",
    "walrus": "(x := 1)",
    "set_literal": "{name, level}",
    "dict_literal": '{"a": 1}',
    "await": "await name",
    # Comprehension bombs.
    "list_comprehension": "[x for x in tags for y in tags for z in tags]",
    "nested_comprehension": '[["x" * 10000 for i in tags] for j in tags]',
    "generator": "max(x for x in tags)",
    "dict_comprehension": "{x: x for x in tags}",
    # Format-string tricks.
    "percent_format_width": '"%200000000d" % 1',
    "percent_format_name": '"%s" % name',
    "format_method": '"{0.__class__}".format(name)',
    "format_width": '"{:>200000000}".format(1)',
    "f_string_width": 'f"{1:>200000000}"',
    "f_string": 'f"{name}"',
    "ljust": '"a".ljust(200000000)',
    "join": '"x".join(tags)',
    "replace": 'name.replace("A", "A" * 10000)',
    # Huge numbers.
    "power_tower": "9**9**9",
    "big_power": "9**4000000",
    "power_just_over": "3**1000",
    "huge_exponent_of_decimal": "1.5 ** 100000",
    "big_product": "(2**1000) * (2**1000) * (2**1000)",
    "big_literal": "1" + "0" * 400,
    "float_overflow_literal": "1e999",
    "shift": "1 << 100000",
    "decimal_overflow": "(1e300 ** 1000) ** 1000",
    # Huge strings and lists.
    "string_times_billion": '"a" * 10**9',
    "string_sum": '"x" * 9999 + "x" * 9999',
    "string_doubling": '("x" * 5000 + "x" * 5000) + "x"',
    "list_repeat": "tags * 10**8",
    "literal_list_repeat": "[1] * 10**9",
    "nested_list": "[tags, tags]",
    "lower_of_huge": 'lower("x" * 10001)',
    "add_days_far": "add_days(due, 10**9)",
    "round_places": "round(amount, 10**6)",
    # Deep or long input.
    "long_sum": "+".join(["1"] * 50_000),
    "nested_parens": "(" * 200 + "1" + "+1)" * 200,
    "nested_unary": "-" * 100 + "1",
    "nested_calls": "abs(" * 60 + "1" + ")" * 60,
    "null_byte": "name\x00",
    # Mutation attempts.
    "list_append": 'tags.append("x")',
    "list_clear": "tags.clear()",
    "item_assignment": 'tags[0] = "x"',
    "assignment": "name = 1",
    "delete": "del name",
    "augmented": "score += 1",
    "changed_with_non_text": "changed(tags)",
    # Identity tricks.
    "is_identity": "name is name",
}


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_expression_is_refused(text):
    # Bounded by the sandbox's size, depth and value limits, not by a clock: speed lives in bench/.
    record = copy.deepcopy(RECORD)
    with pytest.raises(ExpressionError):
        evaluate(text, record, CTX)
    assert record == RECORD, "the record given to the expression was changed"


def test_the_corpus_is_large_enough():
    assert len(HOSTILE) >= 45


def test_refused_messages_do_not_leak_internals():
    with pytest.raises(ExpressionError) as caught:
        evaluate("().__class__", RECORD, CTX)
    assert "attribute access is not allowed" in caught.value.message
    assert "Traceback" not in caught.value.message
