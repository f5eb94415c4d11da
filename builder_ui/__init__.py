"""The builder at /builder: admins build objects, forms, lists, rules, reports and the organisation
in the browser (and users whose role allows it build their own reports).

It writes the same metadata documents as package files, through the engine's metadata services.
The web app finds it through the `loom.web` entry point group, so runtime/ never imports it.
"""

from __future__ import annotations

from flask import Flask

from builder_ui import (
    conditions,
    flows,
    forms,
    gallery,
    history,
    home,
    lists,
    objects,
    org,
    org_departments,
    org_handover,
    org_roles,
    packages,
    reports,
    rules,
    rules_trial,
)
from builder_ui.blueprint import blueprint

__all__ = [
    "blueprint",
    "conditions",
    "flows",
    "forms",
    "gallery",
    "history",
    "home",
    "lists",
    "objects",
    "org",
    "org_departments",
    "org_handover",
    "org_roles",
    "packages",
    "register",
    "reports",
    "rules",
    "rules_trial",
]


def register(app: Flask) -> None:
    """Mount the builder on a Loom web app (the `loom.web` entry point)."""
    app.register_blueprint(blueprint)
