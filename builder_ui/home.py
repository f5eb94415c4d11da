"""The builder's front page: what an administrator can build here."""

from __future__ import annotations

from flask import render_template

from builder_ui.blueprint import blueprint
from runtime.web.auth import current_loom


@blueprint.get("/")
def home() -> str:
    registry = current_loom().registry
    return render_template(
        "builder/home.html", objects=sorted(registry.objects), roles=sorted(registry.roles)
    )
