"""The builder's tests: a team of users on the CRM, and an administrator, with /builder mounted."""

from __future__ import annotations

import pytest

import builder_ui
from engine import SYSTEM, Loom, identity
from tests.runtime.pages_world import PASSWORD, Team, build_team


@pytest.fixture
def team(crm: Loom) -> Team:
    """The pages' team (张经理, 王芳, 李娜, 赵财务) and an administrator, guan.li."""
    team = build_team(crm)
    if "builder" not in team.app.blueprints:
        # A checkout not (re)installed since the builder's entry point was added.
        builder_ui.register(team.app)
    admin = identity.create_user(crm, "guan.li", "管理员", PASSWORD, roles=["admin"], actor=SYSTEM)
    team.ids["guan.li"] = admin["id"]
    return team
