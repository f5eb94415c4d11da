"""The OpenAPI paths of an object's files: uploading to its attachment fields, downloading a record's file."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from engine.files.stores import KEY_PATTERN
from engine.identity.permissions import ObjectAccess
from engine.schema.registry import ObjectModel
from runtime.web.api.openapi_records import FILE, ID

PREFIX = "/api/v1"
ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
BINARY = {"type": "string", "contentMediaType": "application/octet-stream"}


def file_paths(spec: APISpec, model: ObjectModel, access: ObjectAccess) -> None:
    """Paths for an object with attachment fields the caller can see; nothing for the others."""
    seen = [f.name for f in model.spec.fields if f.type == "attachment" and access.visible(f.name)]
    if not seen:
        return
    settable = [n for n in seen if n not in access.read_only and not model.field(n).readonly]
    base = f"{PREFIX}/records/{model.name}"
    if settable and (access.allows("create") or access.allows("update")):
        spec.path(
            path=f"{base}/files/{{field}}",
            operations={
                "post": {
                    "summary": f"Upload a file to an attachment field of {model.name}; "
                    "set the returned reference on that field when creating or changing a record.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {"file": BINARY},
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Kept; the file reference.",
                            "content": {"application/json": {"schema": FILE}},
                        },
                        **_errors(400, 401, 403, 404, 422),
                    },
                }
            },
            parameters=[_path("field", {"enum": settable})],
        )
    spec.path(
        path=f"{base}/{{record_id}}/files/{{field}}/{{key}}",
        operations={
            "get": {
                "summary": "Download a file of the record: images inline, anything else as an attachment.",
                "responses": {
                    "200": {
                        "description": "The file.",
                        "content": {
                            "application/octet-stream": {"schema": BINARY},
                            "*/*": {"schema": BINARY},
                        },
                    },
                    **_errors(401, 404),
                },
            }
        },
        parameters=[
            _path("record_id", ID),
            _path("field", {"enum": seen}),
            _path("key", {"type": "string", "pattern": KEY_PATTERN.pattern}),
        ],
    )


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _errors(*codes: int) -> dict[str, Any]:
    from runtime.web.api.openapi import ERRORS  # the one list of what each status means

    return {str(code): {"description": ERRORS[code], **ERROR} for code in codes}
