"""JSON Schemas of records as the API reads and writes them, built from an object's live metadata.

Read shapes are exactly what runtime/record_json.py sends: decimals, currency and percent as
strings (format "decimal"), dates and datetimes as ISO strings, lookups and users as ids,
select as one of the option values, multi_select as a list of them. Every field may be null.
Fields hidden from the reader are left out; read-only and computed ones are not writable.
"""

from __future__ import annotations

from typing import Any

from engine.permissions import ObjectAccess
from engine.registry import ObjectModel
from metadata.specs import FieldSpec

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
DECIMAL = {"type": "string", "format": "decimal", "pattern": DECIMAL_PATTERN}
DATE = {"type": "string", "format": "date"}
MOMENT = {"type": "string", "format": "date-time"}
ID = {"type": "integer", "minimum": 1}
FILE = {
    "type": "object",
    "required": ["name", "key", "size"],
    "properties": {
        "name": {"type": "string"},
        "key": {"type": "string"},
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
    "version": {"type": "integer", "minimum": 1},
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


def write_schema_of(spec: FieldSpec) -> dict[str, Any]:
    """What the API accepts for a field: what it sends, and numbers for decimals."""
    if spec.type in ("decimal", "currency", "percent"):
        return {"anyOf": [DECIMAL, {"type": "number"}]}
    return value_schema(spec)


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
    properties = {spec.name: nullable(write_schema_of(spec)) for spec in fields}
    properties["owner"] = ID
    required = [spec.name for spec in fields if spec.required and spec.default is None]
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def patch_schema(model: ObjectModel, access: ObjectAccess) -> dict[str, Any]:
    properties = {spec.name: nullable(write_schema_of(spec)) for spec in writable(model, access)}
    properties["owner"] = ID
    properties["version"] = {"type": "integer", "description": "The version the change was made to."}
    return {
        "type": "object",
        "properties": properties,
        "required": ["version"],
        "additionalProperties": False,
    }
