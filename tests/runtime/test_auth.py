"""Signing in and out of the pages, and API tokens on /api/v1, as a browser and an integration see them."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select
from werkzeug.test import TestResponse

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from runtime.cli.group import cli
from runtime.web.app import create_app

PASSWORD = "correct-horse-电池-staple"
WRONG = "not-the-password-1"


@pytest.fixture
def app(crm: Loom) -> Flask:
    return create_app(crm, config={"SECRET_KEY": "a-test-secret", "TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def wang(crm: Loom) -> dict:
    return identity.create_user(crm, "wang.fang", "王芳", PASSWORD, roles=["sales_rep"], actor=SYSTEM)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(
    client: FlaskClient, username: str = "wang.fang", password: str = PASSWORD, **query: str
) -> TestResponse:
    form = {"csrf_token": csrf_token(client), "username": username, "password": password}
    return client.post("/login", data=form, query_string=query)


def issue_token(client: FlaskClient, password: str = PASSWORD) -> TestResponse:
    body = {"username": "wang.fang", "password": password, "name": "ERP sync"}
    return client.post("/api/v1/auth/token", json=body)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- pages ------------------------------------------------------------------------------------------


def test_signing_in_with_the_forms_csrf_token_greets_the_user(client: FlaskClient, wang: dict) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<label for="username">用户名</label>' in page
    assert '<label for="password">密码</label>' in page
    response = sign_in(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "你好, 王芳" in home.get_data(as_text=True)


def test_the_session_cookie_is_http_only_and_same_site_lax(client: FlaskClient, wang: dict) -> None:
    cookie = sign_in(client).headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_a_post_without_the_csrf_token_is_refused(client: FlaskClient, wang: dict) -> None:
    response = client.post("/login", data={"username": "wang.fang", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not signed in


def test_home_sends_a_stranger_to_the_sign_in_page(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_a_wrong_password_and_an_unknown_user_get_the_same_single_message(
    client: FlaskClient, wang: dict
) -> None:
    wrong = sign_in(client, password=WRONG)
    unknown = sign_in(client, username="nobody.here", password=WRONG)
    for response in (wrong, unknown):
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "用户名或密码错误" in page
        assert WRONG not in page
    english = sign_in(client, password=WRONG, lang="en").get_data(as_text=True)
    assert "username or password is wrong" in english
    assert client.get("/").status_code == 302


def test_the_language_follows_accept_language_unless_lang_is_given(client: FlaskClient) -> None:
    english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in english
    assert ">Username</label>" in english
    chinese = client.get("/login?lang=zh_CN", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert ">用户名</label>" in chinese


def test_the_sixth_failed_attempt_is_throttled_even_with_the_right_password(
    client: FlaskClient, wang: dict, crm: Loom
) -> None:
    for _ in range(5):
        assert sign_in(client, password=WRONG).status_code == 200
    response = sign_in(client)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    until = (crm.clock.now() + dt.timedelta(minutes=15)).replace(tzinfo=dt.UTC).astimezone(crm.clock.timezone)
    assert f"登录失败次数过多，请在 {until:%Y-%m-%d %H:%M:%S} 之后再试" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_signing_out_needs_the_csrf_token_and_ends_the_session(client: FlaskClient, wang: dict) -> None:
    sign_in(client)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_a_disabled_users_session_ends_on_the_next_request(
    client: FlaskClient, wang: dict, crm: Loom
) -> None:
    sign_in(client)
    assert client.get("/").status_code == 200
    identity.disable_user(crm, wang["id"], actor=SYSTEM)
    assert client.get("/").headers["Location"] == "/login"
    identity.enable_user(crm, wang["id"], actor=SYSTEM)
    assert client.get("/").status_code == 302  # the old cookie stays dead


def test_a_display_name_is_escaped_on_the_page(client: FlaskClient, crm: Loom) -> None:
    identity.create_user(crm, "mallory", "<script>alert(1)</script>", PASSWORD, actor=SYSTEM)
    sign_in(client, username="mallory")
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


# -- API --------------------------------------------------------------------------------------------


def test_a_token_from_the_token_endpoint_works_on_me(client: FlaskClient, wang: dict) -> None:
    response = issue_token(client)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    token = response.get_json()["token"]
    assert token.startswith("loom_")
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.get_json() == {
        "id": wang["id"],
        "username": "wang.fang",
        "name": "王芳",
        "roles": ["sales_rep"],
        "department": None,
        "locale": "zh_CN",
    }


def test_a_revoked_token_is_refused_at_once(client: FlaskClient, wang: dict) -> None:
    issued = issue_token(client).get_json()
    headers = bearer(issued["token"])
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.delete(f"/api/v1/auth/token/{issued['id']}", headers=headers).status_code == 204
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthenticated"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_nobody_can_revoke_someone_elses_token(client: FlaskClient, wang: dict, crm: Loom) -> None:
    identity.create_user(crm, "li.na", "李娜", PASSWORD, actor=SYSTEM)
    theirs = issue_token(client).get_json()
    body = {"username": "li.na", "password": PASSWORD, "name": "mine"}
    mine = client.post("/api/v1/auth/token", json=body).get_json()
    response = client.delete(f"/api/v1/auth/token/{theirs['id']}", headers=bearer(mine["token"]))
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(theirs["token"])).status_code == 200


def test_bad_credentials_get_401_and_the_sixth_attempt_429(client: FlaskClient, wang: dict) -> None:
    refused = issue_token(client, password=WRONG)
    assert refused.status_code == 401
    assert refused.get_json() == {
        "error": {
            "code": "unauthenticated",
            "message": "username or password is wrong",
            "localized": {"locale": "en", "message": "username or password is wrong"},
        }
    }
    for _ in range(4):
        issue_token(client, password=WRONG)
    throttled = issue_token(client)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "900"
    assert throttled.get_json()["error"]["code"] == "throttled"


def test_me_needs_a_valid_token_or_session(client: FlaskClient, wang: dict) -> None:
    for headers in ({}, bearer("loom_not-a-real-token"), {"Authorization": "Basic d2FuZzpwdw=="}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthenticated"


def test_a_session_cookie_on_the_api_needs_the_csrf_header_to_write(client: FlaskClient, wang: dict) -> None:
    sign_in(client)
    assert client.get("/api/v1/me").get_json()["username"] == "wang.fang"
    token_id = identity.create_token(client.application.extensions["loom"], wang["id"], "x", actor=SYSTEM)[1][
        "id"
    ]
    refused = client.delete(f"/api/v1/auth/token/{token_id}")
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    assert client.delete(f"/api/v1/auth/token/{token_id}", headers=headers).status_code == 204


def test_bad_input_gets_a_json_error_never_a_500(client: FlaskClient, wang: dict) -> None:
    malformed = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert malformed.status_code == 400
    assert malformed.get_json()["error"]["code"] == "bad_request"
    missing = client.post("/api/v1/auth/token", json={"username": "wang.fang", "password": 12})
    assert missing.status_code == 422
    assert missing.get_json()["error"]["code"] == "invalid_request"
    assert set(missing.get_json()["error"]["fields"]) == {"password", "name"}
    unknown = client.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["code"] == "not_found"
    wrong_method = client.put("/api/v1/me")
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["Allow"]


# -- secrets stay secret ------------------------------------------------------------------------------


def test_passwords_and_tokens_never_reach_the_log_or_the_database(
    app: Flask, crm: Loom, caplog: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    # SQLAlchemy keeps its own loggers at WARNING; at DEBUG they record every statement and parameter.
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="sqlalchemy"):
        identity.create_user(crm, "wang.fang", "王芳", PASSWORD, actor=SYSTEM)
        sign_in(client, password=WRONG)
        sign_in(client)
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
        issued = issue_token(client).get_json()
        issue_token(client, password=WRONG)
        client.get("/api/v1/me", headers=bearer(issued["token"]))
        client.delete(f"/api/v1/auth/token/{issued['id']}", headers=bearer(issued["token"]))
        client.get("/api/v1/me", headers=bearer(issued["token"]))
    secrets = (PASSWORD, WRONG, issued["token"], issued["token"].removeprefix("loom_"))
    assert any(record.name.startswith("sqlalchemy.engine") for record in caplog.records)
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {record.exc_text}" for record in caplog.records
    )
    assert not [secret for secret in secrets if secret in logged]
    stored = database_text(crm)
    assert not [secret for secret in secrets if secret in stored]


def database_text(loom: Loom) -> str:
    """Every value in every table of the database, as text."""
    tables = MetaData()
    tables.reflect(loom.db)
    with loom.db.connect() as conn:
        return "\n".join(
            repr(tuple(row)) for table in tables.sorted_tables for row in conn.execute(select(table))
        )


# -- the app and `loom run` --------------------------------------------------------------------------


def test_without_a_secret_key_the_app_warns_that_sessions_will_not_survive_a_restart(
    database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("LOOM_SECRET_KEY", raising=False)
    app = create_app(config={"LOOM_DATABASE_URL": database_url})
    app.extensions["loom"].close()
    assert app.extensions["loom"].database_url == database_url
    assert "LOOM_SECRET_KEY is not set" in caplog.text
    monkeypatch.setenv("LOOM_SECRET_KEY", "from-the-environment")
    assert create_app(app.extensions["loom"]).secret_key == "from-the-environment"


def test_loom_run_serves_the_app_for_the_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    served = {}
    monkeypatch.setattr(Flask, "run", lambda app, host, port: served.update(app=app, host=host, port=port))
    result = CliRunner().invoke(
        cli, ["--database", database_url, "run", "--port", "8123"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert served["host"] == "127.0.0.1"
    assert served["port"] == 8123
    assert served["app"].extensions["loom"].database_url == database_url
    served["app"].extensions["loom"].close()


# -- sessions that end when they should ---------------------------------------------------------


def _copied_cookie(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser holding a copy of this one's session cookie (a stolen or synced cookie)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def test_signing_out_ends_the_session_even_for_a_copy_of_its_cookie(
    app: Flask, client: FlaskClient, wang: dict
) -> None:
    sign_in(client)
    copy = _copied_cookie(client, app)
    assert _signed_in(copy)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert not _signed_in(copy)


def test_signing_out_everywhere_ends_the_users_other_sessions(app: Flask, wang: dict) -> None:
    phone, laptop, colleague = app.test_client(), app.test_client(), app.test_client()
    sign_in(phone), sign_in(laptop)
    identity.create_user(app.extensions["loom"], "li.na", "李娜", PASSWORD, roles=["sales_rep"], actor=SYSTEM)
    sign_in(colleague, "li.na")
    laptop.post("/logout", data={"csrf_token": csrf_token(laptop, "/")})
    assert _signed_in(phone)  # a plain sign-out ends only the laptop's session
    sign_in(laptop)
    laptop.post("/logout", data={"csrf_token": csrf_token(laptop, "/"), "everywhere": "1"})
    assert not _signed_in(phone) and not _signed_in(laptop)
    assert _signed_in(colleague)


def test_a_new_password_ends_every_session_and_optionally_the_tokens(
    app: Flask, client: FlaskClient, wang: dict
) -> None:
    loom = app.extensions["loom"]
    sign_in(client)
    token = issue_token(client).get_json()["token"]
    identity.set_password(loom, wang["id"], "a-brand-new-password-9", actor=SYSTEM)
    assert not _signed_in(client)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    identity.set_password(loom, wang["id"], "another-new-password-8", actor=SYSTEM, revoke_tokens=True)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert sign_in(client, password="another-new-password-8").status_code == 302 and _signed_in(client)


def test_the_cli_signs_a_user_out_everywhere_with_a_new_password(
    app: Flask, client: FlaskClient, wang: dict
) -> None:
    sign_in(client)
    loom = app.extensions["loom"]
    result = CliRunner().invoke(
        cli,
        [
            "--database",
            loom.database_url,
            "user",
            "set-password",
            "wang.fang",
            "--password",
            "a-brand-new-pass-9",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0 and "sessions ended" in result.output, result.output
    assert not _signed_in(client)
