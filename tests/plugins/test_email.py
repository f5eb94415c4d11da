"""E-mail from rules: queued in the save's transaction, sent by the worker through a real SMTP server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.base.actors import SYSTEM
from engine.loom import Loom
from engine.plugin_api import ActionFailed
from engine.schema.changes import apply_objects
from engine.store.system_tables import outbox
from metadata.rules import RuleSpec
from metadata.specs import FieldSpec, ObjectSpec
from plugins.email.action import recipients
from plugins.email.channel import message_id
from runtime.worker import run_pass

MEMBER = ObjectSpec(
    name="member",
    label={"en": "Member", "zh_CN": "会员"},
    fields=(
        FieldSpec(name="name", type="text", required=True),
        FieldSpec(name="email", type="email"),
        FieldSpec(name="city", type="text"),
    ),
    title_field="name",
)

WELCOME = RuleSpec.from_json(
    {
        "name": "welcome_member",
        "object": "member",
        "trigger": {"type": "on_create"},
        "actions": [
            {
                "type": "send_email",
                "to": "name + ' <' + email + '>'",
                "subject": "'欢迎加入，' + name",
                "body": "'尊敬的' + name + '：\\n感谢您注册云杉会员。\\n所在城市：' + city",
            }
        ],
    }
)


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.received: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class LoopbackSMTP(Controller):
    """An SMTP server on a free loopback port: the socket is bound to port 0 before the server starts."""

    def __init__(self, handler: Inbox) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self._socket.getsockname()[1])

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._socket)


@pytest.fixture
def inbox(loom: Loom) -> Iterator[Inbox]:
    handler = Inbox()
    server = LoopbackSMTP(handler)
    server.start()
    loom.channel_settings["email"] = replace(
        loom.channel_settings["email"],
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_user="",
        smtp_starttls=False,
        mail_from="云杉 CRM <crm@yunshan.example>",
    )
    yield handler
    server.stop()


@pytest.fixture
def mailing(loom: Loom, inbox: Inbox) -> Loom:
    apply_objects(loom, [MEMBER], rules=[WELCOME])
    return loom


def queued(loom: Loom) -> list[dict]:
    with loom.read() as conn:
        return [dict(row._mapping) for row in conn.execute(select(outbox))]


def test_a_saved_record_sends_its_email_with_chinese_text_intact(mailing: Loom, inbox: Inbox) -> None:
    mailing.records().create("member", {"name": "王芳", "email": "wang.fang@yunshan.example", "city": "上海"})
    assert inbox.received == []  # the save only queued it

    counts = run_pass(mailing)

    assert counts["delivered"] == 1
    [mail] = inbox.received
    [row] = queued(mailing)
    assert row["status"] == "delivered" and row["source"] == "rule:welcome_member"
    assert mail.rcpt_tos == ["wang.fang@yunshan.example"]
    assert mail.mail_from == "crm@yunshan.example"
    [to] = mail.message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("王芳", "wang.fang@yunshan.example")
    assert mail.message["Subject"] == "欢迎加入，王芳"
    assert mail.message.get_content() == "尊敬的王芳：\n感谢您注册云杉会员。\n所在城市：上海\n"
    assert mail.message.get_content_charset() == "utf-8"
    # The Message-ID depends only on the idempotency key: a resent copy carries the same one.
    assert mail.message["Message-ID"] == message_id(row["key"], mailing.channel_settings["email"].mail_from)
    assert mail.message["X-Loom-Idempotency-Key"] == row["key"]

    assert run_pass(mailing)["delivered"] == 0 and len(inbox.received) == 1


def test_a_rolled_back_save_sends_nothing(mailing: Loom, inbox: Inbox) -> None:
    with pytest.raises(RuntimeError), mailing.begin() as conn:
        mailing.records(SYSTEM, conn).create(
            "member", {"name": "李娜", "email": "li.na@yunshan.example", "city": "北京"}
        )
        assert len(conn.execute(select(outbox)).all()) == 1  # queued inside the transaction …
        raise RuntimeError("the change is abandoned")

    assert queued(mailing) == []  # … and gone with it
    assert run_pass(mailing)["delivered"] == 0
    assert inbox.received == []


def test_a_record_without_an_address_queues_nothing(mailing: Loom, inbox: Inbox) -> None:
    rule = RuleSpec.from_json(
        {**WELCOME.to_json(), "actions": [{**WELCOME.to_json()["actions"][0], "to": "email"}]}
    )
    apply_objects(mailing, [], rules=[rule])
    mailing.records().create("member", {"name": "赵磊", "city": "深圳"})
    run_pass(mailing)
    assert queued(mailing) == [] and inbox.received == []


def test_an_unreachable_mail_server_is_retried(mailing: Loom, inbox: Inbox) -> None:
    with socket.create_server(("127.0.0.1", 0)) as unused:
        closed_port = unused.getsockname()[1]
    mailing.channel_settings["email"] = replace(mailing.channel_settings["email"], smtp_port=closed_port)
    mailing.records().create("member", {"name": "陈静", "email": "chen.jing@yunshan.example"})

    assert run_pass(mailing)["retrying"] == 1
    [row] = queued(mailing)
    assert (row["status"], row["attempts"]) == ("pending", 1) and "Connection" in row["last_error"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a@x.cn", ["a@x.cn"]),
        ("a@x.cn; b@x.cn, a@x.cn", ["a@x.cn", "b@x.cn"]),
        (["王芳 <a@x.cn>", None, "", "b@x.cn"], ["王芳 <a@x.cn>", "b@x.cn"]),
        (None, []),
    ],
)
def test_recipients_are_one_address_or_a_list(value: Any, expected: list[str]) -> None:
    assert recipients(value) == expected


@pytest.mark.parametrize("value", ["not an address", "a@x.cn\r\nBcc: c@evil.example"])
def test_a_malformed_recipient_fails_the_action(value: str) -> None:
    with pytest.raises(ActionFailed):
        recipients(value)
