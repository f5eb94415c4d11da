"""Numeric field types: integer, decimal, currency and percent, and the parsing of typed numbers."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Numeric
from sqlalchemy.types import TypeEngine

from engine.base.errors import FieldValueError
from engine.base.messages import Message
from engine.fieldtypes.base import FieldType, Source
from engine.fieldtypes.halfwidth import half_width, typed_number_text
from engine.fieldtypes.messages import shown
from metadata.specs import FieldSpec, ObjectSpec

_BIGINT_MAX = 2**63 - 1
_PLAIN_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
# Digits with an optional fraction, the way most cells and bodies hold a number: parse_number
# would read it as Decimal reads it, with no sign, mark or unit to look at.
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)
# A number as people type it: an optional sign and currency (symbol or ISO code) in either order,
# comma-grouped or plain digits, an optional exponent, 万/亿 multiplier, trailing currency and %.
_NUMBER_TEXT = re.compile(
    r"(?P<sign>[+-])?\s*(?P<prefix>[A-Za-z]{3}|[¥$€£₩₹])?\s*(?P<sign2>[+-])?\s*"
    r"(?P<digits>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?|[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?:[eE](?P<exponent>[+-]?[0-9]{1,4}))?"
    r"\s*(?P<unit>[万亿])?\s*(?P<suffix>[A-Za-z]{3}|元|円)?\s*(?P<percent>%)?",
    re.ASCII,
)
_UNIT_EXPONENT = {"万": 4, "亿": 8}
# Which currencies a typed mark may stand for: a symbol ("$" is shared by many) or an ISO code.
_MARKS = {
    "¥": frozenset({"CNY", "JPY"}), "元": frozenset({"CNY"}), "円": frozenset({"JPY"}),
    "RMB": frozenset({"CNY"}), "$": frozenset({"USD", "HKD", "TWD", "SGD", "AUD", "CAD", "NZD", "MXN"}),
    "€": frozenset({"EUR"}), "£": frozenset({"GBP"}), "₩": frozenset({"KRW"}), "₹": frozenset({"INR"}),
}  # fmt: skip
_MARKS.update((code, frozenset({code})) for code in (
    "CNY", "USD", "EUR", "GBP", "JPY", "HKD", "TWD", "SGD", "AUD", "CAD", "NZD", "KRW", "INR",
    "CHF", "MXN", "RUB", "THB", "MYR", "VND", "IDR", "PHP", "AED", "SAR", "BRL", "ZAR",
))  # fmt: skip
# Wide enough for any precision the schema allows, so quantize never fails for lack of digits.
_CONTEXT = Context(prec=100)
_QUANTUM = tuple(Decimal(1).scaleb(-scale) for scale in range(40))


class NumberText(NamedTuple):
    """A parsed typed number: its value, the currency it was marked with, and whether it had a "%"."""

    value: Decimal
    currencies: frozenset[str] | None
    percent: bool


def parse_number(text: str) -> NumberText | None:
    """Parse typed text such as "¥1,234.50", "１２３", "-12.5%", "5万"; None if it is not a number."""
    match = _NUMBER_TEXT.fullmatch(half_width(text).strip())
    if match is None or (match["sign"] and match["sign2"]):
        return None
    value = Decimal(match["digits"].replace(",", ""))
    if match["exponent"]:
        value = value.scaleb(int(match["exponent"]), _CONTEXT)
    if match["unit"]:
        value = value.scaleb(_UNIT_EXPONENT[match["unit"]], _CONTEXT)
    if (match["sign"] or match["sign2"]) == "-":
        value = -value
    currencies = None
    mark = match["prefix"] or match["suffix"]
    if mark is not None:
        currencies = _MARKS.get(mark.upper())
        if currencies is None or (match["prefix"] and match["suffix"]):
            return None
    return NumberText(value, currencies, match["percent"] is not None)


def _as_decimal(number: int | float | Decimal) -> Decimal:
    # Through str, never float arithmetic: 0.1 stays 0.1, not 0.1000000000000000055….
    return Decimal(repr(number)) if isinstance(number, float) else Decimal(number)


def _check_range(value: int | Decimal, field: FieldSpec) -> None:
    check = _range_check(field)
    if check is not None:
        check(value)


def _range_check(field: FieldSpec) -> Callable[[Any], None] | None:
    """The check of a value against the field's min and max, bounds converted once; None for neither."""
    low, high = field.params.get("min"), field.params.get("max")
    if low is None and high is None:
        return None
    lowest = None if low is None else _as_decimal(low)
    highest = None if high is None else _as_decimal(high)

    def check(value: Any) -> None:
        if lowest is not None and value < lowest:
            raise FieldValueError(Message("below_min", low=low, value=value))
        if highest is not None and value > highest:
            raise FieldValueError(Message("above_max", high=high, value=value))

    return check


def _range_problems(field: FieldSpec) -> list[str]:
    low, high = field.params.get("min"), field.params.get("max")
    if low is not None and high is not None and _as_decimal(low) > _as_decimal(high):
        return [f"min ({low}) must not be greater than max ({high})"]
    return []


class IntegerType(FieldType):
    """A whole number, stored in a 64-bit column."""

    name = "integer"
    value_kind = "number"
    params_schema = {
        "type": "object",
        "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
        "additionalProperties": False,
    }

    def column_type(self, field: FieldSpec) -> TypeEngine:
        return BigInteger()

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        kind = type(value)
        if kind is int:
            number = value
        elif kind is str:
            text = typed_number_text(value)
            if not text:
                return None
            if _PLAIN_INTEGER.fullmatch(text):
                number = int(text)
            else:
                parsed = parse_number(text)
                if parsed is None or parsed.currencies or parsed.percent:
                    raise FieldValueError(Message("not_whole_number", got=shown(value)))
                number = self._whole(parsed.value, value)
        elif value is None:
            return None
        elif kind is bool or not isinstance(value, int | float | Decimal):
            raise FieldValueError(Message("not_whole_number", got=shown(value)))
        elif isinstance(value, int):
            number = int(value)
        else:
            number = self._whole(_as_decimal(value), value)
        if not -_BIGINT_MAX <= number <= _BIGINT_MAX:
            raise FieldValueError(Message("too_large", got=shown(value)))
        return number

    @staticmethod
    def _whole(number: Decimal, raw: Any) -> int:
        if not number.is_finite() or number != number.to_integral_value():
            raise FieldValueError(Message("not_whole_number", got=shown(raw)))
        if number.adjusted() > 18:
            raise FieldValueError(Message("too_large", got=shown(raw)))
        return int(number)

    def validate(self, value: Any, field: FieldSpec) -> None:
        if field.params:
            _check_range(value, field)

    def validator(self, field: FieldSpec) -> Callable[[Any], None] | None:
        if type(self).validate is not IntegerType.validate:
            return super().validator(field)
        return _range_check(field)

    def to_json(self, value: Any, field: FieldSpec) -> Any:
        # Formula results may arrive as 3.0 or Decimal("3"); the API always sends integers as integers.
        return value if value is None or type(value) is int else int(value)

    def from_db(self, value: Any, field: FieldSpec) -> Any:
        return value if value is None or type(value) is int else int(value)

    def check_spec(self, field: FieldSpec, obj: ObjectSpec, objects: dict[str, ObjectSpec]) -> list[str]:
        return _range_problems(field)


class DecimalType(FieldType):
    """An exact decimal number with `precision` digits, `scale` of them after the point."""

    name = "decimal"
    value_kind = "number"
    default_precision = 18
    default_scale = 6
    accepts_percent_sign = False
    params_schema = {
        "type": "object",
        "properties": {
            "precision": {"type": "integer", "minimum": 1, "maximum": 38},
            "scale": {"type": "integer", "minimum": 0, "maximum": 30},
            "min": {"type": "number"},
            "max": {"type": "number"},
        },
        "additionalProperties": False,
    }

    def precision(self, field: FieldSpec) -> int:
        return field.params.get("precision", self.default_precision)

    def scale(self, field: FieldSpec) -> int:
        return field.params.get("scale", self.default_scale)

    def column_type(self, field: FieldSpec) -> TypeEngine:
        return Numeric(self.precision(field), self.scale(field), asdecimal=True)

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        kind = type(value)
        if kind is Decimal:
            number = value
        elif kind is str:
            if not value or value.isspace():
                return None
            number = self._parse_text(value, field)
        elif kind is int:
            number = Decimal(value)
        elif kind is float:
            number = Decimal(repr(value))
        elif value is None:
            return None
        elif kind is bool or not isinstance(value, int | float | Decimal):
            raise FieldValueError(Message("not_number", got=shown(value)))
        else:
            number = _as_decimal(value)
        if not number.is_finite():
            raise FieldValueError(Message("not_number", got=shown(value)))
        return self._fit(number, field, value)

    def _parse_text(self, text: str, field: FieldSpec) -> Decimal:
        parsed = parse_number(text)
        if parsed is None or (parsed.percent and not self.accepts_percent_sign):
            raise FieldValueError(Message("not_number", got=shown(text)))
        if parsed.currencies is not None:
            self.check_currency(parsed.currencies, field, text)
        return parsed.value

    def check_currency(self, currencies: frozenset[str], field: FieldSpec, text: str) -> None:
        """A plain decimal takes any currency mark; currency fields check it, percent fields refuse it."""

    def coercer(self, field: FieldSpec, source: Source) -> Callable[[Any], Any] | None:
        if type(self).coerce is not DecimalType.coerce or type(self)._fit is not DecimalType._fit:
            return None
        coerce, scale = self.coerce, self.scale(field)
        quantum, whole_digits = _QUANTUM[scale], self.precision(field) - scale

        def number(value: Any) -> Any:
            kind = type(value)
            if kind is str and _PLAIN_DECIMAL.fullmatch(value) is not None:
                return _fitted(Decimal(value), quantum, whole_digits, value)
            if kind is int:
                return _fitted(Decimal(value), quantum, whole_digits, value)
            return coerce(value, field, source)

        return number

    def _fit(self, number: Decimal, field: FieldSpec, raw: Any) -> Decimal:
        scale = self.scale(field)
        return _fitted(number, _QUANTUM[scale], self.precision(field) - scale, raw)

    def validate(self, value: Any, field: FieldSpec) -> None:
        if "min" in field.params or "max" in field.params:
            _check_range(value, field)

    def validator(self, field: FieldSpec) -> Callable[[Any], None] | None:
        if type(self).validate is not DecimalType.validate:
            return super().validator(field)
        return _range_check(field)

    def to_json(self, value: Any, field: FieldSpec) -> Any:
        # Decided: decimals travel as strings so no client rounds them through a float.
        if value is None:
            return None
        return format(value if type(value) is Decimal else _as_decimal(value), "f")

    def from_db(self, value: Any, field: FieldSpec) -> Any:
        if value is None or type(value) is Decimal:
            return value
        return _as_decimal(value).quantize(_QUANTUM[self.scale(field)], ROUND_HALF_UP, _CONTEXT)

    def check_spec(self, field: FieldSpec, obj: ObjectSpec, objects: dict[str, ObjectSpec]) -> list[str]:
        problems = _range_problems(field)
        scale, precision = self.scale(field), self.precision(field)
        if scale > precision:
            problems.append(f"scale ({scale}) must not be greater than precision ({precision})")
        return problems


def _fitted(number: Decimal, quantum: Decimal, whole_digits: int, raw: Any) -> Decimal:
    """`number` rounded to the field's scale; FieldValueError if its whole part has too many digits."""
    # Check the size before rounding so "1e999999" is refused rather than expanded.
    if number and number.adjusted() >= whole_digits:
        raise _too_many_digits(whole_digits, raw)
    fitted = number.quantize(quantum, ROUND_HALF_UP, _CONTEXT)
    if fitted and fitted.adjusted() >= whole_digits:  # 99.999 rounds up to 100.00
        raise _too_many_digits(whole_digits, raw)
    return fitted if fitted or not fitted.is_signed() else fitted.copy_abs()


def _too_many_digits(whole_digits: int, raw: Any) -> FieldValueError:
    return FieldValueError(Message("too_many_digits", digits=whole_digits, got=shown(raw)))


class CurrencyType(DecimalType):
    """An amount of money in the field's `currency`, two decimals unless `scale` says otherwise."""

    name = "currency"
    default_scale = 2
    params_schema = {
        "type": "object",
        "properties": {
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "scale": {"type": "integer", "minimum": 0, "maximum": 10},
            "min": {"type": "number"},
            "max": {"type": "number"},
        },
        "additionalProperties": False,
    }

    def check_currency(self, currencies: frozenset[str], field: FieldSpec, text: str) -> None:
        currency = field.params.get("currency", "CNY")
        if currency not in currencies:
            raise FieldValueError(Message("not_amount", currency=currency, got=shown(text)))


class PercentType(DecimalType):
    """A percentage: 12.5 means 12.5 %; input may carry the "%" sign."""

    name = "percent"
    default_scale = 2
    accepts_percent_sign = True
    params_schema = {
        "type": "object",
        "properties": {
            "scale": {"type": "integer", "minimum": 0, "maximum": 10},
            "min": {"type": "number"},
            "max": {"type": "number"},
        },
        "additionalProperties": False,
    }

    def check_currency(self, currencies: frozenset[str], field: FieldSpec, text: str) -> None:
        raise FieldValueError(Message("not_percentage", got=shown(text)))
