"""Signing in: one answer for every failure, throttling by username and address, rehashing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import insert, select, update

from engine.base.actors import SYSTEM
from engine.identity import (
    AuthenticationFailed,
    LoginThrottled,
    authenticate,
    create_user,
    disable_user,
)
from engine.identity.passwords import needs_rehash, verify_password
from engine.loom import Loom
from engine.store.system_tables import login_attempts, users

PASSWORD = "春眠不觉晓-2026"


@pytest.fixture
def user(loom: Loom) -> dict:
    return create_user(loom, "liu.yang", "刘洋", PASSWORD, actor=SYSTEM)


def attempts(loom: Loom) -> list[tuple[str, str | None, bool]]:
    with loom.read() as conn:
        query = select(login_attempts.c.username, login_attempts.c.remote, login_attempts.c.succeeded)
        return [tuple(row) for row in conn.execute(query.order_by(login_attempts.c.id))]


def fail_times(loom: Loom, username: str, times: int, remote: str | None = None) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed):
            authenticate(loom, username, "wrong password", remote)


def test_the_right_password_gives_the_users_actor(loom: Loom, user: dict) -> None:
    actor = authenticate(loom, "  LIU.yang ", PASSWORD, "10.0.0.7")
    assert (actor.user_id, actor.name) == (user["id"], "刘洋")
    assert attempts(loom) == [("liu.yang", "10.0.0.7", True)]


def test_unknown_user_wrong_password_and_disabled_user_get_the_same_answer(loom: Loom, user: dict) -> None:
    other = create_user(loom, "gone", "离职", PASSWORD, actor=SYSTEM)
    disable_user(loom, other["id"], actor=SYSTEM)
    messages = set()
    for username, password in (("nobody", PASSWORD), ("liu.yang", "wrong password"), ("gone", PASSWORD)):
        with pytest.raises(AuthenticationFailed) as failed:
            authenticate(loom, username, password)
        assert failed.value.code == "unauthenticated"
        messages.add(failed.value.message)
    assert messages == {"username or password is wrong"}
    assert [succeeded for _, _, succeeded in attempts(loom)] == [False, False, False]


def test_a_user_without_a_password_cannot_sign_in(loom: Loom) -> None:
    create_user(loom, "integration", "集成账号", actor=SYSTEM)
    with pytest.raises(AuthenticationFailed):
        authenticate(loom, "integration", "")


def test_the_sixth_attempt_is_refused_even_with_the_right_password_until_15_minutes_pass(
    loom: Loom, user: dict
) -> None:
    fail_times(loom, "liu.yang", 5)
    with pytest.raises(LoginThrottled) as throttled:
        authenticate(loom, "liu.yang", PASSWORD)
    assert throttled.value.code == "throttled"
    assert throttled.value.retry_at == loom.clock.now() + timedelta(minutes=15)
    assert throttled.value.retry_after == 15 * 60
    # 09:15 UTC is 17:15 in the instance's time zone (Asia/Shanghai), which is what people read.
    assert "try again after 2026-11-26 17:15:00 (Asia/Shanghai)" in throttled.value.message
    assert len(attempts(loom)) == 6  # the refused attempt is recorded too

    loom.clock.set(loom.clock.now() + timedelta(minutes=14, seconds=59))
    with pytest.raises(LoginThrottled):
        authenticate(loom, "liu.yang", PASSWORD)
    loom.clock.set(loom.clock.now() + timedelta(minutes=15))
    assert authenticate(loom, "liu.yang", PASSWORD).user_id == user["id"]


def test_an_unknown_username_is_throttled_like_a_real_one(loom: Loom) -> None:
    fail_times(loom, "no.such.user", 5)
    with pytest.raises(LoginThrottled):
        authenticate(loom, "no.such.user", "anything at all")


def test_a_successful_sign_in_clears_the_failures_before_it(loom: Loom, user: dict) -> None:
    fail_times(loom, "liu.yang", 4)
    authenticate(loom, "liu.yang", PASSWORD)
    fail_times(loom, "liu.yang", 4)
    assert authenticate(loom, "liu.yang", PASSWORD).user_id == user["id"]


def test_twenty_failures_from_one_address_throttle_every_username_from_it(loom: Loom, user: dict) -> None:
    # Nineteen earlier failures as they were recorded (hashing each would only slow the test).
    seeded = [
        {"username": f"guess{index}", "remote": "203.0.113.9", "at": loom.clock.now(), "succeeded": False}
        for index in range(19)
    ]
    with loom.begin() as conn:
        conn.execute(insert(login_attempts), seeded)
    fail_times(loom, "guess19", 1, remote="203.0.113.9")
    with pytest.raises(LoginThrottled):
        authenticate(loom, "liu.yang", PASSWORD, "203.0.113.9")
    assert authenticate(loom, "liu.yang", PASSWORD, "198.51.100.1").user_id == user["id"]


def test_failures_older_than_15_minutes_do_not_count(loom: Loom, user: dict) -> None:
    fail_times(loom, "liu.yang", 4)
    loom.clock.set(loom.clock.now() + timedelta(minutes=16))
    fail_times(loom, "liu.yang", 4)
    assert authenticate(loom, "liu.yang", PASSWORD).user_id == user["id"]


@pytest.mark.usefixtures("production_password_hashing")
def test_signing_in_replaces_a_hash_made_with_weaker_parameters(loom: Loom, user: dict) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with loom.begin() as conn:
        conn.execute(update(users).where(users.c.id == user["id"]).values(password_hash=weak))
    authenticate(loom, "liu.yang", PASSWORD)
    with loom.read() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.id == user["id"])).scalar()
    assert stored != weak and not needs_rehash(stored) and verify_password(stored, PASSWORD)
