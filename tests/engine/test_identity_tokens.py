"""API tokens: shown once, stored only as a hash, refused the moment they are revoked."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import JSON, String, Text, select

from engine.base.actors import SYSTEM
from engine.identity import (
    AuthenticationFailed,
    UserDisabled,
    actor_for,
    create_department,
    create_token,
    create_user,
    disable_user,
    list_tokens,
    revoke_token,
    verify_token,
)
from engine.loom import Loom
from engine.schema.changes import apply_objects
from engine.store.system_tables import api_tokens, audit_log
from metadata.roles import RoleSpec


@pytest.fixture
def user(loom: Loom) -> dict:
    return create_user(loom, "erp.bot", "ERP 同步", actor=SYSTEM)


def test_a_token_identifies_its_user(loom: Loom, user: dict) -> None:
    token, row = create_token(loom, user["id"], "ERP sync", actor=SYSTEM)
    assert token.startswith("loom_") and len(token) == 48
    assert row["prefix"] == token[5:13] and "token_hash" not in row
    actor = verify_token(loom, token)
    assert (actor.user_id, actor.name) == (user["id"], "ERP 同步")


def test_a_tokens_actor_has_every_role_and_the_department_of_its_user(loom: Loom) -> None:
    apply_objects(
        loom, [], roles=[RoleSpec.from_json({"name": n, "label": {"en": n}}) for n in ("sales", "finance")]
    )
    team = create_department(
        loom, "上海销售一部", create_department(loom, "华东大区", actor=SYSTEM)["id"], actor=SYSTEM
    )
    bot = create_user(
        loom,
        "erp.bot",
        "ERP 同步",
        locale="en",
        department_id=team["id"],
        roles=["sales", "finance"],
        actor=SYSTEM,
    )
    token, _ = create_token(loom, bot["id"], "ERP sync", actor=SYSTEM)

    actor = verify_token(loom, token)

    assert actor == actor_for(loom, bot["id"])
    assert actor.roles == {"sales", "finance"}
    assert (actor.department_id, actor.department_path, actor.locale) == (team["id"], team["path"], "en")


def test_the_token_itself_is_stored_nowhere(loom: Loom, user: dict) -> None:
    token, row = create_token(loom, user["id"], "ERP sync", actor=SYSTEM)
    verify_token(loom, token)
    revoke_token(loom, row["id"], actor=SYSTEM)
    secret = token.removeprefix("loom_")
    found = []
    with loom.read() as conn:
        for table in (api_tokens, audit_log):
            text_columns = [c for c in table.c if isinstance(c.type, String | Text | JSON)]
            for values in conn.execute(select(*text_columns)):
                found += [value for value in values if value is not None and secret in str(value)]
        stored = conn.execute(select(api_tokens.c.token_hash)).scalar_one()
    assert found == []
    assert stored == hashlib.sha256(token.encode()).hexdigest()


def test_a_revoked_token_is_refused_at_once(loom: Loom, user: dict) -> None:
    token, row = create_token(loom, user["id"], "ERP sync", actor=SYSTEM)
    verify_token(loom, token)
    revoked = revoke_token(loom, row["id"], actor=SYSTEM)
    assert revoked["revoked_at"] == loom.clock.now()
    with pytest.raises(AuthenticationFailed, match="the API token is not valid"):
        verify_token(loom, token)


def test_a_disabled_users_token_is_refused_at_once(loom: Loom, user: dict) -> None:
    token, _ = create_token(loom, user["id"], "ERP sync", actor=SYSTEM)
    disable_user(loom, user["id"], actor=SYSTEM)
    with pytest.raises(AuthenticationFailed) as refused:
        verify_token(loom, token)
    assert refused.value.code == "unauthenticated"
    with pytest.raises(UserDisabled):
        create_token(loom, user["id"], "another", actor=SYSTEM)


@pytest.mark.parametrize("token", ["", "loom_", "loom_not-a-real-token", "Bearer loom_x", "x" * 5000])
def test_malformed_or_unknown_tokens_get_the_same_answer(loom: Loom, token: str) -> None:
    with pytest.raises(AuthenticationFailed, match="the API token is not valid"):
        verify_token(loom, token)


def test_last_used_is_written_at_most_once_a_minute(loom: Loom, user: dict) -> None:
    token, _ = create_token(loom, user["id"], "ERP sync", actor=SYSTEM)
    start = loom.clock.now()
    verify_token(loom, token)
    loom.clock.set(start + timedelta(seconds=30))
    verify_token(loom, token)
    assert list_tokens(loom, user["id"])[0]["last_used_at"] == start
    loom.clock.set(start + timedelta(seconds=61))
    verify_token(loom, token)
    assert list_tokens(loom, user["id"])[0]["last_used_at"] == start + timedelta(seconds=61)


def test_list_tokens_leaves_out_the_hash_and_can_skip_revoked_ones(loom: Loom, user: dict) -> None:
    _, first = create_token(loom, user["id"], "ERP sync", actor=SYSTEM)
    _, second = create_token(loom, user["id"], "BI export", actor=SYSTEM)
    revoke_token(loom, first["id"], actor=SYSTEM)
    assert [t["name"] for t in list_tokens(loom, user["id"])] == ["ERP sync", "BI export"]
    assert [t["id"] for t in list_tokens(loom, include_revoked=False)] == [second["id"]]
    assert all("token_hash" not in t for t in list_tokens(loom))
