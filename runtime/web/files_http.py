"""Files over HTTP, for the pages and the API alike: a download response with safe headers, and an
upload refusal said in the page's language."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from flask import Response, abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.base.errors import LoomError
from engine.files import FileRefused
from engine.files.service import NOT_YOURS
from engine.files.sniffing import INLINE_IMAGES
from runtime.web.auth import current_actor, current_loom

# The engine's message for a file someone else uploaded, so a Chinese form shows it in Chinese.
ENGINE_MESSAGES = (_l(NOT_YOURS),)


def file_response(object_name: str, record_id: int, field: str, key: str) -> Response:
    """The file, when the actor may read the record and see the field; 404 otherwise, whatever the reason."""
    try:
        found, chunks = current_loom().files.open(current_actor(), object_name, record_id, field, key)
    except LoomError:
        abort(404)
    inline = found.content_type in INLINE_IMAGES
    response = Response(_stream(chunks), mimetype=found.content_type if inline else _download_type(found))
    disposition = "inline" if inline else "attachment"
    ascii_name = found.name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(found.name)}"
    )
    response.headers["Content-Length"] = str(found.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Even opened on its own, a file can run nothing and load nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _download_type(found) -> str:  # type: ignore[no-untyped-def]
    # Only types that no browser renders as a page are sent as they are.
    return found.content_type if found.content_type == "application/pdf" else "application/octet-stream"


def _stream(chunks: Iterator[bytes]) -> Iterator[bytes]:
    yield from chunks


def refusal_text(error: FileRefused) -> str:
    """Why an upload was refused, in the page's language."""
    limits = error.limits
    name = limits.get("name", "")
    if error.reason == "too_large":
        return _("%(name)s is larger than %(limit)s MB", name=name, limit=f"{limits['limit']:g}")
    if error.reason == "empty":
        return _("%(name)s is empty", name=name)
    if error.reason == "not_image":
        return _("%(name)s is named as an image but is not one", name=name)
    if error.reason == "not_accepted":
        return _(
            "%(name)s is not an accepted kind of file (accepted: %(accept)s)",
            name=name,
            accept=limits["accept"],
        )
    return _("This field does not take files")
