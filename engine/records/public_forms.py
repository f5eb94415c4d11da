"""Public forms: a visitor without an account creates a record through a form whose metadata says
`public`, e.g. a lead from the company's website.

Every submission let through is written to loom_public_submissions and counted there, per client
address and per form within the form's window, so the limits hold across every web process. The
row is written before the count is taken: two submissions racing each other each see the other, so
a limit may refuse one too many at that moment but never lets one too many through. A refused
submission is not written, so a visitor who waits out the window gets through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select

from engine.base.actors import Actor
from engine.base.errors import LoomError
from engine.schema.registry import Registry
from engine.store.system_tables import public_submissions
from metadata.forms import FormSpec, PublicForm

if TYPE_CHECKING:
    from engine.loom import Loom

#: Who creates records from a public form: recorded in the audit trail; the object's rules run for it.
WEB_FORM = Actor(user_id=None, name="web form", roles=frozenset({"admin"}), is_system=True)
_REMOTE_WIDTH = public_submissions.c.remote.type.length or 64


class PublicFormLimited(LoomError):
    """The form has taken as many submissions as its limits allow for now."""

    code = "public_form_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many submissions; try again in {retry_after} seconds")
        self.retry_after = retry_after


def public_form(registry: Registry, name: str) -> FormSpec | None:
    """The form of that name if its metadata makes it public, else None."""
    form = registry.forms().get(name)
    return form if form is not None and form.public is not None else None


def submit(loom: Loom, form: FormSpec, values: Mapping[str, Any], remote: str) -> dict[str, Any]:
    """Create the form's record from a visitor's values and the form's own `values` (which win).

    Raises PublicFormLimited when a limit is reached (nothing is written), and RecordInvalid with
    the field errors when the values do not make a valid record (the submission still counts).
    """
    public = form.public
    if public is None:
        raise ValueError(f"form {form.name!r} is not public")
    admit(loom, form.name, public, remote[:_REMOTE_WIDTH] or "unknown")
    with loom.begin() as conn:
        changes = {**values, **public.values}
        return loom.records(WEB_FORM, conn).create(form.object, changes, source="web_form")


def admit(loom: Loom, form: str, public: PublicForm, remote: str) -> None:
    """Count one submission from `remote`, or raise PublicFormLimited if it would pass a limit."""
    now = loom.clock.now()
    window = dt.timedelta(minutes=public.limit("window_minutes"))
    since = now - window
    with loom.begin() as conn:
        table = public_submissions
        conn.execute(delete(table).where(table.c.form == form, table.c.at < since))
        conn.execute(insert(table).values(form=form, remote=remote, at=now))
        mine = (table.c.form == form, table.c.at >= since)
        for scope, limit in (
            ((*mine, table.c.remote == remote), public.limit("per_address")),
            (mine, public.limit("per_form")),
        ):
            if _count(conn, scope) > limit:
                oldest = conn.execute(select(func.min(table.c.at)).where(*scope)).scalar_one()
                wait = max(1, int((oldest + window - now).total_seconds()) + 1)
                raise PublicFormLimited(wait)


def _count(conn: Connection, scope: tuple) -> int:
    return conn.execute(select(func.count()).select_from(public_submissions).where(*scope)).scalar_one()
