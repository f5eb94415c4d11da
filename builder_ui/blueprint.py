"""The builder's blueprint under /builder: administrators only, every change CSRF-protected by the app."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from engine.identity.permissions import is_administrator
from runtime.web.auth import current_actor, current_loom

blueprint = Blueprint(
    "builder",
    __name__,
    url_prefix="/builder",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@blueprint.before_request
def administrators_only() -> None:
    if not current_user.is_authenticated:
        abort(401)
    if not is_administrator(current_loom().registry, current_actor()):
        abort(403)
