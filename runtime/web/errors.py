"""Engine errors and HTTP errors as responses: the one place a LoomError code becomes a status.

Under /api/ every error is JSON, `{"error": {"code": …, "message": …, "fields"?: {…}}}`; pages
get an HTML page (or, for "unauthenticated", the sign-in page).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from engine.base.errors import DatabaseUnavailable, LoomError
from engine.base.messages import localize_fields
from engine.store.database import database_unavailable
from runtime.web.i18n import api_locale, error_text, locale_without_database

log = logging.getLogger("loom.web")

API_PREFIX = "/api/"

STATUS_BY_CODE = {
    "unauthenticated": 401,
    "forbidden": 403,
    "user_disabled": 403,
    "not_found": 404,
    "conflict": 409,
    "pool_refused": 409,
    "conversion_refused": 409,
    "transfer_refused": 422,
    "locked": 409,
    "flow_refused": 409,
    "schema_change_refused": 409,
    "filter_not_supported": 422,
    "rule_loop": 422,
    "rule_action_failed": 422,
    "throttled": 429,
    "database_unavailable": 503,
}
# Codes not listed: "invalid_…" (a record, query, metadata or request the engine refused for its
# content) is 422, with the fields at fault when the error names them; anything else is 400.
INVALID_PREFIX = "invalid_"


class RequestInvalid(LoomError):
    """A member of a JSON request is missing or of the wrong type; `fields` says which."""

    code = "invalid_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


def status_for(code: str) -> int:
    if code in STATUS_BY_CODE:
        return STATUS_BY_CODE[code]
    return 422 if code.startswith(INVALID_PREFIX) else 400


def under_api() -> bool:
    return request.path.startswith(API_PREFIX)


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **{k: v for k, v in extra.items() if v}}}


def loom_error_response(error: LoomError) -> Response:
    """The JSON response for an engine error, with Retry-After when the caller must wait.

    `message`, `fields` and `rows` stay English; `localized` says the same in the caller's language.
    """
    locale = api_locale()
    fields = getattr(error, "fields", None)
    rows = getattr(error, "rows", None)
    extra: dict[str, Any] = {"fields": fields}
    localized: dict[str, Any] = {"locale": locale, "message": error.localized(locale)}
    if fields:
        localized["fields"] = localize_fields(fields, locale)
    if rows:
        extra["rows"] = {str(index): fields for index, fields in rows.items()}
        localized["rows"] = {str(index): localize_fields(fields, locale) for index, fields in rows.items()}
    response = jsonify(error_body(error.code, error.message, **extra, localized=localized))
    response.status_code = status_for(error.code)
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="loom"'
    return response


def _handle_loom_error(error: LoomError) -> Response | tuple[str, int]:
    if under_api():
        return loom_error_response(error)
    if error.code == "unauthenticated":
        return redirect(url_for("pages.login", lang=request.args.get("lang")))  # type: ignore[return-value]
    status = status_for(error.code)
    return render_template("error.html", status=status, message=error_text(error)), status


def _http_code(error: HTTPException) -> str:
    if isinstance(error, CSRFError):
        return "csrf_failed"
    return (error.name or "error").lower().replace(" ", "_")


def _page_refusals() -> dict[int, str]:
    """What a page says, in the reader's language, for the refusals a reader meets by following links."""
    return {
        403: _("You may not open this page."),
        404: _("This page does not exist, or is not one you may see."),
        405: _("This page cannot be opened that way."),
    }


def _handle_http_error(error: HTTPException) -> Response | HTTPException:
    if not under_api():
        if isinstance(error, CSRFError):
            return render_template("error.html", status=400, message=None, csrf=True), 400  # type: ignore[return-value]
        message = _page_refusals().get(error.code or 0)
        if message is None:
            return error
        try:
            page = render_template("error.html", status=error.code, message=message)
        except DBAPIError:
            return error  # the page's layout reads the database; without it, the plain refusal
        response = Response(page, error.code)
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value  # a 405 keeps its Allow header
        return response
    # Flask has already logged an unhandled exception with its traceback; the caller learns only
    # that it was not their fault.
    message = "internal error" if isinstance(error, InternalServerError) else error.description
    response = jsonify(error_body(_http_code(error), message or error.name))
    response.status_code = error.code or 500
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _handle_database_error(error: DBAPIError) -> Response:
    if not database_unavailable(error):
        raise error  # a fault of Loom's, not of the moment: logged with its traceback, answered 500
    log.warning("database unavailable: %s", error.orig)
    unavailable = DatabaseUnavailable()
    if under_api():
        return loom_error_response(unavailable)
    # Not error.html: its layout reads the signed-in user and their counters from the database.
    locale = locale_without_database()
    with force_locale(locale):
        page = current_app.jinja_env.get_template("unavailable.html").render(
            locale=locale, message=unavailable.localized(locale)
        )
    response = Response(page, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(unavailable.retry_after)
    return response


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(LoomError, _handle_loom_error)
    app.register_error_handler(DBAPIError, _handle_database_error)
    app.register_error_handler(HTTPException, _handle_http_error)
