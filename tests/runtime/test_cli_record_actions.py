"""`loom pool claim|return`, `loom convert` and `loom transfer` as an administrator runs them."""

from __future__ import annotations

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from tests.runtime.test_cli import run


def test_a_rep_claims_returns_and_converts_from_the_command_line(crm_database_url: str) -> None:
    database_url = crm_database_url
    loom = Loom(database_url)
    loom.init()
    for username in ("wang.fang", "li.na"):
        identity.create_user(loom, username, username, "a-long-password-1", roles=["sales_rep"], actor=SYSTEM)
    lead = loom.records().create(
        "lead", {"name": "陈经理", "company": "苏州精密机械", "in_pool": True, "owner": None}
    )
    lead_id = str(lead["id"])

    claimed = run("pool", "claim", "lead", lead_id, "--as", "wang.fang", database=database_url)
    assert claimed.exit_code == 0 and f"claimed 1 lead record(s) for wang.fang: {lead_id}" in claimed.output
    refused = run("pool", "return", "lead", lead_id, "--as", "wang.fang", database=database_url)
    assert refused.exit_code == 1 and "say why" in refused.output
    back = run(
        "pool", "return", "lead", lead_id, "--as", "wang.fang", "--reason", "无需求", database=database_url
    )
    assert back.exit_code == 0
    assert run("pool", "claim", "lead", lead_id, "--as", "li.na", database=database_url).exit_code == 0

    converted = run(
        "convert", "lead", lead_id, "--as", "li.na", "--include", "opportunity",
        "--set", "opportunity.amount=50000", database=database_url,
    )  # fmt: skip
    assert converted.exit_code == 0, converted.output
    assert "customer 1 created" in converted.output and "opportunity 1 created" in converted.output
    twice = run("convert", "lead", lead_id, "--as", "li.na", database=database_url)
    assert twice.exit_code == 1 and "cannot be converted twice" in twice.output

    moved = run("transfer", "customer", "1", "wang.fang", database=database_url)
    assert moved.exit_code == 0 and "customer 1 now belongs to wang.fang" in moved.output
    assert (
        run("transfer", "customer", "1", "li.na", "--as", "wang.fang", database=database_url).exit_code == 1
    )
    loom.close()
