"""The attachment field type: a list of uploaded files, each {"name", "key", "size", "content_type"}.

The file bytes live in file storage under `key`; the record holds only this description.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from engine.base.errors import FieldValueError
from engine.base.messages import Message
from engine.fieldtypes.base import Source
from engine.fieldtypes.lists import ListValuedType
from engine.fieldtypes.messages import shown
from metadata.specs import FieldSpec

_MB = 1024 * 1024
_UNKNOWN_CONTENT_TYPE = "application/octet-stream"


def _file(item: Any) -> dict[str, Any]:
    """One file description, with exactly the four keys the engine stores."""
    if not isinstance(item, Mapping):
        raise FieldValueError(Message("file_not_object", got=shown(item)))
    name, key, size = item.get("name"), item.get("key"), item.get("size")
    content_type = item.get("content_type") or _UNKNOWN_CONTENT_TYPE
    if not isinstance(name, str) or not name.strip():
        raise FieldValueError(Message("file_without_name", got=shown(name)))
    if not isinstance(key, str) or not key.strip():
        raise FieldValueError(Message("file_without_key", name=shown(name), got=shown(key)))
    if type(size) is float and size.is_integer():
        size = int(size)
    if type(size) is not int or size < 0:
        raise FieldValueError(Message("file_without_size", name=shown(name), got=shown(size)))
    if not isinstance(content_type, str):
        raise FieldValueError(Message("file_bad_content_type", name=shown(name), got=shown(content_type)))
    return {"name": name.strip(), "key": key, "size": size, "content_type": content_type.strip().lower()}


def _accepts(entry: str, file: Mapping[str, Any]) -> bool:
    entry = entry.lower()
    if entry.startswith("."):
        return file["name"].lower().endswith(entry)
    if entry.endswith("/*"):
        return file["content_type"].startswith(entry[:-1])
    return file["content_type"] == entry


class AttachmentType(ListValuedType):
    """Uploaded files; one unless `multiple`, optionally limited in size and kind."""

    name = "attachment"
    params_schema = {
        "type": "object",
        "properties": {
            "multiple": {"type": "boolean"},
            "max_size_mb": {"type": "number", "exclusiveMinimum": 0},
            "accept": {"type": "array", "items": {"type": "string", "minLength": 1}},
        },
        "additionalProperties": False,
    }

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = self._from_text(value, source)
            if value is None:
                return None
        if isinstance(value, Mapping):
            value = [value]
        if not isinstance(value, list | tuple):
            raise FieldValueError(Message("files_not_list", got=shown(value)))
        return [_file(item) for item in value] or None

    @staticmethod
    def _from_text(text: str, source: Source) -> Any:
        text = text.strip()
        if not text:
            return None
        # Upload widgets post the uploaded files' descriptions as JSON in a form field.
        if source != "json" and text[0] in "[{":
            try:
                return json.loads(text)
            except ValueError:
                pass
        raise FieldValueError(Message("files_not_text", got=shown(text)))

    def validate(self, value: Any, field: FieldSpec) -> None:
        params = field.params
        if len(value) > 1 and not params.get("multiple", False):
            raise FieldValueError(Message("one_file_only", count=len(value)))
        max_mb = params.get("max_size_mb")
        accept = params.get("accept")
        for file in value:
            if max_mb is not None and file["size"] > max_mb * _MB:
                size = f"{file['size'] / _MB:.1f}"
                raise FieldValueError(
                    Message("file_too_big", limit=max_mb, size=size, got=shown(file["name"]))
                )
            if accept and not any(_accepts(entry, file) for entry in accept):
                raise FieldValueError(
                    Message("file_type_refused", options=list(accept), got=shown(file["name"]))
                )
