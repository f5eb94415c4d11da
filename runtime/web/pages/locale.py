"""The language switcher: the choice is kept in the session and, for a signed-in user, as their preference."""

from __future__ import annotations

from flask import Response, abort, redirect, request, session, url_for
from flask_login import current_user

from engine import identity
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import SESSION_KEY, supported
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.objects import safe_next


@blueprint.post("/locale")
def switch_locale() -> Response:
    locale = supported(request.form.get("locale"))
    if locale is None:
        abort(400)
    session[SESSION_KEY] = locale
    if current_user.is_authenticated:
        actor = current_actor()
        if actor.user_id is not None and actor.locale != locale:
            identity.update_profile(current_loom(), actor.user_id, {"locale": locale}, actor=actor)
    return redirect(safe_next(url_for(".home")))  # type: ignore[return-value]
