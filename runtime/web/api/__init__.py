"""The REST API: one blueprint, `api`, and the modules that add their routes to it."""

from __future__ import annotations

from runtime.web.api import (
    approvals,
    dashboards,
    files,
    meta,
    notifications,
    openapi,
    record_actions,
    records,
    reports,
    rules,
    tokens,
)
from runtime.web.api.blueprint import blueprint

__all__ = [
    "approvals",
    "blueprint",
    "dashboards",
    "files",
    "meta",
    "notifications",
    "openapi",
    "record_actions",
    "records",
    "reports",
    "rules",
    "tokens",
]
