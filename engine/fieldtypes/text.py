"""Text-like field types: text, long_text, email, phone and url."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.types import TypeEngine

from engine.base.errors import FieldValueError
from engine.base.messages import Message
from engine.fieldtypes.base import FieldType, Source
from engine.fieldtypes.halfwidth import half_width
from engine.fieldtypes.messages import shown
from metadata.specs import FieldSpec, ObjectSpec

_SHORT_TEXT = 255


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    # Patterns come from metadata, so there are few of them; compile each once, not per value.
    return re.compile(pattern)


def _non_string_text(value: Any) -> str | None:
    """A value that is not a string, as text for a text field: None stays None; refused if no text."""
    if value is None:
        return None
    text = _cell_text(value)
    if text is None:
        raise FieldValueError(Message("not_text", got=shown(value)))
    return text


def _cell_text(value: Any) -> str | None:
    """Text of a non-string input: numbers and dates from JSON or spreadsheet cells; None if refused."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        # Spreadsheets hand over 13800138000 as 13800138000.0; the ".0" is not what the person typed.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return None


def _check_length(value: str, limit: int) -> None:
    if len(value) > limit:
        raise FieldValueError(Message("too_long", limit=limit, length=len(value)))


class TextType(FieldType):
    """A single line of text, up to `max_length` characters, optionally matching `pattern`."""

    name = "text"
    value_kind = "text"
    default_max_length = _SHORT_TEXT
    params_schema = {
        "type": "object",
        "properties": {
            "max_length": {"type": "integer", "minimum": 1, "maximum": 10000},
            "pattern": {"type": "string", "minLength": 1},
        },
        "additionalProperties": False,
    }

    def max_length(self, field: FieldSpec) -> int:
        return field.params.get("max_length", self.default_max_length)

    def column_type(self, field: FieldSpec) -> TypeEngine:
        return String(self.max_length(field))

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        if type(value) is not str:
            return _non_string_text(value)
        if source != "json":
            # Forms and spreadsheets pad values by accident; an API client means what it sends.
            value = value.strip()
        return value or None

    def coercer(self, field: FieldSpec, source: Source) -> Callable[[Any], Any] | None:
        if type(self).coerce is not TextType.coerce:
            return None
        coerce = self.coerce
        if source == "json":

            def as_sent(value: Any) -> Any:
                if type(value) is str:
                    return value or None
                return coerce(value, field, source)

            return as_sent

        def trimmed(value: Any) -> Any:
            if type(value) is str:
                return value.strip() or None
            return coerce(value, field, source)

        return trimmed

    def validator(self, field: FieldSpec) -> Callable[[Any], None] | None:
        if type(self).validate is not TextType.validate or field.params.get("pattern") is not None:
            return super().validator(field)
        limit = self.max_length(field)
        return lambda value: _check_length(value, limit)

    def validate(self, value: Any, field: FieldSpec) -> None:
        _check_length(value, self.max_length(field))
        pattern = field.params.get("pattern")
        if pattern is not None and _compiled(pattern).fullmatch(value) is None:
            raise FieldValueError(Message("not_matching", pattern=pattern, got=shown(value)))

    def check_spec(self, field: FieldSpec, obj: ObjectSpec, objects: dict[str, ObjectSpec]) -> list[str]:
        pattern = field.params.get("pattern")
        if pattern is None:
            return []
        try:
            _compiled(pattern)
        except re.error as error:
            return [f"pattern {pattern!r} is not a valid regular expression: {error}"]
        return []


class LongTextType(TextType):
    """Multi-line text (notes, descriptions); line breaks are stored as "\\n"."""

    name = "long_text"
    default_max_length = 100_000
    params_schema = {
        "type": "object",
        "properties": {"max_length": {"type": "integer", "minimum": 1, "maximum": 10_000_000}},
        "additionalProperties": False,
    }

    def column_type(self, field: FieldSpec) -> TypeEngine:
        return Text()

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        text = super().coerce(value, field, source)
        if text is not None and "\r" in text:
            # Browsers submit textareas with CRLF line breaks; store one convention.
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return text


class _ShortTextType(FieldType):
    """Shared shape of email, phone and url: a 255-character column, no parameters, trimmed input."""

    value_kind = "text"
    params_schema = {"type": "object", "properties": {}, "additionalProperties": False}

    def column_type(self, field: FieldSpec) -> TypeEngine:
        return String(_SHORT_TEXT)

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        if type(value) is not str:
            value = _non_string_text(value)
            if value is None:
                return None
        value = half_width(value).strip()
        if not value:
            return None
        return self.parse(value, source)

    def parse(self, text: str, source: Source) -> str:
        """Turn trimmed, half-width, non-empty text into the stored value, or raise FieldValueError."""
        raise NotImplementedError

    def coercer(self, field: FieldSpec, source: Source) -> Callable[[Any], Any] | None:
        if type(self).coerce is not _ShortTextType.coerce:
            return None
        coerce, parse = self.coerce, self.parse

        def short(value: Any) -> Any:
            if type(value) is str:
                text = value.strip() if value.isascii() else half_width(value).strip()
                return parse(text, source) if text else None
            return coerce(value, field, source)

        return short

    def validator(self, field: FieldSpec) -> Callable[[Any], None] | None:
        if type(self).validate is not _ShortTextType.validate:
            return super().validator(field)
        return lambda value: _check_length(value, _SHORT_TEXT)

    def validate(self, value: Any, field: FieldSpec) -> None:
        _check_length(value, _SHORT_TEXT)


# Not the full RFC 5322 grammar (quoted local parts, IP literals), which people never type into a CRM;
# the domain allows Unicode letters so internationalised domains are accepted.
_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_][\w-]{0,62})"
)


class EmailType(_ShortTextType):
    """An e-mail address; the domain is stored in lower case, the local part as typed."""

    name = "email"

    def parse(self, text: str, source: Source) -> str:
        if text[:7].lower() == "mailto:":
            text = text[7:]
        match = _EMAIL.fullmatch(text)
        if match is None:
            raise FieldValueError(Message("not_email", got=shown(text)))
        return f"{match['local']}@{match['domain'].lower()}"


_PHONE = re.compile(r"\(?\+?[0-9()\- ]+")  # (+86) 138… as well as +86 138…
_SPACES = re.compile(r"\s+")


PHONE_FORMATS = ("any", "cn", "cn_mobile", "cn_landline", "e164")
_CN_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# An area code (010, 021…, 0571…) and a 7 or 8 digit number; 400 and 800 numbers are national.
_CN_LANDLINE = re.compile(r"0[1-9][0-9]{1,2}[2-9][0-9]{6,7}")
_CN_SERVICE = re.compile(r"[48]00[0-9]{7}")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_NON_DIGIT = re.compile(r"[^0-9]")


def national_digits(text: str) -> tuple[str, bool]:
    """The digits of a number as dialled within mainland China, and whether it had another country code.

    +86 138 0013 8000 → 13800138000; +86 10 6212 3456 → 01062123456 (the trunk 0 comes back).
    """
    digits = _NON_DIGIT.sub("", text)
    plus = text.lstrip().lstrip("(").startswith("+")
    international = plus or digits.startswith("00")
    if digits.startswith("0086"):
        digits, international = digits[4:], False
    elif digits.startswith("86") and (plus or (len(digits) == 13 and _CN_MOBILE.fullmatch(digits[2:]))):
        digits, international = digits[2:], False
    else:
        return digits, international
    if digits and not _CN_MOBILE.fullmatch(digits) and not digits.startswith("0"):
        digits = "0" + digits
    return digits, international


class PhoneType(_ShortTextType):
    """A phone number as people write it: digits, a leading +, dashes, spaces and parentheses.

    `format` narrows what is accepted: cn (a mainland mobile or landline, a 400/800 number or an
    international +number), cn_mobile, cn_landline, e164; the default, any, takes 5 to 20 digits.
    """

    name = "phone"
    params_schema = {
        "type": "object",
        "properties": {"format": {"enum": list(PHONE_FORMATS)}},
        "additionalProperties": False,
    }

    def parse(self, text: str, source: Source) -> str:
        if "  " in text or "\t" in text or "\n" in text:
            text = _SPACES.sub(" ", text)
        if _PHONE.fullmatch(text) is None:
            raise FieldValueError(Message("not_phone", got=shown(text)))
        digits = sum(map(text.count, "0123456789"))  # the pattern allows ASCII digits only
        if not 5 <= digits <= 20:
            raise FieldValueError(Message("phone_digits", digits=digits, got=shown(text)))
        return text

    def validator(self, field: FieldSpec) -> Callable[[Any], None] | None:
        check = _FORMAT_CHECKS.get(field.params.get("format", "any"))
        if check is None:
            return super().validator(field)

        def validate(value: str) -> None:
            _check_length(value, _SHORT_TEXT)
            check(value)

        return validate

    def validate(self, value: Any, field: FieldSpec) -> None:
        _check_length(value, _SHORT_TEXT)
        check = _FORMAT_CHECKS.get(field.params.get("format", "any"))
        if check is not None:
            check(value)


def _cn_mobile(value: str) -> None:
    digits, international = national_digits(value)
    if international or not _CN_MOBILE.fullmatch(digits):
        raise FieldValueError(Message("not_cn_mobile", got=shown(value)))


# An extension after the number: 0571-8888 1234-801, 010 62123456 8001.
_EXTENSION = re.compile(r"[\s-]+[0-9]{1,6}$")


def _is_landline(value: str, digits: str) -> bool:
    if _CN_LANDLINE.fullmatch(digits) or _CN_SERVICE.fullmatch(digits):
        return True
    extension = _EXTENSION.search(value)
    if extension is None:
        return False
    number, _ = national_digits(value[: extension.start()])
    return bool(_CN_LANDLINE.fullmatch(number) or _CN_SERVICE.fullmatch(number))


def _cn_landline(value: str) -> None:
    digits, international = national_digits(value)
    if international or not _is_landline(value, digits):
        raise FieldValueError(Message("not_cn_landline", got=shown(value)))


def _cn_any(value: str) -> None:
    digits, international = national_digits(value)
    if international:
        if _E164.fullmatch("+" + digits.removeprefix("00")):
            return
    elif _CN_MOBILE.fullmatch(digits) or _is_landline(value, digits):
        return
    raise FieldValueError(Message("not_cn_phone", got=shown(value)))


def _e164(value: str) -> None:
    digits = _NON_DIGIT.sub("", value)
    if not value.lstrip().startswith("+") or not _E164.fullmatch("+" + digits):
        raise FieldValueError(Message("not_e164", got=shown(value)))


_FORMAT_CHECKS: dict[str, Callable[[str], None]] = {
    "cn": _cn_any,
    "cn_mobile": _cn_mobile,
    "cn_landline": _cn_landline,
    "e164": _e164,
}


# "mailto:" or "javascript:" name a scheme; "example.com:8080" is a host and port.
_ANY_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?://|(?!\d))")
_URL = re.compile(
    r"(?P<scheme>https?)://"
    r"(?:[^\s/@]+@)?"  # user info
    r"(?P<host>(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)*[^\W_](?:[\w-]{0,61}[^\W_])?|\[[0-9A-Fa-f:.]+\])"
    r"(?::\d{1,5})?"
    r"(?:[/?#]\S*)?",
    re.IGNORECASE,
)


class UrlType(_ShortTextType):
    """An http(s) address with a host; forms and imports may leave out "https://"."""

    name = "url"

    def parse(self, text: str, source: Source) -> str:
        if source != "json" and _ANY_SCHEME.match(text) is None:
            text = "https://" + text
        match = _URL.fullmatch(text)
        if match is None:
            raise FieldValueError(Message("not_url", got=shown(text)))
        scheme = match["scheme"]
        return text if scheme.islower() else scheme.lower() + text[len(scheme) :]
