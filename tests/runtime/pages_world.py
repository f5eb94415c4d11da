"""Shared by the page tests: a small sales team on the standard CRM, and a browser-like client per person."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from engine import identity
from engine.base.actors import SYSTEM, Actor
from engine.loom import Loom
from runtime.web.app import create_app

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


class _FormReader(HTMLParser):
    """What a browser would submit from the record form: enabled controls, ticked boxes, chosen options."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self.inside = False
        self.select: dict | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and "record-form" in (a.get("class") or ""):
            self.inside = True
        if not self.inside or "disabled" in a:
            if tag == "select":
                self.select = {"name": None, "chosen": [], "first": None, "multiple": False}
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.append((name, a.get("value") or "on"))
            elif kind not in ("submit", "button", "file"):
                self.values.append((name, a.get("value") or ""))
        elif tag == "select":
            self.select = {"name": name, "chosen": [], "first": None, "multiple": "multiple" in a}
        elif tag == "option" and self.select is not None:
            value = a.get("value") or ""
            if self.select["first"] is None:
                self.select["first"] = value
            if "selected" in a:
                self.select["chosen"].append(value)
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            select, self.select = self.select, None
            if select["name"] is None:
                return
            chosen = select["chosen"] or ([] if select["multiple"] else [select["first"] or ""])
            self.values += [(select["name"], value) for value in chosen]
        elif tag == "textarea" and self.textarea is not None:
            self.values.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None


def submitted(page: str) -> MultiDict:
    """The record form on `page` as a browser would post it, unchanged."""
    reader = _FormReader()
    reader.feed(page)
    return MultiDict(reader.values)
