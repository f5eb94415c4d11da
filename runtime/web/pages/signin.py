"""Signing in and out, and what the layout of every signed-in page needs (navigation, counters).

Everything a page shows or changes goes through the engine as the signed-in actor, so roles,
hidden fields and record scopes apply exactly as they do in the API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Response,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from engine import identity
from engine.identity import AuthenticationFailed, LoginThrottled
from engine.identity.permissions import is_administrator
from engine.work.notifications import unread_count
from runtime.web.auth import current_actor, current_loom, sign_in, sign_out
from runtime.web.i18n import SESSION_KEY, page_locale
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.formatting import ValueFormatter
from runtime.web.pages.objects import nav_objects, nav_sections


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for(".home", lang=request.args.get("lang")))  # type: ignore[return-value]
        return render_template("login.html", username="", failure=None)
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    try:
        actor = identity.authenticate(current_loom(), username, password, request.remote_addr)
    except LoginThrottled as error:
        page = render_template("login.html", username=username, failure=_failure_text(error))
        response = make_response(page, 429)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    except AuthenticationFailed as error:
        return render_template("login.html", username=username, failure=_failure_text(error))
    locale = page_locale()
    sign_in(actor)  # a fresh session: the language chosen before signing in is carried over by hand
    if request.args.get("lang"):
        session[SESSION_KEY] = locale
    return redirect(url_for(".home"))  # type: ignore[return-value]


@blueprint.post("/logout")
def logout() -> Response:
    sign_out(everywhere=request.form.get("everywhere") == "1")
    return redirect(url_for(".login", lang=request.args.get("lang")))  # type: ignore[return-value]


@blueprint.app_context_processor
def _layout() -> dict[str, Any]:
    """The navigation and counters of the layout, for a signed-in user (none on the sign-in page)."""
    if not current_user.is_authenticated:
        return {"me": None}
    actor = current_actor()
    loom = current_loom()
    with loom.read() as conn:
        unread = unread_count(conn, actor.user_id) if actor.user_id else 0
    pending = loom.flows.pending_count(actor.user_id) if actor.user_id else 0
    return {
        "me": actor,
        "is_admin": is_administrator(loom.registry, actor),
        "nav": nav_objects(),
        "nav_sections": nav_sections(),
        "unread_count": unread,
        "pending_count": pending,
        "has_endpoint": lambda name: name in current_app.view_functions,
        "formatter": ValueFormatter(loom, actor, page_locale()),  # views with their own one pass it
    }


def _failure_text(error: AuthenticationFailed | LoginThrottled) -> str:
    """The engine's one message for a failed sign-in, in the page's language."""
    if isinstance(error, LoginThrottled):
        local = error.retry_at.replace(tzinfo=dt.UTC).astimezone(current_loom().clock.timezone)
        return _("Too many failed sign-ins: try again after %(time)s", time=f"{local:%Y-%m-%d %H:%M:%S}")
    return _("The username or password is wrong")
