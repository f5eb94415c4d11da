"""The application for a production WSGI server: `gunicorn -w 4 runtime.web.wsgi:app` (see docs/deploy.md).

Configured from the environment alone: LOOM_DATABASE_URL (default instance/loom.db), LOOM_SECRET_KEY
(required), LOOM_PROXIES and LOOM_SESSION_COOKIE_SECURE.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from runtime.heap import freeze_startup_objects
from runtime.web.app import create_app

TRUE_WORDS = {"1", "true", "yes", "on"}


class ServerMisconfigured(RuntimeError):
    """An environment variable the server needs is missing or not understood."""


def build_app() -> Flask:
    """The app as the environment describes it; ServerMisconfigured names the variable at fault."""
    app = create_app(config=_config())
    freeze_startup_objects(app.extensions["loom"])
    proxies = _proxies()
    if proxies:
        # Behind a reverse proxy every request comes from the proxy's address, so without this the
        # per-address sign-in throttle would lock everyone out after a few strangers' failures.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    return app


def _config() -> dict[str, Any]:
    # create_app would make up a key per process; behind several workers each would then refuse
    # the cookies the others signed, and people would be signed out at random. Refuse to start.
    key = os.environ.get("LOOM_SECRET_KEY", "").strip()
    if not key:
        raise ServerMisconfigured(
            "LOOM_SECRET_KEY is not set: every web process must sign session cookies with the same "
            "secret; set it to a long random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`"
        )
    secure = os.environ.get("LOOM_SESSION_COOKIE_SECURE", "").strip().lower() in TRUE_WORDS
    return {"SECRET_KEY": key, "SESSION_COOKIE_SECURE": secure}


def _proxies() -> int:
    raw = os.environ.get("LOOM_PROXIES", "0").strip() or "0"
    if not raw.isdigit():
        raise ServerMisconfigured(
            f"LOOM_PROXIES must be the number of reverse proxies in front of Loom (0, 1, …), not {raw!r}"
        )
    return int(raw)


app = build_app()
