"""Users: usernames, password hashing, roles, managers, disabling, and the Actor a user acts as."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from engine.base.actors import SYSTEM
from engine.identity import (
    DepartmentNotFound,
    IdentityInvalid,
    UserDisabled,
    UsernameTaken,
    UserNotFound,
    actor_for,
    add_role,
    create_department,
    create_token,
    create_user,
    disable_user,
    enable_user,
    get_user,
    list_tokens,
    list_users,
    remove_role,
    set_manager,
    set_password,
    set_roles,
    user_by_username,
)
from engine.identity.passwords import needs_rehash, verify_password
from engine.loom import Loom
from engine.schema.changes import apply_objects
from engine.store.system_tables import audit_log, users
from metadata.roles import RoleSpec


def define_roles(loom: Loom, *names: str) -> None:
    roles = [RoleSpec.from_json({"name": name, "label": {"en": name}, "objects": {}}) for name in names]
    apply_objects(loom, [], roles=roles)


def stored_hash(loom: Loom, user_id: int) -> str | None:
    with loom.read() as conn:
        return conn.execute(select(users.c.password_hash).where(users.c.id == user_id)).scalar()


@pytest.mark.usefixtures("production_password_hashing")
def test_the_stored_password_is_an_argon2id_hash_that_verifies(loom: Loom) -> None:
    user = create_user(loom, "Li.Na", "李娜", "correct horse", actor=SYSTEM)
    stored = stored_hash(loom, user["id"])
    assert stored is not None and "correct horse" not in stored
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # RFC 9106's low-memory profile
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct horsE")
    assert "password_hash" not in user and user["has_password"] is True


@pytest.mark.usefixtures("production_password_hashing")
def test_a_hash_made_with_weaker_parameters_needs_rehashing() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("correct horse")
    assert needs_rehash(weak)
    assert verify_password(weak, "correct horse")  # still accepted until it is replaced


def test_usernames_are_stored_lower_case_and_unique_whatever_the_case(loom: Loom) -> None:
    user = create_user(loom, "  Wang.Fang@Example.cn ", "王芳", actor=SYSTEM)
    assert user["username"] == "wang.fang@example.cn"
    assert user_by_username(loom, "WANG.FANG@example.CN")["id"] == user["id"]
    with pytest.raises(UsernameTaken, match="already taken"):
        create_user(loom, "wang.fang@EXAMPLE.cn", "另一个", actor=SYSTEM)


@pytest.mark.parametrize("username", ["ab", "x" * 151, "zhang wei", "张伟", "a/b", ""])
def test_usernames_outside_the_allowed_characters_are_refused(loom: Loom, username: str) -> None:
    with pytest.raises(IdentityInvalid, match="3 to 150 characters"):
        create_user(loom, username, "名字", actor=SYSTEM)


def test_a_short_password_is_refused_with_a_clear_message_that_does_not_echo_it(loom: Loom) -> None:
    with pytest.raises(IdentityInvalid) as refused:
        create_user(loom, "short.pw", "短", "abc123", actor=SYSTEM)
    assert "at least 8 characters" in refused.value.message
    assert "abc123" not in refused.value.message
    assert list_users(loom) == []  # nothing was created


def test_set_password_replaces_the_hash_and_the_audit_never_holds_the_password(loom: Loom) -> None:
    user = create_user(loom, "zhao.lei", "赵磊", "first password", actor=SYSTEM)
    set_password(loom, user["id"], "second password", actor=SYSTEM)
    assert verify_password(stored_hash(loom, user["id"]), "second password")
    with loom.read() as conn:
        audit = conn.execute(select(audit_log).where(audit_log.c.object == "loom_users")).all()
    assert [row.action for row in audit] == ["create", "set_password"]
    assert not any("password" in str(row.changes) for row in audit)


def test_roles_are_set_added_and_removed_and_must_be_defined(loom: Loom) -> None:
    define_roles(loom, "sales", "sales_manager", "finance")
    user = create_user(loom, "sun.li", "孙丽", roles=["sales"], actor=SYSTEM)
    assert user["roles"] == ["sales"]
    assert set_roles(loom, user["id"], ["finance", "sales_manager", "finance"], actor=SYSTEM) == [
        "finance",
        "sales_manager",
    ]
    assert add_role(loom, user["id"], "sales", actor=SYSTEM) == ["finance", "sales", "sales_manager"]
    assert remove_role(loom, user["id"], "finance", actor=SYSTEM) == ["sales", "sales_manager"]
    with pytest.raises(IdentityInvalid, match=r"unknown role.*salse.*the roles are: finance, sales"):
        set_roles(loom, user["id"], ["salse"], actor=SYSTEM)
    assert get_user(loom, user["id"])["roles"] == ["sales", "sales_manager"]


def test_actor_for_carries_roles_department_path_and_locale(loom: Loom) -> None:
    define_roles(loom, "sales")
    region = create_department(loom, "华东大区", actor=SYSTEM)
    team = create_department(loom, "上海销售一部", region["id"], actor=SYSTEM)
    user = create_user(
        loom, "zhou.jie", "周杰", locale="en", department_id=team["id"], roles=["sales"], actor=SYSTEM
    )
    actor = actor_for(loom, user["id"])
    assert (actor.user_id, actor.name, actor.roles, actor.locale) == (user["id"], "周杰", {"sales"}, "en")
    assert actor.department_id == team["id"]
    assert actor.department_path == f"/{region['id']}/{team['id']}/"
    assert not actor.is_system


def test_a_disabled_user_cannot_act_and_loses_every_token(loom: Loom) -> None:
    user = create_user(loom, "qian.bo", "钱波", actor=SYSTEM)
    create_token(loom, user["id"], "ERP sync", actor=SYSTEM)
    create_token(loom, user["id"], "BI export", actor=SYSTEM)
    disabled = disable_user(loom, user["id"], actor=SYSTEM)
    assert disabled["active"] is False and disabled["disabled_at"] == loom.clock.now()
    assert all(token["revoked_at"] == loom.clock.now() for token in list_tokens(loom, user["id"]))
    with pytest.raises(UserDisabled, match=r"'qian\.bo' is disabled"):
        actor_for(loom, user["id"])
    enabled = enable_user(loom, user["id"], actor=SYSTEM)
    assert enabled["active"] is True and enabled["disabled_at"] is None
    assert actor_for(loom, user["id"]).user_id == user["id"]
    assert all(token["revoked_at"] is not None for token in list_tokens(loom, user["id"]))


def test_managers_cannot_form_a_loop(loom: Loom) -> None:
    boss = create_user(loom, "boss", "老板", actor=SYSTEM)
    middle = create_user(loom, "middle", "经理", manager_id=boss["id"], actor=SYSTEM)
    rep = create_user(loom, "rep", "销售", manager_id=middle["id"], actor=SYSTEM)
    with pytest.raises(IdentityInvalid, match="loop"):
        set_manager(loom, boss["id"], rep["id"], actor=SYSTEM)
    with pytest.raises(IdentityInvalid, match="loop"):
        set_manager(loom, rep["id"], rep["id"], actor=SYSTEM)
    assert set_manager(loom, rep["id"], None, actor=SYSTEM)["manager_id"] is None


def test_unknown_users_and_departments_are_named_in_the_error(loom: Loom) -> None:
    with pytest.raises(UserNotFound, match="no user with id 999"):
        get_user(loom, 999)
    with pytest.raises(UserNotFound, match="no user named 'nobody'"):
        user_by_username(loom, "nobody")
    with pytest.raises(DepartmentNotFound, match="no department with id 42"):
        create_user(loom, "lost", "迷路", department_id=42, actor=SYSTEM)
