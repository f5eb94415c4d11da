"""Every response tells the browser not to be framed, not to sniff types, to run only Loom's own
scripts, and not to leak the page address to other sites."""

from __future__ import annotations

import pytest

from engine.loom import Loom
from tests.runtime.pages_world import build_team


@pytest.mark.parametrize("path", ["/login", "/", "/app/customer", "/api/v1/openapi.json", "/no-such-page"])
def test_pages_and_the_api_send_the_security_headers(crm: Loom, path: str) -> None:
    client = build_team(crm).client("wang.fang")
    headers = client.get(path).headers
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("style-src-attr")[0]  # no inline script or style sheet
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
