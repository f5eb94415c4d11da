"""The pages: one blueprint, `pages`, and the modules that add their views to it (public forms
have their own blueprint, in public.py)."""

from __future__ import annotations

from runtime.web.pages import (
    approvals,
    dashboards,
    detail,
    export,
    files,
    forms,
    home,
    imports,
    kanban,
    lead_convert,
    lists,
    locale,
    lookup,
    notifications,
    record_actions,
    recycle,
    reports,
    signin,
)
from runtime.web.pages.blueprint import blueprint

__all__ = [
    "approvals",
    "blueprint",
    "dashboards",
    "detail",
    "export",
    "files",
    "forms",
    "home",
    "imports",
    "kanban",
    "lead_convert",
    "lists",
    "locale",
    "lookup",
    "notifications",
    "record_actions",
    "recycle",
    "reports",
    "signin",
]
