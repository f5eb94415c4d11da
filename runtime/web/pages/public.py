"""Public web forms: a visitor without an account fills in a form and a record is created, e.g. a lead.

Nothing is public unless its metadata says so: a form document with a `public` section (title,
intro, privacy consent, the values stamped on the record, limits) is served at
/public/forms/<name>; every other form is a 404. The record is created by the engine
(engine.records.public_forms), so validation, the limits and the object's rules (assignment, notification)
hold as for any other save.

Bots are kept out without a captcha: a hidden field people never see (filled: the page pretends
success and creates nothing), a signed stamp of when the page was served (sent back sooner than the
form's `min_fill_seconds`, or without a valid stamp: the same), and the per-address and per-form
limits, whose next submission gets a 429 page.
"""

from __future__ import annotations

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
from itsdangerous import BadSignature, URLSafeSerializer

from engine.base.errors import RecordInvalid
from engine.records.public_forms import PublicFormLimited, public_form, submit
from metadata.forms import FormSpec
from runtime.web.auth import current_loom
from runtime.web.i18n import label_text, said

blueprint = Blueprint("public", __name__)

HONEYPOT = "website_url"
STAMP = "_served"
CONSENT = "_consent"
INPUT_TYPES = {"email": "email", "phone": "tel", "url": "url", "date": "date", "integer": "number"}


@blueprint.route("/public/forms/<form_name>", methods=["GET", "POST"])
def public_form_page(form_name: str) -> str | Response | tuple[str, int]:
    form = _public(form_name)
    fields = _fields(form)
    if request.method == "GET":
        return _render(form, fields, {}, {})
    thanks = redirect(url_for(".public_thanks", form_name=form_name))
    if request.form.get(HONEYPOT) or _too_soon(form):
        return thanks  # type: ignore[return-value]
    values = {name: request.form.get(name, "").strip() for name in fields}
    if form.public and form.public.consent and not request.form.get(CONSENT):
        return _render(
            form, fields, values, {CONSENT: [_("Please agree to the privacy terms to send the form.")]}
        )
    changes = {name: value for name, value in values.items() if value != ""}
    try:
        submit(current_loom(), form, changes, request.remote_addr or "unknown")
    except PublicFormLimited as limited:
        page = render_template("public_limited.html", title=_title(form))
        response = make_response(page, 429)
        response.headers["Retry-After"] = str(limited.retry_after)
        return response
    except RecordInvalid as error:
        return _render(form, fields, values, error.fields)
    return thanks  # type: ignore[return-value]


@blueprint.get("/public/forms/<form_name>/thanks")
def public_thanks(form_name: str) -> str:
    form = _public(form_name)
    thanks = label_text(form.public.thanks, "") if form.public else ""
    return render_template("public_thanks.html", title=_title(form), thanks=thanks)


def _public(form_name: str) -> FormSpec:
    form = public_form(current_loom().registry, form_name)
    if form is None:
        abort(404)
    return form


def _fields(form: FormSpec) -> list[str]:
    """The form's fields a visitor fills in, in its order (validation keeps the others off it)."""
    model = current_loom().registry.object(form.object)
    return [name for name in form.field_names if name in model.fields and model.types[name].stored]


def _title(form: FormSpec) -> str:
    public_title = label_text(form.public.title, "") if form.public else ""
    return public_title or label_text(form.label, form.name)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="loom-public-form")


def _stamp(form: FormSpec) -> str:
    return _serializer().dumps({"form": form.name, "at": current_loom().clock.now().timestamp()})


def _too_soon(form: FormSpec) -> bool:
    """Sent back sooner than a person fills it in, or with no stamp of when the page was served."""
    try:
        stamp = _serializer().loads(request.form.get(STAMP, ""))
    except BadSignature:
        return True
    if (
        not isinstance(stamp, dict)
        or stamp.get("form") != form.name
        or not isinstance(stamp.get("at"), float)
    ):
        return True
    minimum = form.public.limit("min_fill_seconds") if form.public else 0
    return current_loom().clock.now().timestamp() - stamp["at"] < minimum


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
                "errors": [_(said(message)) for message in errors.get(name, [])],
            }
        )
    public = form.public
    others = [
        _(said(m))
        for key, messages in errors.items()
        if key not in fields and key != CONSENT
        for m in messages
    ]
    return render_template(
        "public_form.html",
        form=form,
        title=_title(form),
        intro=label_text(public.intro, "") if public else "",
        consent=label_text(public.consent, "") if public else "",
        consent_errors=list(errors.get(CONSENT, [])),
        consent_name=CONSENT,
        controls=controls,
        has_errors=bool(errors),
        other_errors=others,
        honeypot=HONEYPOT,
        stamp_name=STAMP,
        # A page sent back with errors keeps the stamp of when it was first served.
        stamp=request.form.get(STAMP) if request.method == "POST" else _stamp(form),
    )
