"""send_email: evaluate the recipients, subject and body, and queue the message in the rule's transaction."""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.utils import parseaddr
from typing import Any

from engine.plugin_api import ActionFailed, PluginAction, PluginActionContext

_EXPRESSION = {"type": "string", "minLength": 1}
# Commas and semicolons both separate addresses when an expression gives them as one text.
_SEPARATORS = re.compile(r"[,;]")


class SendEmail(PluginAction):
    """Queue an e-mail; the worker sends it after the change commits (nothing for a rollback)."""

    name = "send_email"
    params_schema = {
        "type": "object",
        "properties": {"to": _EXPRESSION, "subject": _EXPRESSION, "body": _EXPRESSION},
        "required": ["to", "subject", "body"],
        "additionalProperties": False,
    }

    def perform(self, ctx: PluginActionContext, spec: Any) -> dict[str, Any]:
        to = recipients(ctx.evaluate(spec.param("to")))
        if not to:
            # A record without an address is not an error in the record: there is no one to write to.
            return {"to": [], "queued": None, "skipped": "the recipient expression gave no address"}
        message = {
            "to": to,
            "subject": " ".join(_text(ctx.evaluate(spec.param("subject"))).split()),
            "body": _text(ctx.evaluate(spec.param("body"))),
        }
        key = ctx.idempotency_key("email")
        ctx.enqueue("email", message, key)
        return {"to": to, "queued": key}


def recipients(value: Any) -> list[str]:
    """The addresses an expression gave: one text (maybe "a@x, b@y") or a list; blanks dropped."""
    items: Iterable[Any] = [value] if isinstance(value, str) or value is None else value
    found: list[str] = []
    for item in items:
        for part in _SEPARATORS.split(_text(item)):
            address = part.strip()
            if not address:
                continue
            if "\r" in address or "\n" in address or "@" not in parseaddr(address)[1]:
                raise ActionFailed(f"send_email: {address!r} is not an e-mail address")
            if address not in found:
                found.append(address)
    return found


def _text(value: Any) -> str:
    return "" if value is None else str(value)
