"""The webhook signature: HMAC-SHA256 of the exact request body, sent as `sha256=<hex>`."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Loom-Signature"


def sign(body: bytes, secret: str) -> str:
    """The X-Loom-Signature value for a body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str, secret: str) -> bool:
    """What a receiver does: recompute over the raw bytes it received and compare in constant time."""
    return hmac.compare_digest(sign(body, secret), signature.strip())
