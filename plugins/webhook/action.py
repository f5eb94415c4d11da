"""call_webhook: build the JSON payload from the triggering record and queue a signed POST."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from engine.plugin_api import PluginAction, PluginActionContext


class CallWebhook(PluginAction):
    """Queue a POST; the worker sends it after the change commits, retrying until a 2xx answer."""

    name = "call_webhook"
    params_schema = {
        "type": "object",
        "properties": {
            "url": {"type": "string", "pattern": r"^https?://[^\s/?#]+[^\s]*$", "maxLength": 2000},
            "payload": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {"type": "string", "minLength": 1},
            },
            "secret": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
        },
        "required": ["url"],
        "additionalProperties": False,
    }

    def perform(self, ctx: PluginActionContext, spec: Any) -> dict[str, Any]:
        expressions = spec.param("payload")
        if expressions:
            payload = {key: json_safe(ctx.evaluate(text)) for key, text in expressions.items()}
        else:
            payload = {
                "rule": ctx.rule_name,
                "object": ctx.object_name,
                "record": json_safe(dict(ctx.record)),
            }
        message = {"url": spec.param("url"), "payload": payload, "secret": spec.param("secret")}
        key = ctx.idempotency_key("webhook")
        ctx.enqueue("webhook", message, key)
        return {"url": spec.param("url"), "queued": key}


def json_safe(value: Any) -> Any:
    """Record values as JSON: moments as ISO UTC text, dates as ISO text, decimals as exact strings."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.isoformat() + "Z"  # the engine keeps moments as naive UTC
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
