"""Who is making a request: a signed-in user (a session cookie) or, under /api/, an API token.

Views ask `current_actor()` and hand the Actor to the engine. Nothing about the user is trusted
from the session but their id: the Actor (roles, department, locale) is rebuilt from the
database on every request, so a change of roles applies at once and a disabled user is signed
out on their next request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any, TypeVar

from flask import Flask, current_app, g, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, validate_csrf
from wtforms.validators import ValidationError

from engine import identity
from engine.base.actors import Actor
from engine.identity import AuthenticationFailed, UserDisabled, UserNotFound
from engine.loom import Loom
from runtime.web.errors import under_api

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRFToken"
NOT_SIGNED_IN = "not signed in: sign in, or send an API token as 'Authorization: Bearer loom_…'"
BAD_AUTHORIZATION = "the Authorization header must be 'Bearer loom_…'"


WEB_SESSION = "loom_session"

View = TypeVar("View", bound=Callable[..., Any])


class SessionUser(UserMixin):
    """The signed-in user as Flask-Login sees it, carrying the Actor their requests run as."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def get_id(self) -> str:
        return str(self.actor.user_id)


def current_loom() -> Loom:
    return current_app.extensions["loom"]


def init_auth(app: Flask) -> CSRFProtect:
    """Sessions (Flask-Login) and CSRF protection for every form; returns the CSRFProtect to exempt from."""
    manager = LoginManager(app)
    manager.user_loader(_load_user)
    manager.unauthorized_handler(_unauthorized)
    app.before_request(_begin_request_scope)
    app.teardown_request(_end_request_scope)
    return CSRFProtect(app)


def saves_at_once(view: View) -> View:
    """Mark a view that saves once it knows its caller (a record's create, update or delete): on
    SQLite its request is one write transaction from the start, not a read and then a write."""
    view.loom_saves_at_once = True  # type: ignore[attr-defined]
    return view


def _begin_request_scope() -> None:
    # The token, the registry's version and the record are read in one transaction, not one each.
    view = current_app.view_functions.get(request.endpoint or "")
    saves = request.method not in SAFE_METHODS and getattr(view, "loom_saves_at_once", False)
    scope = g.loom_request_scope = ExitStack()
    scope.enter_context(current_loom().one_request(saves=saves))


def _end_request_scope(_error: BaseException | None) -> None:
    scope = g.pop("loom_request_scope", None)
    if scope is not None:
        scope.close()


def current_actor() -> Actor:
    """The Actor this request runs as; AuthenticationFailed when nobody is signed in.

    Under /api/ an Authorization header wins: its bearer token is verified on every request, so
    a revoked token is refused at once. Without one, the API accepts the session of the pages.
    """
    if "loom_actor" not in g:
        from_token = under_api() and "Authorization" in request.headers
        g.loom_actor = _token_actor() if from_token else _session_actor()
    return g.loom_actor


def sign_in(actor: Actor) -> None:
    # A fresh session on signing in: nothing set before it (a CSRF token included) carries over.
    session.clear()
    session[WEB_SESSION] = identity.start_session(current_loom(), actor.user_id)
    login_user(SessionUser(actor))


def sign_out(*, everywhere: bool = False) -> None:
    """End this browser's session (and every other one of the user's when asked)."""
    loom, key = current_loom(), session.get(WEB_SESSION)
    if everywhere and current_user.is_authenticated:
        identity.end_sessions(loom, current_user.actor.user_id)
    identity.end_session(loom, key)
    logout_user()
    session.clear()


def _load_user(user_id: str) -> SessionUser | None:
    loom = current_loom()
    try:
        if identity.session_user(loom, session.get(WEB_SESSION)) != int(user_id):
            # Signed out here or elsewhere, or the password changed: the cookie no longer counts.
            session.clear()
            return None
        return SessionUser(identity.actor_for(loom, int(user_id)))
    except (UserDisabled, UserNotFound, ValueError):
        # Disabled since signing in: end the session rather than only refusing this request,
        # so enabling the user again does not bring an old cookie back to life.
        log.info("session of user id %s ended: the user is disabled or gone", user_id)
        session.clear()
        return None


def _unauthorized() -> None:
    raise AuthenticationFailed(NOT_SIGNED_IN)


def _token_actor() -> Actor:
    scheme, _, token = request.headers["Authorization"].partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed(BAD_AUTHORIZATION)
    return identity.verify_token(current_loom(), token.strip())


def _session_actor() -> Actor:
    if not current_user.is_authenticated:
        raise AuthenticationFailed(NOT_SIGNED_IN)
    if under_api() and request.method not in SAFE_METHODS:
        _require_csrf_header()
    return current_user.actor


def _require_csrf_header() -> None:
    # The API blueprint is exempt from CSRFProtect because integrations authenticate with a
    # token, which a browser never attaches by itself. A session cookie, though, rides along on
    # any request the browser makes — including one that a page on another site makes it send.
    # So a write through the API that relies on the cookie must also carry the page's CSRF token
    # in a header, which another site can neither read nor set. (SameSite=Lax already keeps the
    # cookie off most cross-site posts; this does not depend on every browser honouring it.)
    try:
        validate_csrf(request.headers.get(CSRF_HEADER))
    except ValidationError as error:
        raise CSRFError(f"{error.args[0]} Send it in the {CSRF_HEADER} header.") from None
