"""JSON Schemas of records as the API reads and writes them, built from an object's live metadata.

Read shapes are exactly what runtime/web/api/record_json.py sends: decimals, currency and percent as
strings (format "decimal"), dates and datetimes as ISO strings, lookups and users as ids,
select as one of the option values, multi_select as a list of them. Every field may be null.
Fields hidden from the reader are left out; read-only and computed ones are not writable.
"""

from __future__ import annotations

from typing import Any

from engine.fieldtypes.numbers import DecimalType
from engine.fieldtypes.text import LongTextType, TextType
from engine.identity.permissions import ObjectAccess
from engine.schema.registry import ObjectModel
from metadata.specs import FieldSpec

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
DECIMAL = {"type": "string", "format": "decimal", "pattern": DECIMAL_PATTERN}
DATE = {"type": "string", "format": "date"}
MOMENT = {"type": "string", "format": "date-time"}
# Ids and versions are 64-bit, as the databases store them.
ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
VERSION = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}  # a record's version, as the API reads it
# More than blanks, as the engine's `str.strip` judges: Python's whitespace, which counts the
# separators \x1c-\x1f that a pattern's \s does not.
_BLANKS = "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x3001)) if c.isspace())
NOT_BLANK = f"[^{_BLANKS}]"
FILE = {
    "type": "object",
    "required": ["name", "key", "size"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "pattern": NOT_BLANK},
        "key": {"type": "string", "minLength": 1, "pattern": NOT_BLANK},
        "size": {"type": "integer", "minimum": 0},
        "content_type": {"type": "string"},
    },
}
SYSTEM_FIELDS: dict[str, dict[str, Any]] = {
    "id": ID,
    "owner": ID,
    "created_at": MOMENT,
    "created_by": ID,
    "updated_at": MOMENT,
    "updated_by": ID,
    "version": VERSION,
    "deleted_at": MOMENT,
}
ALWAYS_PRESENT = ("id", "version")
NOT_WRITABLE = frozenset({"formula", "rollup", "autonumber"})
_BY_TYPE: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "long_text": {"type": "string"},
    "email": {"type": "string"},
    "phone": {"type": "string"},
    "url": {"type": "string"},
    "autonumber": {"type": "string"},
    "integer": {"type": "integer"},
    "decimal": DECIMAL,
    "currency": DECIMAL,
    "percent": DECIMAL,
    "boolean": {"type": "boolean"},
    "date": DATE,
    "datetime": MOMENT,
    "lookup": ID,
    "user": ID,
    "tags": {"type": "array", "items": {"type": "string"}},
    "attachment": {"type": "array", "items": FILE},
}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema, or null (OpenAPI 3.1 writes this as a type list)."""
    if "enum" in schema:
        schema = {**schema, "enum": [*schema["enum"], None]}
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def value_schema(spec: FieldSpec) -> dict[str, Any]:
    """A field's value as the API sends it (not yet nullable)."""
    if spec.type in ("select", "multi_select"):
        options = {"type": "string", "enum": [option["value"] for option in spec.param("options", ())]}
        return options if spec.type == "select" else {"type": "array", "items": options}
    if spec.type == "formula":
        return value_schema(FieldSpec(spec.name, spec.param("result", "text")))
    if spec.type == "rollup":
        # count is a whole number; sums, averages, minimums and maximums follow what they add up.
        return {"type": ["integer", "string"]}
    described = dict(_BY_TYPE.get(spec.type, {}))
    if spec.type == "text" and spec.param("max_length"):
        described["maxLength"] = spec.param("max_length")
    return described


# What the engine refuses beyond a value's JSON type (its limits, patterns and required), so that
# a request the document calls valid is accepted and one it calls invalid is refused.
SHORT_TEXT = 255
# The engine's phone rule: digits, a leading +, dashes, spaces and parentheses, with 5 to 20 digits.
PHONE_PATTERN = r"^\+?[()\- ]*(?:[0-9][()\- ]*){5,20}$"
PHONE_FORMAT_WORDS = {
    "cn": "A mainland mobile (11 digits from 13 to 19), a landline with its area code (010-62123456), "
    "a 400/800 number, or an international number starting with +.",
    "cn_mobile": "A mainland mobile number: 11 digits from 13 to 19, +86 allowed.",
    "cn_landline": "A mainland landline with its area code, like 010-62123456, or a 400/800 number.",
    "e164": "An international number: +, the country code and the number, like +8613800138000.",
}
EMAIL_PATTERN = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}$"
)
URL_PATTERN = (
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::[0-9]{1,5})?(?:/[!-~]*)?$"
)
INT64 = 2**63 - 1
# Integers beyond 18 digits are refused as too large, whatever their sign.
INTEGER_LIMIT = 10**19 - 1


def _text_limits(spec: FieldSpec) -> dict[str, Any]:
    if spec.type == "text":
        limits: dict[str, Any] = {"maxLength": spec.param("max_length", TextType.default_max_length)}
        if spec.param("pattern"):
            limits["pattern"] = f"^(?:{spec.param('pattern')})$"
        return limits
    if spec.type == "long_text":
        return {"maxLength": spec.param("max_length", LongTextType.default_max_length)}
    if spec.type == "phone":
        limits = {"maxLength": SHORT_TEXT, "pattern": PHONE_PATTERN}
        kind = spec.param("format", "any")
        if kind != "any":
            # Which numbers a format takes (a +86 prefix, area codes, extensions) is more than a
            # pattern says clearly: named here, and a number it refuses is a 422 naming the format.
            limits |= {"format": f"phone-{kind.replace('_', '-')}", "description": PHONE_FORMAT_WORDS[kind]}
        return limits
    if spec.type == "email":
        return {"maxLength": SHORT_TEXT, "pattern": EMAIL_PATTERN}
    if spec.type == "url":
        return {"maxLength": SHORT_TEXT, "pattern": URL_PATTERN}
    return {}


def _number_limits(spec: FieldSpec) -> dict[str, Any]:
    low, high = spec.param("min"), spec.param("max")
    if spec.type == "integer":
        bound = min(INT64, INTEGER_LIMIT)
        return {"minimum": -bound if low is None else low, "maximum": bound if high is None else high}
    if spec.type not in ("decimal", "currency", "percent"):
        return {}
    scale = spec.param("scale", DecimalType.default_scale)
    whole = spec.param("precision", DecimalType.default_precision) - scale
    # The largest number that still fits once rounded to `scale` places.
    largest = float(10**whole) - 10.0**-scale
    return {
        "minimum": -largest if low is None else max(low, -largest),
        "maximum": largest if high is None else min(high, largest),
    }


def limited_write_schema(spec: FieldSpec) -> dict[str, Any]:
    """What the API accepts for a field, with the limits the engine holds values to."""
    schema = write_schema_of(spec)
    if spec.type in ("text", "long_text", "phone", "email", "url"):
        schema = {**schema, **_text_limits(spec)}
        if spec.required:
            schema["minLength"] = 1
    elif spec.type == "integer":
        schema = {**schema, **_number_limits(spec)}
    elif spec.type in ("decimal", "currency", "percent"):
        scale = spec.param("scale", DecimalType.default_scale)
        whole = spec.param("precision", DecimalType.default_precision) - scale
        low = spec.param("min")
        sign = "" if low is not None and low >= 0 else "-?"
        text = {**DECIMAL, "pattern": rf"^{sign}0*[0-9]{{1,{whole}}}(\.[0-9]+)?$"}
        schema = {"anyOf": [text, {"type": "number", **_number_limits(spec)}]}
    elif spec.type == "multi_select":
        # An empty string among the options is dropped, as a blank value is everywhere.
        items = {**schema["items"], "enum": [*schema["items"]["enum"], ""]}
        schema = {**schema, "items": items, **({"minItems": 1} if spec.required else {})}
    return schema


def write_schema_of(spec: FieldSpec) -> dict[str, Any]:
    """What the API accepts for a field: what it sends, and numbers for decimals."""
    if spec.type in ("decimal", "currency", "percent"):
        return {"anyOf": [DECIMAL, {"type": "number"}]}
    return value_schema(spec)


def _writable_property(spec: FieldSpec) -> dict[str, Any]:
    schema = limited_write_schema(spec)
    # A required field may not be cleared; on create it must be given unless it has a default.
    if spec.required:
        return schema
    free_text = not any(key in schema for key in ("pattern", "format", "enum"))
    if schema.get("type") == "string" and free_text:
        return nullable(schema)
    # The engine takes "" as blank for every type, as it does null.
    return {"anyOf": [nullable(schema), {"const": ""}]}


def read_schema(model: ObjectModel, access: ObjectAccess) -> dict[str, Any]:
    properties = {name: nullable(schema) for name, schema in SYSTEM_FIELDS.items()}
    properties["id"] = ID
    properties["version"] = SYSTEM_FIELDS["version"]
    properties["created_at"] = MOMENT
    properties["updated_at"] = MOMENT
    for spec in model.spec.fields:
        if access.visible(spec.name):
            properties[spec.name] = nullable(value_schema(spec))
    properties["_titles"] = {
        "type": "object",
        "description": "The display title of each lookup's record, by lookup field.",
        "additionalProperties": {"type": "string"},
    }
    return {
        "type": "object",
        "properties": properties,
        "required": list(ALWAYS_PRESENT),
        "additionalProperties": False,
    }


def writable(model: ObjectModel, access: ObjectAccess) -> list[FieldSpec]:
    return [
        spec
        for spec in model.spec.fields
        if spec.type not in NOT_WRITABLE
        and not spec.readonly
        and access.visible(spec.name)
        and spec.name not in access.read_only
    ]


def create_schema(model: ObjectModel, access: ObjectAccess) -> dict[str, Any]:
    fields = writable(model, access)
    properties = {spec.name: _writable_property(spec) for spec in fields}
    properties["owner"] = nullable(ID)
    required = [spec.name for spec in fields if spec.required and spec.default is None]
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def patch_schema(model: ObjectModel, access: ObjectAccess) -> dict[str, Any]:
    properties = {spec.name: _writable_property(spec) for spec in writable(model, access)}
    properties["owner"] = nullable(ID)
    properties["version"] = {**SYSTEM_FIELDS["version"], "description": "The version the change was made to."}
    return {
        "type": "object",
        "properties": properties,
        "required": ["version"],
        "additionalProperties": False,
    }
