"""Drafts: a document saved without publishing, valid or not, kept apart from the installed metadata."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete

from engine.base.actors import Actor
from engine.base.errors import InvalidMetadata
from engine.loom import Loom
from engine.packages.export import export_package
from engine.schema.changes import apply_objects
from engine.store.documents import get_document, load_documents, metadata_version, revisions
from engine.store.drafts import delete_draft, get_draft, list_drafts, save_draft
from engine.store.system_tables import metadata_drafts
from metadata.flows import FlowSpec
from tests.engine.flow_world import simple_flow

ADMIN = Actor.user(7, "管理员", {"admin"})
# Not a flow anyone could publish: no object, a node pointing nowhere.
BROKEN = {"name": "half_done", "start": "a", "nodes": {"a": {"type": "approval", "next": "nowhere"}}}


def test_a_draft_that_would_not_validate_is_kept_as_saved_with_who_and_when(crm: Loom) -> None:
    at = crm.clock.now()
    with crm.begin() as conn:
        save_draft(conn, "flow", "half_done", BROKEN, actor=ADMIN, at=at)
    with crm.read() as conn:
        draft = get_draft(conn, "flow", "half_done")
    assert draft is not None
    assert (draft.kind, draft.name, draft.body) == ("flow", "half_done", BROKEN)
    assert (draft.saved_by, draft.saved_at) == (7, at)


def test_saving_again_replaces_the_draft_and_delete_forgets_it(crm: Loom) -> None:
    at = crm.clock.now()
    with crm.begin() as conn:
        save_draft(conn, "rule", "vip_follow_up", {"name": "vip_follow_up"}, actor=ADMIN, at=at)
        save_draft(
            conn,
            "rule",
            "vip_follow_up",
            {"name": "vip_follow_up", "active": False},
            actor=ADMIN,
            at=at + timedelta(minutes=5),
        )
        save_draft(conn, "flow", "half_done", BROKEN, actor=ADMIN, at=at)
    with crm.read() as conn:
        assert [(d.kind, d.name) for d in list_drafts(conn)] == [
            ("flow", "half_done"),
            ("rule", "vip_follow_up"),
        ]
        [rule] = list_drafts(conn, "rule")
    assert rule.body == {"name": "vip_follow_up", "active": False}
    assert rule.saved_at == at + timedelta(minutes=5)

    with crm.begin() as conn:
        delete_draft(conn, "rule", "vip_follow_up")
        delete_draft(conn, "rule", "never_saved")
    with crm.read() as conn:
        assert get_draft(conn, "rule", "vip_follow_up") is None
        assert [d.name for d in list_drafts(conn)] == ["half_done"]


def test_a_draft_is_not_installed_metadata_nor_a_revision_nor_exported(crm: Loom, tmp_path: Path) -> None:
    with crm.read() as conn:
        version = metadata_version(conn)
        revision_count = len(revisions(conn))
    body = simple_flow("draft_review", approvers=[{"role": "ceo"}]).to_json()
    with crm.begin() as conn:
        save_draft(conn, "flow", "draft_review", body, actor=ADMIN, at=crm.clock.now())

    with crm.read() as conn:
        assert get_document(conn, "flow", "draft_review") is None
        assert metadata_version(conn) == version
        assert len(revisions(conn)) == revision_count
    assert "draft_review" not in crm.registry.flows
    written = export_package(crm, "crm", tmp_path / "crm")
    assert not [path for path in written if "draft_review" in str(path)]
    assert "draft_review" not in "".join(p.read_text() for p in (tmp_path / "crm").rglob("*.json"))


def test_publishing_a_draft_removes_it_in_the_same_transaction(crm: Loom) -> None:
    spec = simple_flow("draft_review", approvers=[{"role": "ceo"}])
    with crm.begin() as conn:
        save_draft(conn, "flow", "draft_review", spec.to_json(), actor=ADMIN, at=crm.clock.now())
    apply_objects(
        crm,
        [],
        flows=[spec],
        actor=ADMIN,
        before_commit=lambda conn: delete_draft(conn, "flow", "draft_review"),
    )
    with crm.read() as conn:
        assert get_draft(conn, "flow", "draft_review") is None
        assert get_document(conn, "flow", "draft_review") is not None
        assert [doc.name for doc in load_documents(conn, "flow") if doc.name == "draft_review"]


def test_a_refused_publish_keeps_the_draft(crm: Loom) -> None:
    with crm.begin() as conn:
        save_draft(conn, "flow", "half_done", BROKEN, actor=ADMIN, at=crm.clock.now())
    broken = dict(BROKEN, object="contract")
    with pytest.raises(InvalidMetadata):
        apply_objects(
            crm,
            [],
            flows=[FlowSpec.from_json(broken)],
            actor=ADMIN,
            before_commit=lambda conn: delete_draft(conn, "flow", "half_done"),
        )
    with crm.read() as conn:
        assert get_draft(conn, "flow", "half_done") is not None


@pytest.mark.parametrize(
    ("kind", "name", "body"),
    [
        ("flow", "x" * 101, {}),
        ("", "a", {}),
        ("flow", "a", ["not", "an", "object"]),
        ("flow", "a", {"n": float("nan")}),
    ],
)
def test_a_draft_that_cannot_be_stored_is_refused_with_a_reason(
    crm: Loom, kind: str, name: str, body: object
) -> None:
    with crm.begin() as conn, pytest.raises(InvalidMetadata) as refused:
        save_draft(conn, kind, name, body, actor=ADMIN, at=crm.clock.now())  # type: ignore[arg-type]
    assert refused.value.problems


def test_a_database_made_before_drafts_gets_the_table_on_init(loom: Loom) -> None:
    with loom.begin() as conn:
        metadata_drafts.drop(conn)
    loom.init()
    with loom.begin() as conn:
        save_draft(conn, "flow", "late", {"name": "late"}, actor=ADMIN, at=loom.clock.now())
        conn.execute(delete(metadata_drafts))
