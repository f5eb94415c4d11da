"""`loom user`, `role`, `department`, `handover` and `token` as an administrator runs them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from engine.base.actors import SYSTEM
from engine.identity import authenticate, user_by_username, verify_token
from engine.identity.errors import AuthenticationFailed
from engine.loom import Loom
from runtime.cli.group import cli


@pytest.fixture
def database(crm_database_url: str) -> str:
    """A database with the CRM package (and its roles) installed, as `loom install` would leave it."""
    return crm_database_url


@pytest.fixture
def engine(database: str) -> Iterator[Loom]:
    loom = Loom(database)
    yield loom
    loom.close()


def run(database: str, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--database", database, *args], input=input, catch_exceptions=False)


def test_user_create_asks_for_the_password_twice_and_never_prints_it(database: str, engine: Loom) -> None:
    result = run(
        database,
        "user",
        "create",
        "Zhang.Wei",
        "--name",
        "张伟",
        "--role",
        "sales_rep",
        input="秘密密码-one\nmismatch-pw\n秘密密码-one\n秘密密码-one\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert "秘密密码-one" not in result.output
    assert "created user zhang.wei (id 1, sales_rep)" in result.output
    assert authenticate(engine, "zhang.wei", "秘密密码-one").roles == {"sales_rep"}


def test_bad_input_fails_with_the_reason_and_creates_nobody(database: str, engine: Loom) -> None:
    short = run(database, "user", "create", "li.na", "--password", "short")
    assert short.exit_code == 1
    assert "error: the password must be at least 8 characters long" in short.output
    unknown_role = run(database, "user", "create", "li.na", "--no-password", "--role", "boss")
    assert unknown_role.exit_code == 1
    assert "unknown role(s) boss; the roles are: admin, ceo, finance," in unknown_role.output
    bad_name = run(database, "user", "create", "李娜")  # refused before any password prompt
    assert bad_name.exit_code == 1 and "Password" not in bad_name.output
    assert "li.na" not in run(database, "user", "list").output


def test_departments_users_roles_and_the_lists_that_show_them(database: str) -> None:
    assert run(database, "department", "create", "华东大区").exit_code == 0
    assert (
        run(database, "user", "create", "region.head", "--no-password", "--department", "华东大区").exit_code
        == 0
    )
    created = run(
        database, "department", "create", "上海销售部", "--parent", "华东大区", "--head", "region.head"
    )
    assert created.exit_code == 0, created.output
    made = run(
        database,
        "user",
        "create",
        "wang.fang",
        "--no-password",
        "--department",
        "上海销售部",
        "--role",
        "sales_rep",
    )
    assert made.exit_code == 0, made.output

    tree = run(database, "department", "list").output.splitlines()
    assert tree == [
        "华东大区 (id 1, 1 member(s))",
        "  上海销售部 (id 2, 1 member(s), head region.head)",
    ]
    listing = run(database, "user", "list").output
    assert "wang.fang" in listing and "上海销售部" in listing and "sales_rep" in listing

    assert (
        run(database, "user", "roles", "wang.fang", "admin", "sales_rep").output
        == "wang.fang: admin, sales_rep\n"
    )
    assert run(database, "user", "roles", "wang.fang").output == "wang.fang: admin, sales_rep\n"
    roles = run(database, "role", "list").output
    assert "admin" in roles and "(admin)" in roles
    assert "sales_rep" in roles and "1 user(s)  销售代表" in roles
    assert run(database, "user", "roles", "wang.fang", "--clear").output == "wang.fang: no roles\n"


def test_set_password_disable_and_enable(database: str, engine: Loom) -> None:
    run(database, "user", "create", "zhao.lei", "--no-password")
    changed = run(database, "user", "set-password", "ZHAO.LEI", input="new password 1\nnew password 1\n")
    assert changed.exit_code == 0 and "password of zhao.lei changed" in changed.output
    assert authenticate(engine, "zhao.lei", "new password 1").name == "zhao.lei"

    run(database, "token", "create", "zhao.lei", "ERP sync")
    disabled = run(database, "user", "disable", "zhao.lei")
    assert "disabled zhao.lei; 1 API token(s) revoked" in disabled.output
    assert "loom handover zhao.lei NEW_OWNER" in disabled.output
    assert "disabled" in run(database, "user", "list").output
    with pytest.raises(AuthenticationFailed):
        authenticate(engine, "zhao.lei", "new password 1")
    assert run(database, "user", "enable", "zhao.lei").output == "enabled zhao.lei\n"


def test_handover_prints_what_moved(database: str, engine: Loom) -> None:
    run(database, "user", "create", "leaving", "--no-password")
    run(database, "user", "create", "taking", "--no-password")
    owner = user_by_username(engine, "leaving")["id"]
    engine.records(SYSTEM).bulk_create("customer", [{"name": f"客户{i}", "owner": owner} for i in range(3)])
    engine.records(SYSTEM).create("lead", {"name": "王先生", "owner": owner})

    only = run(database, "handover", "leaving", "taking", "--object", "lead")
    assert only.output.split() == ["lead", "1", "1", "record(s)", "handed", "over", "to", "taking"]
    rest = run(database, "handover", "leaving", "taking")
    assert "customer" in rest.output and "3 record(s) handed over to taking" in rest.output
    run(database, "user", "disable", "leaving")
    refused = run(database, "handover", "taking", "leaving")
    assert refused.exit_code == 1 and "'leaving' is disabled and cannot receive records" in refused.output


def test_a_token_is_printed_once_and_revoking_it_takes_effect_at_once(database: str, engine: Loom) -> None:
    run(database, "user", "create", "erp.bot", "--no-password")
    created = CliRunner().invoke(cli, ["--database", database, "token", "create", "erp.bot", "ERP sync"])
    token = created.stdout.strip()
    assert token.startswith("loom_") and "cannot be shown again" in created.stderr
    assert verify_token(engine, token).name == "erp.bot"
    listing = run(database, "token", "list", "erp.bot").output
    assert f"loom_{token[5:13]}…" in listing and token not in listing and "active" in listing
    assert run(database, "token", "revoke", "1").output == "token 1 (ERP sync) revoked\n"
    with pytest.raises(AuthenticationFailed):
        verify_token(engine, token)
    missing = run(database, "token", "revoke", "99")
    assert missing.exit_code == 1 and "no API token with id 99" in missing.output
