"""How outgoing webhooks are signed and how long they wait: LOOM_WEBHOOK_SECRET, LOOM_WEBHOOK_TIMEOUT,
and named secrets LOOM_SECRET_<NAME> for webhooks that name one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.plugin_api import EnvSettings

SECRET_PREFIX = "LOOM_SECRET_"
# LOOM_SECRET_KEY signs web sessions; a webhook naming the secret "key" must never sign with it.
NOT_WEBHOOK_SECRETS = frozenset({"key"})


@dataclass(frozen=True)
class WebhookSettings(EnvSettings):
    webhook_secret: str = "change-me"
    webhook_timeout: float = 10.0
    secrets: Mapping[str, str] = field(default_factory=dict, metadata={"env": None})

    @classmethod
    def extra_from_env(cls, environ: Mapping[str, str]) -> dict[str, Any]:
        named = {
            key[len(SECRET_PREFIX) :].lower(): value
            for key, value in environ.items()
            if key.startswith(SECRET_PREFIX)
        }
        return {"secrets": {name: value for name, value in named.items() if name not in NOT_WEBHOOK_SECRETS}}
