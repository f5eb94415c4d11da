"""The "webhook" channel: one signed JSON POST per queued message; anything but 2xx is a failure."""

from __future__ import annotations

import http.client
import json
import ssl
from urllib.parse import urlsplit

from engine.plugin_api import Channel, OutboxMessage
from plugins.webhook.settings import NOT_WEBHOOK_SECRETS, SECRET_PREFIX, WebhookSettings
from plugins.webhook.signing import SIGNATURE_HEADER, sign

USER_AGENT = "Loom-Webhook/1"


class WebhookRefused(Exception):
    """The receiver answered with a status other than 2xx; the outbox tries again later."""


def encode_body(payload: object) -> bytes:
    """The exact bytes sent and signed: compact UTF-8 JSON with sorted keys."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signing_secret(secret_name: str | None, settings: WebhookSettings) -> str:
    if not secret_name:
        return settings.webhook_secret
    variable = f"{SECRET_PREFIX}{secret_name.upper()}"
    if secret_name in NOT_WEBHOOK_SECRETS:
        raise LookupError(f"{variable} signs web sessions and is never a webhook secret; name another secret")
    try:
        return settings.secrets[secret_name]
    except KeyError:
        raise LookupError(
            f"the webhook names the secret {secret_name!r}, but {variable} is not set"
        ) from None


class WebhookChannel(Channel):
    name = "webhook"
    settings = WebhookSettings

    def deliver(self, message: OutboxMessage, settings: WebhookSettings) -> None:
        url = message.message["url"]
        body = encode_body(message.message["payload"])
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": message.key,
            SIGNATURE_HEADER: sign(body, signing_secret(message.message.get("secret"), settings)),
            "X-Loom-Attempt": str(message.attempts),
        }
        status, reason, excerpt = post(url, body, headers, settings.webhook_timeout)
        if not 200 <= status < 300:
            raise WebhookRefused(f"{url} answered {status} {reason}: {excerpt}".rstrip(": "))


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str, str]:
    """POST and return (status, reason, the start of the response body). Redirects are not followed:
    a redirected POST would either lose its body or be resent unsigned to an address nobody chose."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.netloc, timeout=timeout, context=ssl.create_default_context()
        )
    elif parts.scheme == "http":
        conn = http.client.HTTPConnection(parts.netloc, timeout=timeout)
    else:
        raise ValueError(f"webhook addresses are http:// or https:// URLs, not {url!r}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        excerpt = response.read(500).decode("utf-8", "replace")
        return response.status, response.reason, " ".join(excerpt.split())
    finally:
        conn.close()
