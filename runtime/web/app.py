"""The web application: `create_app` builds a Flask app around one Loom instance."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from engine.loom import Loom
from engine.plugin_api import installed_entry_points
from runtime import instance
from runtime.web import api, pages
from runtime.web.auth import init_auth
from runtime.web.errors import register_error_handlers
from runtime.web.i18n import init_i18n
from runtime.web.json_provider import LoomJSONProvider
from runtime.web.pages import public as pages_public
from runtime.web.security_headers import init_security_headers
from runtime.web.static_files import init_static_files

log = logging.getLogger(__name__)
RUNTIME_FOLDER = Path(__file__).resolve().parent.parent
WEB_EXTENSIONS = "loom.web"


def create_app(loom: Loom | None = None, *, config: Mapping[str, Any] | None = None) -> Flask:
    """A Flask app serving the pages and the REST API of one Loom instance.

    The instance hangs on `app.extensions["loom"]`. Without one, the app opens the database at
    config["LOOM_DATABASE_URL"], $LOOM_DATABASE_URL or instance/loom.db.

    Session cookies are signed with config["SECRET_KEY"] or $LOOM_SECRET_KEY. When neither is
    set, a random key is made for this process and a warning logged: sessions then do not
    survive a restart, and several web processes behind one address would refuse each other's
    cookies — so set LOOM_SECRET_KEY wherever people really sign in.
    """
    # Templates, static files and translations are in runtime/, beside the web and cli folders.
    app = Flask(__name__, root_path=str(RUNTIME_FOLDER))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # A CSRF token lives as long as the session it belongs to, so a page left open all day
        # can still sign out; the token is bound to the session, which sign-in renews.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(config or {})
    app.config["SECRET_KEY"] = _secret_key(app.config)
    app.json = LoomJSONProvider(app)
    app.extensions["loom"] = loom or _open_loom(app.config)
    csrf = init_auth(app)
    init_i18n(app)
    csrf.exempt(api.blueprint)  # the API authenticates by token; see runtime/web/auth.py for its cookies
    register_error_handlers(app)
    init_security_headers(app)
    init_static_files(app)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(pages_public.blueprint)
    _add_web_extensions(app)
    return app


def _add_web_extensions(app: Flask) -> None:
    # The builder (and any other installed extension) mounts itself: runtime never imports it.
    for entry in installed_entry_points(WEB_EXTENSIONS):
        entry.load()(app)


def _secret_key(config: Mapping[str, Any]) -> str | bytes:
    key = config.get("SECRET_KEY") or os.environ.get("LOOM_SECRET_KEY")
    if key:
        return key
    log.warning(
        "LOOM_SECRET_KEY is not set: session cookies are signed with a random key for this process, "
        "so everyone is signed out when it restarts"
    )
    return secrets.token_hex(32)


def _open_loom(config: Mapping[str, Any]) -> Loom:
    loom = Loom(instance.database_url(config.get("LOOM_DATABASE_URL")))
    loom.init()
    return loom
