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
            if value is None:
                return None
            text = _cell_text(value)
            if text is None:
                raise FieldValueError(Message("not_text", got=shown(value)))
            return text
        if source != "json":
            # Forms and spreadsheets pad values by accident; an API client means what it sends.
            value = value.strip()
        return value or None

    def coercer(self, field: FieldSpec, source: Source) -> Callable[[Any], Any] | None:
        if type(self).coerce is not TextType.coerce or source == "json":
            return None
        coerce = self.coerce

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
            if value is None:
                return None
            text = _cell_text(value)
            if text is None:
                raise FieldValueError(Message("not_text", got=shown(value)))
            value = text
        value = half_width(value).strip()
        if not value:
            return None
        return self.parse(value, source)

    def parse(self, text: str, source: Source) -> str:
        """Turn trimmed, half-width, non-empty text into the stored value, or raise FieldValueError."""
        raise NotImplementedError

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


_PHONE = re.compile(r"\+?[0-9()\- ]+")
_SPACES = re.compile(r"\s+")


class PhoneType(_ShortTextType):
    """A phone number as people write it: digits, a leading +, dashes, spaces and parentheses."""

    name = "phone"

    def parse(self, text: str, source: Source) -> str:
        if "  " in text or "\t" in text or "\n" in text:
            text = _SPACES.sub(" ", text)
        if _PHONE.fullmatch(text) is None:
            raise FieldValueError(Message("not_phone", got=shown(text)))
        digits = sum(map(text.count, "0123456789"))  # the pattern allows ASCII digits only
        if not 5 <= digits <= 20:
            raise FieldValueError(Message("phone_digits", digits=digits, got=shown(text)))
        return text


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
