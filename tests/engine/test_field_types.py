"""How each built-in field type reads what people type, send and import, and what it refuses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from engine.fieldtypes import Source
from tests.engine.field_values import LEVELS, TYPES, accept, as_json, refusal

# -- empty input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", [name for name in TYPES.names() if name not in ("formula", "rollup")])
@pytest.mark.parametrize("source", ["json", "form", "csv"])
@pytest.mark.parametrize("blank", [None, ""])
def test_blank_input_means_no_value_for_every_type(type_name: str, source: Source, blank: Any) -> None:
    params = {"select": LEVELS, "multi_select": LEVELS, "lookup": {"target": "customer"}}.get(type_name, {})
    params = {**params, **({"pattern": "X-{0000}"} if type_name == "autonumber" else {})}
    assert accept(type_name, blank, source, **params) is None


def test_blank_list_means_no_value() -> None:
    assert accept("tags", [" ", ""]) is None
    assert accept("multi_select", [], **LEVELS) is None


# -- text -------------------------------------------------------------------------------------------


def test_text_from_a_form_is_trimmed_but_json_text_is_kept_as_sent() -> None:
    assert accept("text", "  Acme Ltd \n", "form") == "Acme Ltd"
    assert accept("text", "  Acme Ltd ", "csv") == "Acme Ltd"
    assert accept("text", "  Acme Ltd ", "json") == "  Acme Ltd "


def test_text_longer_than_max_length_is_refused_with_both_lengths() -> None:
    assert refusal("text", "x" * 245, max_length=200) == "must be at most 200 characters (got 245)"
    assert accept("text", "x" * 200, max_length=200) == "x" * 200


def test_text_must_match_its_pattern_in_full() -> None:
    assert accept("text", "AB-123", pattern=r"[A-Z]{2}-\d+") == "AB-123"
    message = refusal("text", "AB-123x", pattern=r"[A-Z]{2}-\d+")
    assert message == r"must match the pattern [A-Z]{2}-\d+ (got 'AB-123x')"


def test_spreadsheet_numbers_in_a_text_field_read_as_typed() -> None:
    assert accept("text", 13800138000.0, "csv") == "13800138000"
    assert accept("text", 42, "csv") == "42"
    assert "must be text" in refusal("text", ["a"])


def test_long_text_stores_browser_line_breaks_as_newlines() -> None:
    assert accept("long_text", "line one\r\nline two\r\n", "form") == "line one\nline two"


def test_email_domain_is_lower_cased_and_local_part_kept() -> None:
    assert accept("email", " John.Smith@Example.COM ", "form") == "John.Smith@example.com"
    assert accept("email", "mailto:li@corp.cn", "csv") == "li@corp.cn"
    assert accept("email", "ｌｉ＠ｃｏｒｐ．ｃｎ", "form") == "li@corp.cn"


@pytest.mark.parametrize(
    "text", ["john", "john@", "@example.com", "john@example", "a b@example.com", "a@@b.com"]
)
def test_email_that_is_not_an_address_is_refused(text: str) -> None:
    assert refusal("email", text).startswith("must be an e-mail address like name@example.com")


def test_phone_keeps_separators_and_reads_full_width_digits() -> None:
    assert accept("phone", "+86 (21) 6123-4567", "form") == "+86 (21) 6123-4567"
    assert accept("phone", "１３８００１３８０００", "form") == "13800138000"
    assert accept("phone", 13800138000, "csv") == "13800138000"


def test_phone_needs_five_to_twenty_digits_and_no_letters() -> None:
    assert refusal("phone", "1234") == "must have 5 to 20 digits (got 4 in '1234')"
    assert "5 to 20 digits" in refusal("phone", "1" * 21)
    assert refusal("phone", "call 12345").startswith("must be a phone number")


def test_url_from_a_form_or_import_gets_https_added() -> None:
    assert accept("url", "example.com/about", "form") == "https://example.com/about"
    assert accept("url", "intranet:8080/x", "csv") == "https://intranet:8080/x"
    assert accept("url", "HTTP://Example.com", "json") == "http://Example.com"


def test_url_from_json_must_say_http_or_https() -> None:
    assert "must be an http(s) address" in refusal("url", "example.com")


@pytest.mark.parametrize(
    "text", ["javascript:alert(1)", "ftp://example.com", "mailto:a@b.cn", "https://", "http://a b"]
)
def test_url_refuses_other_schemes_and_missing_hosts(text: str) -> None:
    assert "must be an http(s) address" in refusal("url", text, "form")


# -- numbers ----------------------------------------------------------------------------------------


def test_integer_accepts_separators_full_width_and_spreadsheet_floats() -> None:
    assert accept("integer", "1,234", "form") == 1234
    assert accept("integer", "１２３", "form") == 123
    assert accept("integer", 12.0, "csv") == 12
    assert accept("integer", "12.0", "csv") == 12
    assert accept("integer", Decimal("7"), "json") == 7


def test_integer_refuses_fractions() -> None:
    assert refusal("integer", 12.5) == "must be a whole number (got 12.5)"
    assert refusal("integer", "12.5", "form") == "must be a whole number (got '12.5')"


def test_integer_refuses_booleans_and_words() -> None:
    assert refusal("integer", True) == "must be a whole number (got true)"
    assert refusal("integer", "twelve", "form") == "must be a whole number (got 'twelve')"


def test_integer_outside_min_and_max_is_refused_naming_the_bound() -> None:
    assert refusal("integer", -5, min=0) == "must be ≥ 0 (got -5)"
    assert refusal("integer", 101, min=0, max=100) == "must be ≤ 100 (got 101)"
    assert accept("integer", 100, min=0, max=100) == 100


def test_integer_too_big_for_the_column_is_refused() -> None:
    assert "too large" in refusal("integer", 2**63)
    assert "too large" in refusal("integer", "1e30", "csv")


def test_currency_accepts_yuan_sign_and_thousands_separators() -> None:
    assert accept("currency", "¥1,234.50", "form") == Decimal("1234.50")
    assert accept("currency", "￥1,234.5", "csv") == Decimal("1234.50")
    assert accept("currency", "1,234.50元", "csv") == Decimal("1234.50")
    assert accept("currency", "RMB 1,234.50", "csv") == Decimal("1234.50")
    assert accept("currency", "$1,234.50", "csv", currency="USD") == Decimal("1234.50")


def test_currency_refuses_an_amount_marked_in_another_currency() -> None:
    assert refusal("currency", "$1,234.50", "form") == "must be an amount in CNY (got '$1,234.50')"
    assert "must be an amount in USD" in refusal("currency", "EUR 10", currency="USD")


def test_plain_decimal_takes_any_currency_sign() -> None:
    assert accept("decimal", "$1,234.50", "form", scale=2) == Decimal("1234.50")
    assert accept("decimal", "-¥12", "form", scale=2) == Decimal("-12.00")


def test_chinese_wan_and_yi_multiply_the_amount() -> None:
    assert accept("currency", "5万", "csv") == Decimal("50000.00")
    assert accept("currency", "1.2亿", "csv") == Decimal("120000000.00")


def test_decimal_reads_full_width_digits() -> None:
    assert accept("decimal", "１２３．４５", "form", scale=2) == Decimal("123.45")


def test_decimal_from_a_float_is_exact_not_binary() -> None:
    assert accept("decimal", 0.1, "json") == Decimal("0.100000")
    assert accept("currency", 1234.5, "csv") == Decimal("1234.50")


def test_decimal_is_rounded_half_up_to_its_scale() -> None:
    assert accept("currency", "2.345") == Decimal("2.35")
    assert accept("currency", "2.344") == Decimal("2.34")
    assert accept("decimal", "2.5", scale=0) == Decimal("3")
    assert accept("currency", "-0.001") == Decimal("0.00")


def test_decimal_refuses_more_whole_digits_than_precision_allows() -> None:
    assert (
        refusal("decimal", "1234", precision=5, scale=2)
        == "must have at most 3 digits before the point (got '1234')"
    )
    assert "at most 3 digits" in refusal("decimal", "999.996", precision=5, scale=2)
    assert "at most 12 digits" in refusal("decimal", "1e9999")
    assert accept("decimal", "999.99", precision=5, scale=2) == Decimal("999.99")


def test_decimal_refuses_text_booleans_and_infinity() -> None:
    assert refusal("decimal", "abc", "form") == "must be a number (got 'abc')"
    assert refusal("decimal", True) == "must be a number (got true)"
    assert "must be a number" in refusal("decimal", float("inf"))
    assert "must be a number" in refusal("decimal", "1,23", "form")  # a European decimal comma is not guessed


def test_decimal_range_uses_exact_bounds() -> None:
    assert accept("decimal", "0.1", min=0.1) == Decimal("0.100000")
    assert refusal("currency", "-5", min=0) == "must be ≥ 0 (got -5.00)"


def test_decimals_travel_in_json_as_exact_strings() -> None:
    assert as_json("currency", Decimal("1234.50")) == "1234.50"
    assert as_json("decimal", Decimal("1E+3")) == "1000"
    assert as_json("decimal", None) is None


def test_percent_accepts_the_percent_sign_or_a_plain_number() -> None:
    assert accept("percent", "12.5%", "form") == Decimal("12.50")
    assert accept("percent", "12.5％", "csv") == Decimal("12.50")
    assert accept("percent", 12.5, "json") == Decimal("12.50")


def test_percent_sign_is_refused_outside_percent_fields() -> None:
    assert refusal("decimal", "12%", "form") == "must be a number (got '12%')"
    assert "must be a whole number" in refusal("integer", "12%", "form")
    assert "must be a percentage" in refusal("percent", "¥12", "form")


# -- boolean ----------------------------------------------------------------------------------------


def test_boolean_accepts_chinese_yes_no() -> None:
    assert accept("boolean", "是", "csv") is True
    assert accept("boolean", "否", "csv") is False
    assert accept("boolean", "真", "form") is True
    assert accept("boolean", "假", "form") is False


@pytest.mark.parametrize("text", ["true", "TRUE", "Yes", "y", "1", "on", "✓", " yes "])
def test_boolean_accepts_common_ways_of_saying_yes(text: str) -> None:
    assert accept("boolean", text, "form") is True


@pytest.mark.parametrize("text", ["false", "No", "N", "0", "off", "✗"])
def test_boolean_accepts_common_ways_of_saying_no(text: str) -> None:
    assert accept("boolean", text, "csv") is False


def test_boolean_takes_spreadsheet_ones_and_zeros_but_refuses_guesses() -> None:
    assert accept("boolean", 1, "csv") is True
    assert accept("boolean", 0.0, "csv") is False
    assert refusal("boolean", "maybe", "form") == "must be yes or no (got 'maybe')"
    assert refusal("boolean", 2) == "must be yes or no (got 2)"


# -- dates and times --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-26",
        "2026/11/26",
        "2026.11.26",
        "2026年11月26日",
        "2026-11-26T09:00:00Z",
        "20261126",
        "２０２６-１１-２６",
    ],
)
def test_date_accepts_the_ways_people_write_it(text: str) -> None:
    assert accept("date", text, "form") == date(2026, 11, 26)


def test_date_accepts_date_and_datetime_objects_from_spreadsheets() -> None:
    assert accept("date", datetime(2026, 11, 26, 0, 0), "csv") == date(2026, 11, 26)
    assert accept("date", date(2026, 11, 26), "csv") == date(2026, 11, 26)
    assert accept("date", 46352, "csv") == date(2026, 11, 26)  # an unformatted spreadsheet date cell


def test_spreadsheet_day_numbers_read_as_excel_shows_them_even_before_its_phantom_leap_day() -> None:
    # Excel's day 1 is 1900-01-01 and it counts a 29 February 1900 that never was (day 60).
    assert accept("date", 1, "csv") == date(1900, 1, 1)
    assert accept("date", 59, "csv") == date(1900, 2, 28)
    assert accept("date", 61, "csv") == date(1900, 3, 1)
    # A fraction of a day is a time, rounded to the second through the float's noise.
    assert accept("datetime", 46352.5, "csv") == datetime(2026, 11, 26, 12, 0)
    assert accept("datetime", 46352 + 1 / 3 - 1e-9, "csv") == datetime(2026, 11, 26, 8, 0)


@pytest.mark.parametrize("text", ["26/11/2026", "11/26/2026", "2026-02-30", "tomorrow"])
def test_date_refuses_ambiguous_and_impossible_dates(text: str) -> None:
    assert refusal("date", text, "form") == f"must be a date like 2026-11-26 (got {text!r})"


def test_date_travels_in_json_as_iso() -> None:
    assert as_json("date", date(2026, 11, 26)) == "2026-11-26"


def test_datetime_with_an_offset_is_stored_as_naive_utc() -> None:
    assert accept("datetime", "2026-11-26T14:30:00+08:00") == datetime(2026, 11, 26, 6, 30)
    assert accept("datetime", "2026-11-26T06:30:00Z") == datetime(2026, 11, 26, 6, 30)
    shanghai = timezone(timedelta(hours=8))
    assert accept("datetime", datetime(2026, 11, 26, 14, 30, tzinfo=shanghai), "csv") == datetime(
        2026, 11, 26, 6, 30
    )


def test_datetime_without_an_offset_is_taken_as_utc() -> None:
    assert accept("datetime", "2026-11-26 14:30", "form") == datetime(2026, 11, 26, 14, 30)
    assert accept("datetime", "2026年11月26日 14时30分", "csv") == datetime(2026, 11, 26, 14, 30)
    assert accept("datetime", "2026/11/26 14:30:15", "csv") == datetime(2026, 11, 26, 14, 30, 15)


def test_date_only_datetime_means_midnight() -> None:
    assert accept("datetime", "2026-11-26", "form") == datetime(2026, 11, 26)
    assert accept("datetime", date(2026, 11, 26), "csv") == datetime(2026, 11, 26)


def test_datetime_is_kept_to_the_second() -> None:
    assert accept("datetime", "2026-11-26T14:30:15.987Z") == datetime(2026, 11, 26, 14, 30, 15)
    assert accept("datetime", 46352.604166666664, "csv") == datetime(2026, 11, 26, 14, 30)


def test_datetime_refuses_impossible_times() -> None:
    assert "must be a date and time" in refusal("datetime", "2026-11-26 25:00", "form")
    assert "must be a date and time" in refusal("datetime", 46352, "json")


def test_datetime_travels_in_json_as_utc_with_z() -> None:
    assert as_json("datetime", datetime(2026, 11, 26, 6, 30)) == "2026-11-26T06:30:00Z"
    assert (
        as_json("datetime", accept("datetime", datetime(2026, 11, 26, 6, 30, tzinfo=UTC)))
        == "2026-11-26T06:30:00Z"
    )
