"""`runtime.web.wsgi:app`, what a production server loads: configured from the environment alone."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
from sqlalchemy import select

from engine import identity
from engine.base.actors import SYSTEM
from engine.store.system_tables import login_attempts

PASSWORD = "correct-horse-电池-staple"


@pytest.fixture
def load_wsgi(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ModuleType]]:
    """Import runtime.web.wsgi afresh, as a server worker does, with the given LOOM_ variables."""
    loaded: list[ModuleType] = []

    def load(**variables: str) -> ModuleType:
        monkeypatch.setenv("LOOM_DATABASE_URL", database_url)
        for name in ("LOOM_SECRET_KEY", "LOOM_PROXIES", "LOOM_SESSION_COOKIE_SECURE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        sys.modules.pop("runtime.web.wsgi", None)
        module = importlib.import_module("runtime.web.wsgi")
        loaded.append(module)
        return module

    yield load
    sys.modules.pop("runtime.web.wsgi", None)
    for module in loaded:
        module.app.extensions["loom"].close()


def test_the_server_app_serves_the_database_named_in_the_environment(
    database_url: str, load_wsgi: Callable[..., ModuleType]
) -> None:
    app = load_wsgi(LOOM_SECRET_KEY="a-production-secret", LOOM_SESSION_COOKIE_SECURE="true").app

    loom = app.extensions["loom"]
    assert loom.database_url == database_url
    identity.create_user(loom, "ops", "运维", PASSWORD, actor=SYSTEM)
    client = app.test_client()
    issued = client.post(
        "/api/v1/auth/token", json={"username": "ops", "password": PASSWORD, "name": "probe"}
    )
    assert issued.status_code == 201
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued.get_json()['token']}"})
    assert me.get_json()["username"] == "ops"
    login_page = client.get("/login")
    assert login_page.status_code == 200
    assert "Secure" in login_page.headers["Set-Cookie"]


def test_the_server_app_refuses_to_start_without_a_secret_key(load_wsgi: Callable[..., ModuleType]) -> None:
    with pytest.raises(RuntimeError, match="LOOM_SECRET_KEY is not set"):
        load_wsgi()


def test_behind_a_proxy_sign_in_attempts_are_counted_against_the_clients_address(
    load_wsgi: Callable[..., ModuleType],
) -> None:
    app = load_wsgi(LOOM_SECRET_KEY="a-production-secret", LOOM_PROXIES="1").app
    client = app.test_client()

    client.post(
        "/api/v1/auth/token",
        json={"username": "nobody", "password": "wrong-password-1", "name": "probe"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )

    with app.extensions["loom"].read() as conn:
        assert conn.execute(select(login_attempts.c.remote)).scalars().all() == ["203.0.113.7"]


def test_a_proxy_count_that_is_not_a_number_is_refused(load_wsgi: Callable[..., ModuleType]) -> None:
    with pytest.raises(RuntimeError, match="LOOM_PROXIES must be the number of reverse proxies"):
        load_wsgi(LOOM_SECRET_KEY="a-production-secret", LOOM_PROXIES="nginx")
