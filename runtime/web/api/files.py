"""Files over the API: upload one to an attachment field (multipart, part `file`) to get the file
reference to set on that field in a create or change, and download a record's file.

Uploading needs the right to create or change records of the object and to set the field; a
reference can be set only by the person who uploaded it. Downloading needs the right to read the
record and see the field: otherwise the file does not exist (404).
"""

from __future__ import annotations

from flask import Response, jsonify, request

from runtime.web.api.blueprint import blueprint
from runtime.web.auth import current_actor, current_loom
from runtime.web.errors import RequestInvalid
from runtime.web.files_http import file_response


@blueprint.post("/records/<name>/files/<field>")
def upload_file(name: str, field: str) -> tuple[Response, int]:
    loom, actor = current_loom(), current_actor()
    loom.registry.object(name)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise RequestInvalid(
            "send the file as multipart/form-data in a part named file, with its file name",
            {"file": ["required, as a file part with a file name"]},
        )
    stored = loom.files.upload(actor, name, field, upload.filename, upload.stream)
    return jsonify(stored), 201


@blueprint.get("/records/<name>/<id:record_id>/files/<field>/<key>")
def download_file(name: str, record_id: int, field: str, key: str) -> Response:
    return file_response(name, record_id, field, key)
