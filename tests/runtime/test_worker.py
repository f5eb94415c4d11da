"""The worker as it runs in production: a separate process that may be killed at any moment and may
be down for days — nothing queued is lost, and nothing due runs twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from sqlalchemy import create_engine, make_url, select, text

from engine.clock import Clock
from engine.database import normalise_url, open_database
from engine.loom import Loom
from engine.metadata_changes import apply_objects
from engine.system_tables import due_work, outbox
from metadata.rules import RuleSpec
from metadata.specs import FieldSpec, ObjectSpec
from runtime.worker import JOB_ID, build_scheduler, run_pass
from tests.conftest import nothing_listening, postgres_or_skip
from tests.plugins.http_receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]

TICKET = ObjectSpec(
    name="ticket",
    label={"en": "Ticket", "zh_CN": "工单"},
    fields=(FieldSpec(name="subject", type="text", required=True),),
    title_field="subject",
)


def hook_rule(url: str, trigger: dict) -> RuleSpec:
    return RuleSpec.from_json(
        {
            "name": "ticket_to_helpdesk",
            "object": "ticket",
            "trigger": trigger,
            "actions": [{"type": "call_webhook", "url": url}],
        }
    )


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    if server.hold_first is not None:
        server.hold_first.set()
    server.stop()


def loom_command(*args: str) -> list[str]:
    """The installed `loom` console script, or the same entry point run as a module."""
    script = Path(sys.executable).with_name("loom")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "runtime.cli", *args]


def worker_env(database_url: str, now: datetime, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOOM_")}
    env.update(LOOM_DATABASE_URL=database_url, LOOM_NOW=now.isoformat(), **extra)
    return env


def the_message(loom: Loom) -> dict:
    with loom.read() as conn:
        [row] = conn.execute(select(outbox)).all()
    return dict(row._mapping)


def test_a_worker_killed_mid_delivery_loses_nothing_and_the_receiver_acts_once(
    loom: Loom, database_url: str, receiver: WebhookReceiver
) -> None:
    t0 = loom.clock.now()
    apply_objects(loom, [TICKET], rules=[hook_rule(receiver.url, {"type": "on_create"})])
    loom.records().create("ticket", {"subject": "打印机无法连接"})
    receiver.hold_first = threading.Event()  # the first request is received, then never answered

    first = subprocess.Popen(
        loom_command("worker", "--interval", "60"),
        env=worker_env(database_url, t0, LOOM_WEBHOOK_TIMEOUT="60"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        arrived = receiver.arrived.wait(60)
    finally:
        first.kill()  # SIGKILL: no chance to record anything
        _, stderr = first.communicate(timeout=30)
    assert arrived, stderr.decode()
    assert first.returncode == -signal.SIGKILL
    receiver.hold_first.set()

    message = the_message(loom)
    assert (message["status"], message["attempts"]) == ("sending", 1)  # claimed, outcome unknown

    def once(now: datetime) -> str:
        result = subprocess.run(
            loom_command("worker", "--once"),
            env=worker_env(database_url, now),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    # While the dead worker's lease runs, no one else sends the message …
    assert "delivered: 0" in once(t0 + timedelta(minutes=4))
    # … and once it has expired, the next pass sends it again, under the same key.
    assert "delivered: 1" in once(t0 + timedelta(minutes=6))

    message = the_message(loom)
    assert (message["status"], message["attempts"]) == ("delivered", 2)
    assert [request.key for request in receiver.requests] == [message["key"]] * 2
    assert list(receiver.processed) == [message["key"]]  # the receiver acted once


def test_the_worker_stops_cleanly_on_sigterm(
    loom: Loom, database_url: str, receiver: WebhookReceiver
) -> None:
    apply_objects(loom, [TICKET], rules=[hook_rule(receiver.url, {"type": "on_create"})])
    loom.records().create("ticket", {"subject": "邮箱容量已满"})

    process = subprocess.Popen(
        loom_command("worker", "--interval", "0.2"),
        env=worker_env(database_url, loom.clock.now()),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert receiver.arrived.wait(60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "worker stopped" in stderr
    assert the_message(loom)["status"] == "delivered"


def test_due_work_missed_while_the_worker_was_down_runs_once_when_it_returns(
    loom: Loom, receiver: WebhookReceiver
) -> None:
    t0 = loom.clock.now()  # 2026-11-26 09:00 UTC, 17:00 in Beijing
    rule = hook_rule(receiver.url, {"type": "schedule", "cron": "0 9 * * *"})  # 09:00 Beijing daily
    apply_objects(loom, [TICKET], rules=[rule])
    loom.records().create("ticket", {"subject": "服务器巡检"})
    assert run_pass(loom)["due"] == 0  # not due yet

    back = t0 + timedelta(days=3, hours=2)  # three daily runs fell in the downtime
    loom.clock.set(back)
    first, second = run_pass(loom), run_pass(loom)

    assert (first["due"], first["delivered"]) == (1, 1)
    assert (second["due"], second["delivered"]) == (0, 0)
    assert len(receiver.requests) == 1
    with loom.read() as conn:
        [row] = conn.execute(select(due_work).where(due_work.c.key == "rule:ticket_to_helpdesk")).all()
    assert row.status == "pending" and row.due_at == datetime(2026, 11, 30, 1, 0)  # the next 09:00 Beijing


def test_the_scheduler_runs_a_pass_that_is_late_rather_than_dropping_it(loom: Loom) -> None:
    scheduler = build_scheduler(loom, interval=3600)
    [job] = scheduler.get_jobs()
    assert (job.id, job.coalesce, job.max_instances, job.misfire_grace_time) == (JOB_ID, True, 1, None)

    outcomes: list[int] = []
    done = threading.Event()

    def seen(event: JobExecutionEvent) -> None:
        outcomes.append(event.code)
        done.set()

    scheduler.add_listener(seen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    # As after a suspended host: the runs 90 and 30 minutes ago were missed. With APScheduler's
    # default grace of 1 s even the newer one is dropped; here they fold into one pass.
    job.modify(next_run_time=datetime.now(UTC) - timedelta(minutes=90))
    thread = threading.Thread(target=scheduler.start, daemon=True)
    thread.start()
    try:
        assert done.wait(30)
    finally:
        scheduler.shutdown(wait=True)
        thread.join(10)
    assert outcomes == [EVENT_JOB_EXECUTED]


def failing_rules() -> list[RuleSpec]:
    """A nightly rule whose action fails for every ticket, and one whose update keeps re-triggering."""
    nightly = {"type": "schedule", "cron": "0 9 * * *"}
    return [
        RuleSpec.from_json(
            {
                "name": "ticket_makes_blank_ticket",
                "object": "ticket",
                "trigger": nightly,
                "condition": "subject != 'loop'",
                "actions": [{"type": "create_record", "object": "ticket", "values": {"subject": "''"}}],
            }
        ),
        RuleSpec.from_json(
            {
                "name": "ticket_touch",
                "object": "ticket",
                "trigger": nightly,
                "condition": "subject == 'loop'",
                "actions": [{"type": "set_field", "field": "subject", "value": "subject + '!'"}],
            }
        ),
        RuleSpec.from_json(
            {
                "name": "ticket_touch_again",
                "object": "ticket",
                "trigger": {"type": "on_update"},
                "actions": [{"type": "set_field", "field": "subject", "value": "subject + '!'"}],
            }
        ),
    ]


def test_a_pass_counts_and_logs_the_rule_actions_that_failed_and_the_loops_it_stopped(
    loom: Loom, caplog: pytest.LogCaptureFixture
) -> None:
    apply_objects(loom, [TICKET], rules=failing_rules())
    first = loom.records().create("ticket", {"subject": "打印机卡纸"})
    second = loom.records().create("ticket", {"subject": "无法登录"})
    looping = loom.records().create("ticket", {"subject": "loop"})
    loom.clock.set(loom.clock.now() + timedelta(days=1))
    with caplog.at_level("WARNING", logger="loom.worker"):
        counts = run_pass(loom)
    assert (counts["due"], counts["rules_failed"], counts["loops_stopped"]) == (2, 2, 1)
    logged = "\n".join(caplog.messages)
    for ticket in (first, second):
        assert f"rule ticket_makes_blank_ticket failed on ticket {ticket['id']}" in logged
    assert f"rule ticket_touch_again stopped on ticket {looping['id']}" in logged
    assert run_pass(loom)["rules_failed"] == 0  # the next pass reports only its own failures


def test_a_pass_while_the_database_cannot_be_reached_says_so_in_one_line_and_the_next_pass_runs(
    loom: Loom, caplog: pytest.LogCaptureFixture
) -> None:
    # The server goes away (restarting, down): every connection the worker opens is refused.
    loom.db.dispose()
    loom.db = open_database(nothing_listening())
    scheduler = build_scheduler(loom, interval=3600)
    outcomes: list[int] = []
    done = threading.Event()

    def seen(event: JobExecutionEvent) -> None:
        outcomes.append(event.code)
        done.set()

    scheduler.add_listener(seen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    thread = threading.Thread(target=scheduler.start, daemon=True)
    with caplog.at_level("WARNING"):
        thread.start()
        try:
            assert done.wait(30)
        finally:
            scheduler.shutdown(wait=True)
            thread.join(10)
    assert outcomes == [EVENT_JOB_EXECUTED]  # not an error with a traceback: the next pass tries again
    [line] = [record for record in caplog.records if record.levelname in ("WARNING", "ERROR")]
    assert line.getMessage().startswith("database unavailable; the next pass tries again:")
    assert line.exc_info is None


def test_a_worker_started_before_its_database_can_be_reached_waits_for_it_then_works(
    receiver: WebhookReceiver,
) -> None:
    # As at boot, when the worker may start before PostgreSQL accepts connections.
    base = make_url(normalise_url(postgres_or_skip()))
    name = f"{base.database}_late_{uuid.uuid4().hex[:8]}"
    url = base.set(database=name).render_as_string(hide_password=False)
    now = datetime.now(UTC).replace(tzinfo=None)
    worker = subprocess.Popen(
        loom_command("worker", "--interval", "0.2"),
        env=worker_env(url, now),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        assert worker.stderr is not None
        waiting = next(line for line in worker.stderr if "database unavailable" in line or "Error" in line)
        assert "database unavailable; trying again" in waiting, waiting
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        started = next(line for line in worker.stderr if "worker started" in line or "Error" in line)
        assert "worker started" in started, started  # it has made Loom's tables
        loom = Loom(url, clock=Clock(now))
        try:
            loom.init()
            apply_objects(loom, [TICKET], rules=[hook_rule(receiver.url, {"type": "on_create"})])
            loom.records().create("ticket", {"subject": "开机后才连上数据库"})
            assert receiver.arrived.wait(60)  # the same worker, never restarted, delivered it
            assert worker.poll() is None
        finally:
            loom.close()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
