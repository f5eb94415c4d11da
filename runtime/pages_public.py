"""Public web forms: a visitor without an account fills in a form and a record is created, e.g. a lead.

Nothing is public unless the instance says so: LOOM_PUBLIC_FORMS (app config or environment) names
each public form and the fields a visitor may fill, as a mapping {"lead": ["name", "phone"]} or the
text "lead:name,company,phone,email,notes;other_form:field,…". Every other form is a 404.

The record is created through the engine as the "web form" actor, so validation and the object's
rules run as for any other save. A hidden honeypot field that bots fill makes the page pretend
success and create nothing, and each client address may send LOOM_PUBLIC_FORM_LIMIT submissions
(default 5) per LOOM_PUBLIC_FORM_WINDOW seconds (default 600); the next one gets a 429 page.
The count lives in this web process, so several processes each allow their own count.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from engine.actors import Actor
from engine.errors import RecordInvalid
from metadata.forms import FormSpec
from runtime.auth import current_loom
from runtime.i18n import label_text

blueprint = Blueprint("public", __name__)

#: Who creates records from a public form: recorded in the audit trail; the object's rules run for it.
WEB_FORM = Actor(user_id=None, name="web form", roles=frozenset({"admin"}), is_system=True)
HONEYPOT = "website_url"
DEFAULT_LIMIT = 5
DEFAULT_WINDOW = 600
INPUT_TYPES = {"email": "email", "phone": "tel", "url": "url", "date": "date", "integer": "number"}
# A visitor types these; anything pointing into the data (lookups, users) or computed stays off a public form.
TYPED_FIELDS = frozenset(
    {"text", "long_text", "email", "phone", "url", "select", "integer", "decimal", "date", "boolean"}
)


def public_forms() -> dict[str, list[str]]:
    """Each public form and the fields a visitor may fill, from LOOM_PUBLIC_FORMS."""
    setting = current_app.config.get("LOOM_PUBLIC_FORMS", os.environ.get("LOOM_PUBLIC_FORMS", ""))
    if isinstance(setting, Mapping):
        return {str(name): list(fields) for name, fields in setting.items()}
    forms: dict[str, list[str]] = {}
    for part in str(setting or "").split(";"):
        name, _sep, fields = part.partition(":")
        if name.strip():
            forms[name.strip()] = [field.strip() for field in fields.split(",") if field.strip()]
    return forms


class SubmissionLimit:
    """At most `limit` submissions per client address in any `window` seconds, counted in this process."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(address, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return False
            seen.append(now)
            return True

    def retry_after(self, address: str) -> int:
        with self._lock:
            seen = self._seen.get(address)
            return max(1, int(seen[0] + self.window - time.monotonic()) + 1) if seen else 1


def _setting(name: str, default: float) -> float:
    return float(current_app.config.get(name, os.environ.get(name, default)))


def _limit() -> SubmissionLimit:
    if "loom_public_limit" not in current_app.extensions:
        current_app.extensions["loom_public_limit"] = SubmissionLimit(
            int(_setting("LOOM_PUBLIC_FORM_LIMIT", DEFAULT_LIMIT)),
            _setting("LOOM_PUBLIC_FORM_WINDOW", DEFAULT_WINDOW),
        )
    return current_app.extensions["loom_public_limit"]


@blueprint.route("/public/forms/<form_name>", methods=["GET", "POST"])
def public_form(form_name: str) -> str | Response | tuple[str, int]:
    form, fields = _public_form(form_name)
    if request.method == "GET":
        return _render(form, fields, {}, {})
    address = request.remote_addr or "unknown"
    if not _limit().admit(address):
        page = render_template("public_limited.html", title=label_text(form.label, form.name))
        response = make_response(page, 429)
        response.headers["Retry-After"] = str(_limit().retry_after(address))
        return response
    values = {name: request.form.get(name, "").strip() for name in fields}
    if request.form.get(HONEYPOT):
        return redirect(url_for(".public_thanks", form_name=form_name))  # type: ignore[return-value]
    changes = {name: value for name, value in values.items() if value != ""}
    try:
        with current_loom().begin() as conn:
            current_loom().records(WEB_FORM, conn).create(form.object, changes, source="web_form")
    except RecordInvalid as error:
        return _render(form, fields, values, error.fields)
    return redirect(url_for(".public_thanks", form_name=form_name))  # type: ignore[return-value]


@blueprint.get("/public/forms/<form_name>/thanks")
def public_thanks(form_name: str) -> str:
    form, _fields = _public_form(form_name)
    return render_template("public_thanks.html", title=label_text(form.label, form.name))


def _public_form(form_name: str) -> tuple[FormSpec, list[str]]:
    """The form and its public fields, or 404 when the form is not public (or not there)."""
    wanted = public_forms().get(form_name)
    form = current_loom().registry.forms().get(form_name)
    if wanted is None or form is None:
        abort(404)
    model = current_loom().registry.object(form.object)
    placed = [name for name in form.field_names if name in wanted]
    fields = [name for name in placed + [n for n in wanted if n not in placed] if _typed(model, name)]
    if not fields:
        abort(404)
    return form, fields


def _typed(model: Any, name: str) -> bool:
    spec = model.fields.get(name)
    return spec is not None and spec.type in TYPED_FIELDS and model.types[name].stored


def _render(
    form: FormSpec, fields: list[str], values: Mapping[str, Any], errors: Mapping[str, list[str]]
) -> str:
    model = current_loom().registry.object(form.object)
    controls = []
    for name in fields:
        spec = model.fields[name]
        controls.append(
            {
                "name": name,
                "label": label_text(spec.label, name),
                "help": label_text(spec.help, ""),
                "type": spec.type,
                "input_type": INPUT_TYPES.get(spec.type, "text"),
                "required": spec.required,
                "value": values.get(name, ""),
                "max_length": spec.param("max_length"),
                "choices": [
                    (o["value"], label_text(o.get("label"), o["value"])) for o in spec.param("options", ())
                ],
                "errors": [_(message) for message in errors.get(name, [])],
            }
        )
    others = [_(m) for key, messages in errors.items() if key not in fields for m in messages]
    return render_template(
        "public_form.html",
        form=form,
        title=label_text(form.label, form.name),
        description=label_text(form.description, ""),
        controls=controls,
        has_errors=bool(errors),
        other_errors=others,
        honeypot=HONEYPOT,
    )
