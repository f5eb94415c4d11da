"""In-app notifications: written by rules as part of the save, read under the bell, marked read."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert

from engine.loom import Loom
from engine.rules.actions import ActionFailed
from engine.rules.runlog import runs_for_rule
from engine.schema.changes import apply_objects
from engine.store.system_tables import users
from engine.work.notifications import mark_read, notify, unread_count, unread_for
from metadata.rules import RuleSpec

NOW = datetime(2026, 11, 26, 9, 0)


def add_user(loom: Loom, username: str, *, active: bool = True) -> int:
    with loom.begin() as conn:
        result = conn.execute(
            insert(users).values(username=username, display_name=username, active=active, created_at=NOW)
        )
        return result.inserted_primary_key[0]


def install_rule(loom: Loom, doc: dict) -> None:
    apply_objects(loom, [], rules=[RuleSpec.from_json(doc)])


def open_ticket(loom: Loom, **values: object) -> dict:
    customer = loom.records().create("customer", {"name": "上海云杉科技"})
    return loom.records().create(
        "service_ticket", {"customer": customer["id"], "description": "上海云杉科技", **values}
    )


def ticket_rule(to: str, body: str | None = "'Customer: ' + coalesce(description, '')") -> dict:
    action = {"type": "notify", "to": to, "title": "'New ticket: ' + title"}
    if body is not None:
        action["body"] = body
    return {
        "name": "tell_about_new_ticket",
        "object": "service_ticket",
        "trigger": {"type": "on_create"},
        "actions": [action],
    }


def test_a_user_sees_their_unread_notifications_newest_first_and_marks_them_read(loom: Loom) -> None:
    zhang, li = add_user(loom, "zhang.wei"), add_user(loom, "li.na")
    with loom.begin() as conn:
        [first] = notify(conn, [zhang], "Lead assigned", None, "lead", 7, "rule:assign", NOW)
        second, for_li = notify(
            conn, [zhang, li, zhang], "Contract expires", "In 30 days", None, None, None, NOW
        )
    with loom.read() as conn:
        assert [n["title"] for n in unread_for(conn, zhang)] == ["Contract expires", "Lead assigned"]
        assert unread_for(conn, zhang)[1]["object"] == "lead" and unread_for(conn, zhang)[1]["record_id"] == 7
        assert unread_count(conn, li) == 1
    with loom.begin() as conn:
        assert mark_read(conn, zhang, [first, for_li], NOW) == 1  # li's notification is not zhang's to mark
    with loom.read() as conn:
        assert [n["id"] for n in unread_for(conn, zhang)] == [second]
        assert unread_count(conn, li) == 1


def test_the_owner_is_notified_when_a_rule_fires(crm: Loom) -> None:
    engineer = add_user(crm, "chen.jie")
    install_rule(crm, ticket_rule("owner"))
    ticket = open_ticket(crm, title="打印机卡纸", owner=engineer)
    with crm.read() as conn:
        [note] = unread_for(conn, engineer)
    assert (note["title"], note["body"]) == ("New ticket: 打印机卡纸", "Customer: 上海云杉科技")
    assert (note["object"], note["record_id"]) == ("service_ticket", ticket["id"])
    assert note["source"] == "rule:tell_about_new_ticket"
    assert note["created_at"] == crm.clock.now()


def test_a_list_of_users_is_each_notified_once(crm: Loom) -> None:
    owner, engineer = add_user(crm, "wang.fang"), add_user(crm, "chen.jie")
    install_rule(crm, ticket_rule("[engineer, owner, engineer]", body=None))
    open_ticket(crm, title="安装调试", owner=owner, engineer=engineer)
    with crm.read() as conn:
        assert [n["title"] for n in unread_for(conn, owner)] == ["New ticket: 安装调试"]
        assert [n["body"] for n in unread_for(conn, engineer)] == [None]


def test_nobody_to_notify_saves_the_record_and_says_so_in_the_run_log(crm: Loom) -> None:
    install_rule(crm, ticket_rule("engineer"))
    open_ticket(crm, title="无人处理的工单")
    with crm.read() as conn:
        [run] = runs_for_rule(conn, "tell_about_new_ticket")
    assert run["status"] == "fired"
    assert run["actions"] == [{"type": "notify", "to": [], "note": "'to' gave no user: nobody was notified"}]


def test_deactivated_users_are_skipped(crm: Loom) -> None:
    owner, gone = add_user(crm, "wang.fang"), add_user(crm, "left.company", active=False)
    install_rule(crm, ticket_rule("[owner, engineer]"))
    open_ticket(crm, title="维修", owner=owner, engineer=gone)
    with crm.read() as conn:
        assert unread_count(conn, owner) == 1
        assert unread_count(conn, gone) == 0
        [run] = runs_for_rule(conn, "tell_about_new_ticket")
    assert run["actions"][0]["skipped"] == [gone]


def test_a_user_id_that_does_not_exist_refuses_the_save(crm: Loom) -> None:
    install_rule(crm, ticket_rule("4040"))
    with pytest.raises(ActionFailed, match="no user with id 4040"):
        open_ticket(crm, title="工单")
    assert crm.queries().count("service_ticket") == 0
