"""Webhooks from rules: a signed POST queued with the save, retried with backoff while the receiver is
down or failing, and recognisable by its Idempotency-Key when it arrives more than once."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import fields, replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from engine.base.settings import Settings
from engine.loom import Loom
from engine.schema.changes import apply_objects
from engine.store.system_tables import outbox
from metadata.rules import RuleSpec
from metadata.specs import FieldSpec, ObjectSpec
from plugins.webhook import verify
from plugins.webhook.action import json_safe
from plugins.webhook.channel import signing_secret
from plugins.webhook.settings import WebhookSettings
from runtime.worker import run_pass
from tests.plugins.http_receiver import WebhookReceiver

SECRET = "wh-7f3a9c"
NO_WORK = {
    "due": 0,
    "due_failed": 0,
    "rules_failed": 0,
    "loops_stopped": 0,
    "delivered": 0,
    "retrying": 0,
    "failed": 0,
    "files_swept": 0,
}

DEAL = ObjectSpec(
    name="deal",
    label={"en": "Deal", "zh_CN": "商机"},
    fields=(
        FieldSpec(name="name", type="text", required=True),
        FieldSpec(name="amount", type="decimal", params={"scale": 2}),
        FieldSpec(name="signed_on", type="date"),
    ),
    title_field="name",
)


def webhook_rule(url: str, **action: object) -> RuleSpec:
    return RuleSpec.from_json(
        {
            "name": "deal_to_erp",
            "object": "deal",
            "trigger": {"type": "on_create"},
            "actions": [{"type": "call_webhook", "url": url, **action}],
        }
    )


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    if server.hold_first is not None:
        server.hold_first.set()
    server.stop()


@pytest.fixture
def hooked(loom: Loom, receiver: WebhookReceiver) -> Loom:
    loom.channel_settings["webhook"] = replace(
        loom.channel_settings["webhook"], secrets={"erp": SECRET}, webhook_timeout=5.0
    )
    apply_objects(loom, [DEAL], rules=[webhook_rule(receiver.url, secret="erp")])
    return loom


def the_message(loom: Loom) -> dict:
    with loom.read() as conn:
        [row] = conn.execute(select(outbox)).all()
    return dict(row._mapping)


def test_a_saved_record_is_posted_as_signed_json(hooked: Loom, receiver: WebhookReceiver) -> None:
    deal = hooked.records().create(
        "deal", {"name": "上海云杉 ERP 集成", "amount": "120000.50", "signed_on": "2026-11-20"}
    )
    assert receiver.requests == []  # queued with the save, sent by the worker

    assert run_pass(hooked) == {**NO_WORK, "delivered": 1}

    [request] = receiver.requests
    message = the_message(hooked)
    assert request.key == message["key"] and message["status"] == "delivered"
    assert request.headers["Content-Type"] == "application/json"
    assert request.payload["rule"] == "deal_to_erp" and request.payload["object"] == "deal"
    record = request.payload["record"]
    assert (record["id"], record["name"], record["amount"], record["signed_on"]) == (
        deal["id"],
        "上海云杉 ERP 集成",
        "120000.50",
        "2026-11-20",
    )
    # A receiver verifies the signature over the raw bytes it got, with the secret it shares.
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Loom-Signature"] == expected
    assert verify(request.body, request.headers["X-Loom-Signature"], SECRET)
    assert not verify(
        request.body, request.headers["X-Loom-Signature"], hooked.channel_settings["webhook"].webhook_secret
    )

    assert run_pass(hooked) == NO_WORK and len(receiver.requests) == 1


def test_payload_expressions_are_evaluated_and_unsigned_hooks_use_the_default_secret(
    loom: Loom, receiver: WebhookReceiver
) -> None:
    loom.channel_settings["webhook"] = replace(
        loom.channel_settings["webhook"], webhook_secret="instance-secret"
    )
    payload = {"customer": "name", "total": "amount * 2", "follow_up": "add_days(signed_on, 30)"}
    apply_objects(loom, [DEAL], rules=[webhook_rule(receiver.url, payload=payload)])
    loom.records().create("deal", {"name": "北京华信", "amount": "10.25", "signed_on": "2026-11-20"})

    run_pass(loom)

    [request] = receiver.requests
    assert request.payload == {"customer": "北京华信", "total": "20.50", "follow_up": "2026-12-20"}
    assert verify(request.body, request.headers["X-Loom-Signature"], "instance-secret")


def test_retries_back_off_while_the_receiver_fails_then_it_is_delivered_once(
    hooked: Loom, receiver: WebhookReceiver
) -> None:
    loom, start = hooked, hooked.clock.now()
    receiver.status = 500
    loom.records().create("deal", {"name": "杭州普通客户"})

    assert run_pass(loom) == {**NO_WORK, "retrying": 1}
    message = the_message(loom)
    assert (message["status"], message["attempts"]) == ("pending", 1)
    assert message["next_attempt_at"] == start + timedelta(seconds=30)
    assert "500" in message["last_error"]
    assert run_pass(loom) == NO_WORK  # not due again before the backoff has passed

    receiver.stop()  # now nothing listens at all
    loom.clock.set(start + timedelta(seconds=31))
    assert run_pass(loom) == {**NO_WORK, "retrying": 1}
    message = the_message(loom)
    assert message["attempts"] == 2
    assert message["next_attempt_at"] == start + timedelta(seconds=31 + 60)
    assert "ConnectionRefused" in message["last_error"]

    receiver.status = 200
    receiver.start()
    loom.clock.set(start + timedelta(seconds=31 + 61))
    assert run_pass(loom) == {**NO_WORK, "delivered": 1}
    message = the_message(loom)
    assert (message["status"], message["attempts"], message["last_error"]) == ("delivered", 3, None)
    assert len(receiver.requests) == 2 and len(receiver.processed) == 1  # one 500, then the delivery
    assert {request.key for request in receiver.requests} == {message["key"]}

    loom.clock.set(start + timedelta(hours=2))
    assert run_pass(loom) == NO_WORK


def test_a_lost_acknowledgement_resends_the_same_request_and_the_receiver_acts_once(
    hooked: Loom, receiver: WebhookReceiver
) -> None:
    loom = hooked
    loom.channel_settings["webhook"] = replace(loom.channel_settings["webhook"], webhook_timeout=0.5)
    receiver.late_by = 1.5  # the first request is processed, but its answer comes after the timeout
    loom.records().create("deal", {"name": "深圳前海贸易"})

    assert run_pass(loom) == {**NO_WORK, "retrying": 1}
    assert "timed out" in the_message(loom)["last_error"]
    loom.clock.set(loom.clock.now() + timedelta(seconds=30))
    assert run_pass(loom) == {**NO_WORK, "delivered": 1}

    first, second = receiver.requests
    assert first.key == second.key == the_message(loom)["key"]
    assert first.body == second.body
    assert first.headers["X-Loom-Signature"] == second.headers["X-Loom-Signature"]
    assert (first.headers["X-Loom-Attempt"], second.headers["X-Loom-Attempt"]) == ("1", "2")
    assert list(receiver.processed) == [first.key]


def test_a_missing_named_secret_fails_the_delivery_and_says_which_setting(
    hooked: Loom, receiver: WebhookReceiver
) -> None:
    hooked.channel_settings["webhook"] = replace(hooked.channel_settings["webhook"], secrets={})
    hooked.records().create("deal", {"name": "成都天府"})

    assert run_pass(hooked) == {**NO_WORK, "retrying": 1}
    assert "LOOM_SECRET_ERP" in the_message(hooked)["last_error"]
    assert receiver.requests == []  # nothing unsigned leaves the system


def test_a_receiver_that_never_accepts_ends_as_failed_after_the_last_attempt(
    hooked: Loom, receiver: WebhookReceiver
) -> None:
    hooked.settings = replace(hooked.settings, outbox_max_attempts=3)
    receiver.status = 503
    hooked.records().create("deal", {"name": "武汉光谷"})
    outcomes = []
    for _ in range(4):
        outcomes.append(run_pass(hooked))
        hooked.clock.set(hooked.clock.now() + timedelta(hours=1))
    assert [o["retrying"] for o in outcomes] == [1, 1, 0, 0]
    assert [o["failed"] for o in outcomes] == [0, 0, 1, 0]
    assert the_message(hooked)["status"] == "failed" and len(receiver.requests) == 3


def test_record_values_become_json_values() -> None:
    assert json_safe({"when": date(2026, 11, 26), "amount": Decimal("1.50"), "tags": ("a", "b")}) == {
        "when": "2026-11-26",
        "amount": "1.50",
        "tags": ["a", "b"],
    }


def test_named_secrets_come_from_the_environment_but_never_the_session_key() -> None:
    environ = {
        "LOOM_SECRET_ERP": "erp-secret",
        "LOOM_SECRET_KEY": "signs-sessions",
        "LOOM_WEBHOOK_TIMEOUT": "2.5",
    }
    settings = WebhookSettings.from_env(environ)
    assert settings.secrets == {"erp": "erp-secret"} and settings.webhook_timeout == 2.5
    with pytest.raises(LookupError, match="LOOM_SECRET_KEY signs web sessions and is never a webhook secret"):
        signing_secret("key", settings)


def test_the_engine_settings_know_no_smtp_server_or_webhook_signing() -> None:
    engine_fields = {spec.name for spec in fields(Settings)}
    assert not {name for name in engine_fields if name.startswith(("smtp", "mail", "webhook", "secret"))}
    assert Settings.from_env({"LOOM_WEBHOOK_SECRET": "inbound-key"}).inbound_secret == "inbound-key"
