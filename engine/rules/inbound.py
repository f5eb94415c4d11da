"""Who may call an inbound rule: each inbound rule has its own key, derived from the instance's secret.

The key is the hex HMAC-SHA256 of "inbound:<rule name>" keyed with LOOM_WEBHOOK_SECRET, so it
needs no storage, differs per rule, and changing the secret revokes every key at once. A caller
proves it holds the key either by sending it (the rule's signed address, `?key=…`) or by
signing the exact body with it (`X-Loom-Signature: sha256=<hex HMAC-SHA256 of the body>`).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from engine.base.errors import LoomError

if TYPE_CHECKING:
    from engine.base.settings import Settings

#: The secret's shipped placeholder: keys derived from it would be guessable, so none are issued.
PLACEHOLDER_SECRET = "change-me"


class InboundNotConfigured(LoomError):
    """LOOM_WEBHOOK_SECRET is not set, so no inbound rule can be called."""

    code = "forbidden"

    def __init__(self) -> None:
        super().__init__("inbound rules are switched off: set LOOM_WEBHOOK_SECRET to a long random value")


def inbound_key(settings: Settings, rule_name: str) -> str:
    """The key that lets an outside system call `rule_name`."""
    secret = settings.inbound_secret
    if not secret or secret == PLACEHOLDER_SECRET:
        raise InboundNotConfigured()
    return hmac.new(secret.encode(), f"inbound:{rule_name}".encode(), hashlib.sha256).hexdigest()


def inbound_call_allowed(
    settings: Settings, rule_name: str, *, key: str | None, body: bytes, signature: str | None
) -> bool:
    """Whether a call carries the rule's key, or a body signature made with it (compared in constant time)."""
    expected = inbound_key(settings, rule_name)
    if key:
        return hmac.compare_digest(expected.encode(), key.encode())
    if signature:
        digest = hmac.new(expected.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"sha256={digest}".encode(), signature.encode())
    return False
