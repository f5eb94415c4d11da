"""The industry templates in examples/, installed on top of the standard CRM."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.loom import Loom
from engine.packages.install import install_package
from tests.engine.flow_world import World, build_world

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def manufacturing(crm: Loom) -> Loom:
    install_package(crm, EXAMPLES / "manufacturing_service")
    return crm


@pytest.fixture
def saas(crm: Loom) -> Loom:
    install_package(crm, EXAMPLES / "saas_subscriptions")
    return crm


@pytest.fixture
def saas_world(saas: Loom) -> World:
    """The flow tests' small company (reps, their manager, finance) on the SaaS template."""
    return build_world(saas)
