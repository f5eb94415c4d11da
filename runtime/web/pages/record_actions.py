"""The record page's actions: claim from and return to the pool (公海), the pool's own list, and
transfer owner (转移负责人). Each button shows only to those the engine would allow; the engine
checks again, and a refusal comes back as a message in the reader's language."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.base.errors import ConflictError, LoomError, RecordInvalid, RecordNotFound
from engine.identity.permissions import PermissionDenied
from engine.records import conversion, ownership
from engine.rules import pool
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text, page_locale
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.formatting import ValueFormatter, field_label
from runtime.web.pages.list_query import default_columns
from runtime.web.pages.objects import ObjectPage, flash_errors, may_change_record, object_page

POOL_ROWS = 100


@blueprint.app_context_processor
def _record_actions_context() -> dict[str, Any]:
    return {"record_actions": record_actions}


def record_actions(page: ObjectPage, record: dict[str, Any]) -> dict[str, Any]:
    """Which of the actions the signed-in actor may take on this record; `convert` is the label of
    what the record converts into (empty when it may not be converted)."""
    loom, actor = current_loom(), current_actor()
    may_claim, may_return = pool.pool_actions(loom, actor, page.name, record)
    changeable = loom.flows.lock_on(page.name, record["id"], actor) is None and may_change_record(
        page.name, record["id"]
    )
    settings = conversion.convert_settings(page.model.spec)
    into = ""
    if settings and changeable and conversion.convertible(loom, actor, page.name, record):
        first = settings.targets[0].object
        into = label_text(loom.registry.object(first).spec.label, first)
    return {
        "convert": into,
        "claim": may_claim,
        "return": may_return and changeable,
        "transfer": changeable and ownership.may_transfer(loom, actor, page.name),
    }


def refusal_text(error: LoomError) -> str:
    """An engine refusal as a sentence in the page's language (the engine's own words as a last resort)."""
    reason = getattr(error, "reason", None)
    params = getattr(error, "params", {})
    if reason == "cooldown":
        until = ValueFormatter(current_loom(), current_actor(), page_locale()).moment(params["until"])
        return _("You returned it to the pool recently; you may claim it again from %(until)s.", until=until)
    if reason == "cap":
        return _(
            "You may hold at most %(cap)d of these; you hold %(held)d. Work on or return some first.",
            cap=params["cap"],
            held=params["held"],
        )
    texts = {
        "gone": _("Someone else claimed it first; it is no longer in the pool."),
        "reason_required": _("Say why it goes back to the pool."),
        "already_in_pool": _("It is already in the pool."),
        "not_yours": _("Only its owner or an administrator can return it to the pool."),
        "missing": _("The record does not exist or you may not see it."),
        "already_converted": _("This record has already been converted; it cannot be converted twice."),
        "not_linkable": _("The record to link does not exist or you may not see it."),
        "same_owner": _("The record already belongs to that user."),
        "owner_not_allowed": _("You may not give this record to that user."),
        "no_such_user": _("Choose an active user as the new owner."),
    }
    if reason in texts:
        return texts[reason]
    if error.code == "locked":
        return _("This record is locked by its approval and cannot be edited")
    if isinstance(error, PermissionDenied):
        return _("You may not do this with this record.")
    if isinstance(error, RecordNotFound):
        return _("The record does not exist or you may not see it.")
    if isinstance(error, ConflictError):
        return _("Someone else changed the record meanwhile; reload it and try again.")
    return _("This cannot be done with this record.")


def _record_offering(
    object_name: str, record_id: int, action: str
) -> tuple[ObjectPage, dict[str, Any]] | None:
    """The object's page and the record, when the record page offers the actor this action; else
    None, with a message to show."""
    page = object_page(object_name)
    record = current_loom().records(current_actor()).get(object_name, record_id)
    if record_actions(page, record)[action]:
        return page, record
    flash(_("You may not do this with this record."), "error")
    return None


def _back_to(object_name: str, record_id: int) -> Response:
    return redirect(url_for(".record_detail", object_name=object_name, record_id=record_id))  # type: ignore[return-value]


# -- the pool -------------------------------------------------------------------------------------


@blueprint.post("/app/<object_name>/<int:record_id>/claim")
def claim_record(object_name: str, record_id: int) -> Response:
    object_page(object_name)
    try:
        pool.claim(current_loom(), current_actor(), object_name, [record_id])
    except LoomError as error:
        flash(refusal_text(error), "error")
        if request.form.get("from") == "pool":
            return redirect(url_for(".pool_list", object_name=object_name))  # type: ignore[return-value]
        return _back_to(object_name, record_id)
    flash(_("Claimed: it is yours now."), "success")
    return _back_to(object_name, record_id)


@blueprint.route("/app/<object_name>/<int:record_id>/return", methods=["GET", "POST"])
def return_record(object_name: str, record_id: int) -> Response | str:
    loom, actor = current_loom(), current_actor()
    offered = _record_offering(object_name, record_id, "return")
    if offered is None:
        return _back_to(object_name, record_id)
    page, record = offered
    error = None
    reason = (request.form.get("reason") or "").strip()
    if request.method == "POST":
        try:
            pool.release(loom, actor, object_name, [record_id], reason)
        except RecordInvalid as invalid:
            error = "; ".join(flash_errors(invalid.fields, page))
        except LoomError as refused:
            error = refusal_text(refused)
        else:
            flash(_("Returned to the pool."), "success")
            return _back_to(object_name, record_id)
    return render_template(
        "record_action.html",
        page=page,
        record=record,
        title=_record_title(page, record),
        action="return",
        error=error,
        reason=reason,
    )


@blueprint.get("/app/<object_name>/pool")
def pool_list(object_name: str) -> str:
    """The records in the object's pool, newest arrivals first, each with its claim button."""
    page = object_page(object_name)
    loom, actor = current_loom(), current_actor()
    settings = pool.pool_settings(page.model.spec)
    if "pool" not in page.model.spec.extra:
        raise RecordNotFound(object_name, "pool")
    rows = loom.queries(actor).find(
        object_name, filter=f"{settings.flag} == True", sort=[f"-{settings.entered_at}"], limit=POOL_ROWS
    )
    title_field = page.model.spec.title_field
    columns = [
        name
        for name in default_columns(page)
        if name not in (title_field, settings.flag, "owner") and page.visible(name)
    ][:4]
    columns += [n for n in (settings.entered_at, settings.return_reason) if n and page.visible(n)]
    formatter = ValueFormatter(loom, actor, page_locale())
    formatter.prepare(page.model, rows.records, [title_field or "id", *columns])
    claimable = bool(rows.records) and pool.pool_actions(loom, actor, object_name, rows.records[0])[0]
    return render_template(
        "pool.html",
        page=page,
        records=rows.records,
        columns=columns,
        title_field=title_field,
        formatter=formatter,
        claimable=claimable,
        settings=settings,
        field_label=field_label,
        total=loom.queries(actor).count(object_name, filter=f"{settings.flag} == True"),
    )


# -- transfer owner -------------------------------------------------------------------------------


@blueprint.route("/app/<object_name>/<int:record_id>/owner", methods=["GET", "POST"])
def transfer_record(object_name: str, record_id: int) -> Response | str:
    loom, actor = current_loom(), current_actor()
    offered = _record_offering(object_name, record_id, "transfer")
    if offered is None:
        return _back_to(object_name, record_id)
    page, record = offered
    people = [p for p in ownership.candidates(loom, actor, object_name) if p["id"] != record.get("owner")]
    error = None
    if request.method == "POST":
        try:
            new_owner = int(request.form.get("owner") or 0)
            ownership.transfer_owner(loom, actor, object_name, record_id, new_owner, version=_version())
        except ValueError:
            error = _("Choose an active user as the new owner.")
        except LoomError as refused:
            error = refusal_text(refused)
        else:
            flash(_("The record has a new owner."), "success")
            if may_change_record(object_name, record_id) or _readable(object_name, record_id):
                return _back_to(object_name, record_id)
            return redirect(url_for(".record_list", object_name=object_name))  # type: ignore[return-value]
    return render_template(
        "record_action.html",
        page=page,
        record=record,
        title=_record_title(page, record),
        action="transfer",
        people=people,
        error=error,
    )


def _version() -> int | None:
    try:
        return int(request.form["_version"])
    except (KeyError, ValueError):
        return None


def _readable(object_name: str, record_id: int) -> bool:
    try:
        current_loom().records(current_actor()).get(object_name, record_id)
    except LoomError:
        return False
    return True


def _record_title(page: ObjectPage, record: dict[str, Any]) -> str:
    title_field = page.model.spec.title_field
    title = record.get(title_field) if title_field else None
    return str(title) if title not in (None, "") else f"{page.label} #{record['id']}"
