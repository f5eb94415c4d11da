"""The pages: signing in and out, and the home page of a signed-in user.

Pages speak Chinese (zh_CN) or English: `?lang=` first, then the signed-in user's locale, then
the browser's Accept-Language; Chinese when none of them says.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from engine import identity
from engine.actors import Actor
from engine.identity import AuthenticationFailed, LoginThrottled
from runtime.auth import current_actor, current_loom, sign_in, sign_out

blueprint = Blueprint("pages", __name__)

DEFAULT_LOCALE = "zh_CN"
STRINGS: dict[str, dict[str, str]] = {
    "zh_CN": {
        "sign_in": "登录",
        "username": "用户名",
        "password": "密码",
        "sign_out": "退出登录",
        "hello": "你好, {name}",
        "unauthenticated": "用户名或密码错误",
        "throttled": "登录失败次数过多，请在 {time} 之后再试",
        "csrf_failed": "表单已过期，或来自其他网站。请返回并刷新页面后重试。",
        "error": "出错了",
        "home": "返回首页",
        "other_locale": "en",
        "other_locale_name": "English",
    },
    "en": {
        "sign_in": "Sign in",
        "username": "Username",
        "password": "Password",
        "sign_out": "Sign out",
        "hello": "Hello, {name}",
        "csrf_failed": "The form has expired or came from another site. "
        "Go back, reload the page and try again.",
        "error": "Something went wrong",
        "home": "Home",
        "other_locale": "zh_CN",
        "other_locale_name": "中文",
    },
}


def page_locale(actor: Actor | None = None) -> str:
    for wanted in (request.args.get("lang"), actor.locale if actor else None):
        if supported := _supported(wanted):
            return supported
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return _supported(best) or DEFAULT_LOCALE


@blueprint.app_context_processor
def _page_strings() -> dict[str, Any]:
    # Values a view passes to render_template win over these, as Flask merges them.
    locale = page_locale(g.get("loom_actor"))
    return {"locale": locale, "t": STRINGS[locale], "asked_locale": request.args.get("lang")}


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
    sign_in(actor)
    return redirect(url_for(".home", lang=request.args.get("lang")))  # type: ignore[return-value]


@blueprint.post("/logout")
def logout() -> Response:
    sign_out()
    return redirect(url_for(".login", lang=request.args.get("lang")))  # type: ignore[return-value]


@blueprint.get("/")
def home() -> str:
    actor = current_actor()  # not signed in: the error handler sends the browser to /login
    return render_template("home.html", name=actor.name)


def _failure_text(error: AuthenticationFailed | LoginThrottled) -> str:
    """The engine's one message for a failed sign-in, in the page's language."""
    locale = page_locale()
    if locale == "en":
        return error.message
    if isinstance(error, LoginThrottled):
        local = error.retry_at.replace(tzinfo=dt.UTC).astimezone(current_loom().clock.timezone)
        return STRINGS[locale]["throttled"].format(time=f"{local:%Y-%m-%d %H:%M:%S}")
    return STRINGS[locale]["unauthenticated"]


def _supported(tag: str | None) -> str | None:
    tag = (tag or "").replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return None
