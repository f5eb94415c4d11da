"""Which language a page speaks: `?lang=`, then the session's choice, then the signed-in user's
preference, then the browser's Accept-Language; Chinese (zh_CN) when none of them says.

Page text goes through Flask-Babel (runtime/translations); labels of objects, fields and options
come from the metadata's own bilingual labels through `label_text`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from babel import Locale
from flask import Flask, current_app, g, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

from engine.base.errors import LoomError
from engine.base.messages import localize, localize_fields, localize_problem
from engine.records.actor_names import actor_label

DEFAULT_LOCALE = "zh_CN"
SUPPORTED = ("zh_CN", "en")
LOCALE_NAMES = {"zh_CN": "中文", "en": "English"}
SESSION_KEY = "locale"


def supported(tag: str | None) -> str | None:
    """A language tag (zh-CN, zh, en-US, en_GB …) as one of the supported locales, or None."""
    tag = (tag or "").replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    if asked := supported(request.args.get("lang")):
        session[SESSION_KEY] = asked
        return asked
    if chosen := supported(session.get(SESSION_KEY)):
        return chosen
    if current_user and current_user.is_authenticated and (preferred := supported(current_user.actor.locale)):
        return preferred
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return supported(best) or DEFAULT_LOCALE


def locale_without_database() -> str:
    """The page's language as far as the request alone says it, for when the user cannot be read."""
    asked = supported(request.args.get("lang")) or supported(session.get(SESSION_KEY))
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return asked or supported(best) or DEFAULT_LOCALE


def page_locale() -> str:
    """The locale of the page being rendered, as Loom names it (zh_CN or en)."""
    # Asked for each label a page shows, hundreds of times a page: worked out once for the
    # request's Babel locale (a new one when the request's language is chosen again).
    babel_locale = get_locale()
    if babel_locale is None:  # outside a request
        return DEFAULT_LOCALE
    known = g.get("loom_page_locale")
    if known is None or known[0] is not babel_locale:
        known = g.loom_page_locale = (babel_locale, supported(str(babel_locale)) or DEFAULT_LOCALE)
    return known[1]


@cache
def babel_locale(locale: str) -> Locale:
    """Babel's locale for one of Loom's, parsed once: Babel parses a locale given as text again
    for every value it formats (31,000 times for 100 record and list pages)."""
    return Locale.parse(locale)


def api_locale() -> str:
    """The language of an API answer: the Accept-Language header, else the caller's preference, else English.

    Unlike a page, an API call without either gets English, so scripts read what they always read.
    """
    if request.headers.get("Accept-Language"):
        best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
        if found := supported(best):
            return found
    actor = g.get("loom_actor")
    return (supported(actor.locale) if actor is not None else None) or "en"


def said(message: str) -> str:
    """An engine message in the page's language (text not from the engine's catalogue as it is)."""
    return localize(message, page_locale())


def said_problem(message: str) -> str:
    """A metadata problem in the page's language (text no catalogue template reads as it is)."""
    return localize_problem(message, page_locale())


def error_text(error: LoomError) -> str:
    """An engine error's message in the page's language."""
    return error.localized(page_locale())


def field_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Every field's engine messages in the page's language."""
    return localize_fields(errors, page_locale())


def who(actor_name: str | None, locale: str | None = None) -> str | None:
    """Who acted, as the page names them: a rule or approval flow by its label, a person by name."""
    registry = current_app.extensions["loom"].registry
    return actor_label(registry, actor_name, locale or page_locale())


def label_text(label: Mapping[str, str] | None, fallback: str = "", locale: str | None = None) -> str:
    """A metadata label in the page's language, else in the other one, else `fallback`."""
    if not label:
        return fallback
    locale = locale or page_locale()
    for wanted in (locale, *SUPPORTED):
        if label.get(wanted):
            return label[wanted]
    return next(iter(label.values()), fallback) or fallback


def _timezone() -> str:
    return str(current_app.extensions["loom"].clock.timezone)


def init_i18n(app: Flask) -> None:
    """Flask-Babel with Loom's locale selection, and `label` / `locale` / `who` for every template."""
    Babel(app, locale_selector=select_locale, timezone_selector=_timezone, default_locale=DEFAULT_LOCALE)

    @app.context_processor
    def _locale_context() -> dict[str, Any]:
        locale = page_locale()
        return {"locale": locale, "locale_names": LOCALE_NAMES, "label": label_text, "who": who}
