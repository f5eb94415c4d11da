"""Files on the pages: the attachment fields of a form upload what is chosen (multipart), and a
record's files are downloaded through the record, by readers of it only."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from flask_babel import gettext as _

from engine.base.errors import LoomError
from engine.files import FileRefused
from runtime.web.auth import current_actor, current_loom
from runtime.web.files_http import file_response, refusal_text
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.objects import ObjectPage


@blueprint.get("/app/<object_name>/<int:record_id>/files/<field>/<key>")
def record_file(object_name: str, record_id: int, field: str, key: str) -> Response:
    return file_response(object_name, record_id, field, key)


def take_uploads(page: ObjectPage, raw: dict[str, Any]) -> dict[str, list[str]]:
    """Each attachment field of the posted form: the files kept, plus those chosen now, uploaded.

    Sets the field's value in `raw`; returns a field error for each file refused. Files uploaded
    before a refusal stay in the form, so the person need not choose them again.
    """
    loom, actor = current_loom(), current_actor()
    errors: dict[str, list[str]] = {}
    for name, spec in page.model.fields.items():
        if spec.type != "attachment" or not page.editable(name) or f"{name}__present" not in request.form:
            continue
        files = [kept for text in request.form.getlist(f"{name}__kept") if (kept := _kept(text))]
        for upload in request.files.getlist(f"{name}__upload"):
            if not upload.filename:
                continue
            try:
                files.append(loom.files.upload(actor, page.name, name, upload.filename, upload.stream))
            except FileRefused as refused:
                errors.setdefault(name, []).append(refusal_text(refused))
            except LoomError as error:
                errors.setdefault(name, []).append(error.message)
        raw[name] = files
    return errors


def _kept(text: str) -> dict[str, Any] | None:
    """A file the form already held; the engine checks on saving that it may be set."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@blueprint.app_template_global()
def attachment_input(page: ObjectPage, name: str, value: Any) -> dict[str, Any]:
    """What the form's file input for a field needs: the files it holds, and the field's limits."""
    spec = page.model.field(name)
    files = [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
    accept = list(spec.param("accept") or ())
    limit = f"{current_loom().files.max_size_mb(spec):g}"
    hint = _("At most %(limit)s MB each", limit=limit)
    if accept:
        hint += _("; accepted: %(accept)s", accept="、".join(dict.fromkeys(_kind_name(a) for a in accept)))
    return {
        "files": files,
        "sizes": [file_size(item.get("size", 0)) for item in files],
        "multiple": bool(spec.param("multiple", False)),
        "accept": ",".join(accept),
        "hint": hint,
    }


def _kind_name(accepted: str) -> str:
    """An accepted type as people name it: image/* → 图片, image/jpeg → JPEG, .pdf → PDF."""
    accepted = accepted.strip().lower()
    if accepted.endswith("/*"):
        return {"image": _("images"), "video": _("videos"), "audio": _("audio")}.get(accepted[:-2], accepted)
    subtype = accepted.lstrip(".").rsplit("/", 1)[-1]
    return MIME_NAMES.get(subtype, subtype).upper()


# Subtypes whose name is not the file extension people know.
MIME_NAMES = {
    "vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "vnd.ms-excel": "xls",
    "vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "msword": "doc",
    "plain": "txt",
    "svg+xml": "svg",
}


def file_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"
