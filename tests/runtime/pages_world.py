"""Shared by the page tests: a small sales team on the standard CRM, and a browser-like client per person."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskClient

from engine import identity
from engine.actors import SYSTEM, Actor
from engine.loom import Loom
from runtime.app import create_app

PASSWORD = "pages-test-password-1"


@dataclass
class Team:
    """销售部: manager 张经理 (department head), reps 王芳 and 李娜; 赵财务 in finance; each signs in."""

    loom: Loom
    app: Flask
    ids: dict[str, int] = field(default_factory=dict)

    def actor(self, username: str) -> Actor:
        return identity.actor_for(self.loom, self.ids[username])

    def client(self, username: str, locale: str = "zh_CN") -> FlaskClient:
        client = self.app.test_client()
        page = client.get("/login").get_data(as_text=True)
        form = {"csrf_token": token_in(page), "username": username, "password": PASSWORD}
        assert client.post("/login", data=form, query_string={"lang": locale}).status_code == 302
        return client

    def customer(self, name: str, owner: str = "wang.fang", **values: object) -> dict:
        return self.loom.records().create("customer", {"name": name, "owner": self.ids[owner], **values})


def build_team(loom: Loom) -> Team:
    app = create_app(loom, config={"SECRET_KEY": "pages-test-secret", "TESTING": True})
    team = Team(loom, app)
    sales = identity.create_department(loom, "销售部", actor=SYSTEM)["id"]
    finance = identity.create_department(loom, "财务部", actor=SYSTEM)["id"]
    for username, name, roles, department in (
        ("zhang.jingli", "张经理", ["sales_manager"], sales),
        ("wang.fang", "王芳", ["sales_rep"], sales),
        ("li.na", "李娜", ["sales_rep"], sales),
        ("zhao.caiwu", "赵财务", ["finance"], finance),
    ):
        user = identity.create_user(
            loom, username, name, PASSWORD, roles=roles, department_id=department, actor=SYSTEM
        )
        team.ids[username] = user["id"]
    identity.set_head(loom, sales, team.ids["zhang.jingli"], actor=SYSTEM)
    return team


def token_in(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def csrf(client: FlaskClient, path: str = "/") -> str:
    return token_in(client.get(path).get_data(as_text=True))


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)
