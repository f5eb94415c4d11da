"""Shared by the REST API tests: the app around a CRM Loom, and people calling it with their own tokens."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from runtime.web.app import create_app

PASSWORD = "a-long-enough-password"


class Api:
    """The app under test and a token per user; `get`, `post`, … call /api/v1 as one of them."""

    def __init__(self, loom: Loom) -> None:
        self.loom = loom
        self.app = create_app(loom, config={"SECRET_KEY": "a-test-secret", "TESTING": True})
        self.client: FlaskClient = self.app.test_client()
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, int] = {}

    def person(self, username: str, roles: list[str], *, department_id: int | None = None) -> str:
        user = identity.create_user(
            self.loom,
            username,
            username.title(),
            PASSWORD,
            roles=roles,
            department_id=department_id,
            actor=SYSTEM,
        )
        self.ids[username] = user["id"]
        body = {"username": username, "password": PASSWORD, "name": "tests"}
        self.tokens[username] = self.client.post("/api/v1/auth/token", json=body).get_json()["token"]
        return username

    def call(self, method: str, path: str, *, as_: str | None, **options: Any) -> TestResponse:
        headers = dict(options.pop("headers", {}))
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.tokens[as_]}"
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **options)

    def get(self, path: str, *, as_: str | None = "admin", **options: Any) -> TestResponse:
        return self.call("GET", path, as_=as_, **options)

    def post(self, path: str, *, as_: str | None = "admin", **options: Any) -> TestResponse:
        return self.call("POST", path, as_=as_, **options)

    def put(self, path: str, *, as_: str | None = "admin", **options: Any) -> TestResponse:
        return self.call("PUT", path, as_=as_, **options)

    def patch(self, path: str, *, as_: str | None = "admin", **options: Any) -> TestResponse:
        return self.call("PATCH", path, as_=as_, **options)

    def delete(self, path: str, *, as_: str | None = "admin", **options: Any) -> TestResponse:
        return self.call("DELETE", path, as_=as_, **options)

    def create(self, object_name: str, values: dict[str, Any], *, as_: str = "admin") -> dict[str, Any]:
        response = self.post(f"/records/{object_name}", json=values, as_=as_)
        assert response.status_code == 201, response.get_json()
        return response.get_json()


def error_of(response: TestResponse) -> dict[str, Any]:
    return response.get_json()["error"]
