"""The builder's blueprint under /builder: administrators only, every change CSRF-protected by the app.

The report builder (endpoints named report…) is also open to users whose role may build reports;
what each of them may change is checked again by the engine's report access rules.
"""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user

from engine.identity.permissions import is_administrator
from engine.records.report_access import may_build_reports
from runtime.web.auth import current_actor, current_loom

blueprint = Blueprint(
    "builder",
    __name__,
    url_prefix="/builder",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: Endpoints a report builder who is not an administrator may reach: the report pages and the files they load.
REPORT_ENDPOINTS = ("builder.report", "builder.static")


@blueprint.before_request
def administrators_only() -> None:
    if not current_user.is_authenticated:
        abort(401)
    registry, actor = current_loom().registry, current_actor()
    if is_administrator(registry, actor):
        return
    endpoint = request.endpoint or ""
    if endpoint.startswith(REPORT_ENDPOINTS) and may_build_reports(registry, actor):
        return
    abort(403)
