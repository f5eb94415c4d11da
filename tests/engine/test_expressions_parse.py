"""Parsing: the allowed subset, the messages for what is refused, and the cache."""

from __future__ import annotations

import ast
from decimal import Decimal

import pytest

from engine.base.errors import ExpressionError
from engine.expressions import Expression, parse


def test_parse_collects_names_and_functions():
    expression = parse('level == "vip" and days_since(last_followup_at) > 15')

    assert isinstance(expression, Expression)
    assert expression.text == 'level == "vip" and days_since(last_followup_at) > 15'
    assert expression.names == frozenset({"level", "last_followup_at"})
    assert expression.functions == frozenset({"days_since"})
    assert isinstance(expression.tree, ast.Expression)


def test_parse_is_cached_by_text():
    assert parse("amount > 100") is parse("amount > 100")


@pytest.mark.parametrize(
    "text",
    [
        "a and b or not c",
        "-x + +y - 1 * 2 / 3 // 4 % 5 ** 2",
        "a == 1 != b < 2 <= c > 3 >= d",
        'level in ["a", "b"] and level not in ("c",)',
        "x is None or y is not None",
        "a if b else c",
        "coalesce(a, b, 0)",
        'contains(name, "x")',
        "True or False or None",
        "'text' + \"text\"",
    ],
)
def test_the_allowed_subset_parses(text):
    parse(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name.upper()", "attribute access is not allowed: use functions such as lower(x)"),
        ("().__class__", "attribute access is not allowed"),
        ("tags[0]", "indexing and slicing are not allowed"),
        ("tags[1:2]", "indexing and slicing are not allowed"),
        ('f"{name}"', "f-strings are not allowed"),
        ("[x for x in tags]", "comprehensions are not allowed"),
        ("{x for x in tags}", "comprehensions are not allowed"),
        ("{x: 1 for x in tags}", "comprehensions are not allowed"),
        ("any(x for x in tags)", "comprehensions are not allowed"),
        ("lambda: 1", "unknown syntax: lambda"),
        ("lower(*tags)", "* unpacking is not allowed"),
        ("round(x, ndigits=2)", "keyword arguments are not allowed: pass arguments by position"),
        ("(x := 1)", "assignment (:=) is not allowed"),
        ("__import__('os')", "names starting with an underscore are not allowed"),
        ("_private", "names starting with an underscore are not allowed"),
        ("{'a': 1}", "unknown syntax: dictionary"),
        ("{1, 2}", "unknown syntax: set"),
        ("1 << 2", "operator << is not allowed"),
        ("~1", "operator ~ is not allowed"),
        ("a | b", "operator | is not allowed"),
        ("x is 1", "`is` can only compare with None: use == to compare values"),
        ("1j", "unknown syntax: complex literal"),
        ("b'x'", "unknown syntax: bytes literal"),
        ("...", "unknown syntax: ellipsis literal"),
        ("lower(x)(y)", "only functions called by name can be called"),
        ("1e999", "number is too large"),
        ("2" + "0" * 400, "number is too large"),
        ("import os", "syntax error"),
        ("x = 1", "syntax error"),
        ("level ==", "syntax error"),
        ("", "expression is empty"),
        ("   ", "expression is empty"),
    ],
)
def test_refused_syntax_says_what_is_wrong(text, message):
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert message in caught.value.message


def test_refusals_name_the_column():
    with pytest.raises(ExpressionError, match=r"\(column 5\)"):
        parse("x + name.upper()")


def test_expression_length_is_capped():
    with pytest.raises(ExpressionError, match="expression is longer than 2000 characters"):
        parse("1+" * 1000 + "1")


def test_nesting_depth_is_capped():
    parse("-" * 45 + "1")
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse("-" * 60 + "1")


def test_long_flat_and_chains_are_not_deep():
    parse(" and ".join(f"f{i} > 1" for i in range(120)))


def test_non_text_is_refused():
    with pytest.raises(ExpressionError, match="must be text"):
        parse(42)  # type: ignore[arg-type]


def test_fractional_literals_become_decimal():
    tree = parse("amount * 0.1").tree
    constants = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)]
    assert constants == [Decimal("0.1")]


def test_surrounding_whitespace_is_ignored_but_kept_in_text():
    expression = parse("  level == 1\n")
    assert expression.names == {"level"}
    assert expression.text == "  level == 1\n"
