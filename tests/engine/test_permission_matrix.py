"""The CRM's own roles, as a matrix: role × object × operation × whose record, through RecordService.

What each cell should be is read from the role documents with a small independent table of
what a scope covers; what each cell is comes from really trying the operation.
"""

from __future__ import annotations

from datetime import datetime
from itertools import count
from typing import Any

import pytest

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import RecordInvalid, RecordNotFound
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.store.system_tables import departments, users

T0 = datetime(2026, 11, 26, 1, 0)
ME, COLLEAGUE, BELOW, OTHER = 101, 102, 103, 104
WHOSE = {"own": ME, "colleague": COLLEAGUE, "below": BELOW, "other": OTHER}
# What each scope covers, by whose record it is (me in 销售部; the sub-department 华东组; 客服部).
COVERS = {
    None: set(),
    "own": {"own"},
    "department": {"own", "colleague"},
    "department_and_below": {"own", "colleague", "below"},
    "all": {"own", "colleague", "below", "other"},
}
SAMPLE = {"text": "x", "long_text": "x", "currency": "1", "phone": "13800138000", "date": "2026-01-01"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One SQLite database with the CRM, the org chart and one record of every object per owner."""
    from engine.packages.install import CRM_PACKAGE, install_package

    loom = Loom(f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'loom.db'}")
    loom.clock.set(T0)
    loom.init()
    install_package(loom, CRM_PACKAGE)
    with loom.begin() as conn:
        for dept_id, name, path in ((1, "销售部", "/1/"), (2, "华东组", "/1/2/"), (3, "客服部", "/3/")):
            conn.execute(departments.insert().values(id=dept_id, name=name, path=path, created_at=T0))
        for user_id, dept in ((ME, 1), (COLLEAGUE, 1), (BELOW, 2), (OTHER, 3)):
            conn.execute(
                users.insert().values(
                    id=user_id,
                    username=f"u{user_id}",
                    display_name=f"u{user_id}",
                    active=True,
                    created_at=T0,
                    department_id=dept,
                )
            )
    registry = loom.registry
    made: dict[tuple[str, str], int] = {}
    serial = count()

    def make(object_name: str, whose: str) -> int:
        if (object_name, whose) not in made:
            values: dict[str, Any] = {"owner": WHOSE[whose]}
            for spec in registry.object(object_name).spec.fields:
                if spec.required and spec.default is None:
                    values[spec.name] = (
                        make(spec.param("target"), whose)
                        if spec.type == "lookup"
                        else SAMPLE[spec.type] + (str(next(serial)) if spec.type == "text" else "")
                    )
                    if spec.param("pattern"):  # codes such as product codes: capitals and digits
                        values[spec.name] = f"X{next(serial)}"
            made[(object_name, whose)] = loom.records(SYSTEM).create(object_name, values)["id"]
        return made[(object_name, whose)]

    for object_name in registry.objects:
        for whose in WHOSE:
            make(object_name, whose)
    yield loom, made
    loom.close()


def cells() -> list[tuple[str, str]]:
    """Each non-admin role of the CRM with each object it is granted, read from the role documents
    (the installed registry the tests check against is built from the same documents)."""
    from engine.packages.install import CRM_PACKAGE
    from metadata.loading import read_package
    from metadata.roles import RoleSpec

    roles = [RoleSpec.from_json(doc.body) for doc in read_package(CRM_PACKAGE).of_kind("role")]
    return [(role.name, obj) for role in roles if not role.admin for obj in sorted(role.objects)]


def actor(role: str) -> Actor:
    return Actor.user(ME, "me", {role}, department_id=1, department_path="/1/")


def expected(loom: Loom, role: str, object_name: str, operation: str) -> set[str]:
    spec = loom.registry.roles[role]
    scope = spec.objects[object_name].scope(operation)
    sharing = loom.registry.object(object_name).spec.sharing
    if scope is not None and (
        (operation == "read" and sharing in ("read", "edit")) or (operation == "update" and sharing == "edit")
    ):
        scope = "all"
    return COVERS[scope]


def tried(call) -> bool:  # type: ignore[no-untyped-def]
    try:
        call()
    except (RecordNotFound, PermissionDenied):
        return False
    except RecordInvalid:
        return True  # allowed in, refused only for the values (e.g. a read-only field)
    return True


@pytest.mark.parametrize(("role", "object_name"), cells())
def test_the_crm_roles_do_what_their_documents_say(world, role: str, object_name: str) -> None:  # type: ignore[no-untyped-def]
    loom, made = world
    who = actor(role)
    records = loom.records(who)
    readable = {w for w in WHOSE if tried(lambda w=w: records.get(object_name, made[(object_name, w)]))}
    assert readable == expected(loom, role, object_name, "read"), "read"
    listed = set()
    if readable:
        ids = {r["id"] for r in loom.queries(who).find(object_name, limit=500).records}
        listed = {w for w in WHOSE if made[(object_name, w)] in ids}
    assert listed == readable, "list"
    changeable = {
        w for w in WHOSE if tried(lambda w=w: records.update(object_name, made[(object_name, w)], {}))
    }
    assert changeable == expected(loom, role, object_name, "update") & readable, "update"
    can_create = loom.registry.roles[role].objects[object_name].scope("create") is not None
    assert tried(lambda: records.create(object_name, {})) == can_create, "create"


def test_every_crm_role_and_object_is_in_the_matrix() -> None:
    pairs = cells()
    assert {role for role, _ in pairs} == {
        "sales_manager",
        "sales_rep",
        "service_agent",
        "finance",
        "legal",
        "ceo",
    }
    assert len(pairs) >= 30
