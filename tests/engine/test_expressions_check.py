"""The static checker run when metadata is validated."""

from __future__ import annotations

import pytest

from engine.expressions import Function, check, default_functions

FIELDS = {"level", "name", "amount", "last_followup_at", "status"}
FUNCTIONS = default_functions()


def test_a_good_expression_has_no_problems():
    assert check('level == "vip" and days_since(last_followup_at) > 15', FIELDS, FUNCTIONS) == []


def test_unknown_fields_are_named_with_a_suggestion():
    assert check('levle == "vip"', FIELDS, FUNCTIONS) == ["unknown field 'levle': did you mean 'level'?"]
    assert check("zzz > 1", FIELDS, FUNCTIONS) == ["unknown field 'zzz'"]


def test_unknown_functions_are_named_with_a_suggestion():
    assert check("days_snce(last_followup_at) > 1", FIELDS, FUNCTIONS) == [
        "unknown function days_snce(): did you mean days_since()?"
    ]


def test_argument_counts_are_checked():
    assert check("days_since(last_followup_at, 1)", FIELDS, FUNCTIONS) == [
        "days_since() takes 1 argument, 2 given"
    ]
    assert check("today(1)", FIELDS, FUNCTIONS) == ["today() takes 0 arguments, 1 given"]
    assert check("coalesce()", FIELDS, FUNCTIONS) == ["coalesce() takes at least 1 argument, 0 given"]
    assert check("round(amount, 1, 2)", FIELDS, FUNCTIONS) == ["round() takes 1 to 2 arguments, 3 given"]


def test_a_function_used_as_a_value_is_reported():
    assert check("lower == 1", FIELDS, FUNCTIONS) == ["lower is a function: call it as lower(...)"]


def test_field_name_arguments_must_be_quoted_known_fields():
    assert check('changed("status")', FIELDS, FUNCTIONS) == []
    assert check("changed(status)", FIELDS, FUNCTIONS) == [
        'changed() needs a field name in quotes, such as changed("status")'
    ]
    assert check('old("stauts") == 1', FIELDS, FUNCTIONS) == [
        "old(): unknown field 'stauts': did you mean 'status'?"
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name.upper()", "attribute access is not allowed"),
        ("level ==", "syntax error"),
        ("x" * 2001, "longer than 2000 characters"),
    ],
)
def test_syntax_and_safety_problems_are_reported_not_raised(text, fragment):
    problems = check(text, FIELDS, FUNCTIONS)
    assert len(problems) == 1
    assert fragment in problems[0]


def test_every_problem_is_reported_at_once():
    problems = check("nope(levle) + days_since()", FIELDS, FUNCTIONS)
    assert sorted(problems) == sorted(
        [
            "unknown field 'levle': did you mean 'level'?",
            "unknown function nope()",
            "days_since() takes 1 argument, 0 given",
        ]
    )


def test_the_given_registry_is_used():
    functions = default_functions()
    functions.register(Function("score_of", lambda ctx, x: 1, 1, 1))
    assert check("score_of(name) > 1", FIELDS, functions) == []
    assert check("score_of(name) > 1", FIELDS, FUNCTIONS) == ["unknown function score_of()"]
