"""The worker: the one process that runs due work and delivers the outbox.

APScheduler is only its clock. What is due lives in Loom's own tables, so a pass that did not
happen (the worker was down, or slow) loses nothing: the next pass finds the work still due.
Run exactly one worker per database; web processes never start a scheduler.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import DBAPIError

from engine.database import database_unavailable
from engine.due_work import DueReport, run_due
from engine.loom import Loom
from engine.outbox import deliver_outbox

JOB_ID = "loom.worker.pass"
RETRY_WHEN_UNAVAILABLE = 5.0  # seconds between attempts to reach a database that cannot be reached
log = logging.getLogger("loom.worker")


def run_pass(loom: Loom) -> dict[str, int]:
    """Run everything due, then deliver the outbox — so mail queued by due work leaves in the same pass.

    Uploads that no record took within a day (a form never saved) are deleted too. Rule runs that
    failed or were stopped as a loop are counted (`rules_failed`, `loops_stopped`) and each is
    logged as a warning naming the rule and the record; `due_failed` counts due items that raised.
    """
    report = DueReport()
    run_due(loom, loom.due_handlers, report=report)
    for entry in report.rule_failures:
        log.warning(
            "rule %s %s on %s %s: %s", entry.rule, entry.status, entry.object, entry.record_id, entry.error
        )
    for item, error in report.errors:
        log.warning("due work %s failed (attempt %s): %s", item.key, item.attempts, error)
    delivered = deliver_outbox(loom)
    return {
        "due": report.ran,
        "due_failed": len(report.errors),
        "rules_failed": len(report.failed),
        "loops_stopped": len(report.stopped),
        **delivered,
        "files_swept": loom.files.sweep_unattached(),
    }


def wait_for_database(open_loom: Callable[[], Loom], retry: float = RETRY_WHEN_UNAVAILABLE) -> Loom:
    """The Loom `open_loom` opens, trying again every `retry` seconds while its database cannot be reached."""
    while True:
        try:
            return open_loom()
        except DBAPIError as error:
            if not database_unavailable(error):
                raise
            log.warning("database unavailable; trying again in %g s: %s", retry, error.orig)
            time.sleep(retry)


def build_scheduler(loom: Loom, interval: float) -> BlockingScheduler:
    """A scheduler with one interval job that runs a pass every `interval` seconds, the first at once."""
    # One thread: passes never overlap, and database connections stay with the thread that made them.
    scheduler = BlockingScheduler(executors={"default": ThreadPoolExecutor(1)}, timezone=UTC)
    scheduler.add_job(
        _logged_pass,
        "interval",
        args=[loom],
        seconds=interval,
        # A fixed id with replace_existing: a restart replaces the job instead of adding a copy.
        id=JOB_ID,
        name="loom worker pass",
        replace_existing=True,
        # A pass that is still running when the next is due is not doubled; missed runs fold into one.
        max_instances=1,
        coalesce=True,
        # APScheduler's default misfire_grace_time is 1 s: a run that starts more than a second after
        # its time is dropped, not run late. That is the fate of every run missed while the worker was
        # down (with a persistent job store), or while the host was suspended, or while a long pass
        # held the only instance: the work those runs should have done would wait another interval or
        # be lost with them. None: a late run always runs; coalesce folds the backlog into one, and
        # that pass catches up everything in the due-work table that came due meanwhile, each once.
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    return scheduler


def run_worker(loom: Loom, interval: float) -> None:
    """Run passes every `interval` seconds until SIGINT or SIGTERM; a pass in progress is finished first."""
    scheduler = build_scheduler(loom, interval)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("worker stopping (%s); finishing the pass in progress", signal.Signals(signum).name)
        if scheduler.running:
            scheduler.shutdown(wait=True)
        else:
            raise SystemExit(0)  # before the scheduler got going, or a second signal: stop now

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        log.info("worker started: a pass every %ss", interval)
        scheduler.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if scheduler.running:
            scheduler.shutdown(wait=True)
    log.info("worker stopped")


def _logged_pass(loom: Loom) -> dict[str, Any]:
    try:
        counts = run_pass(loom)
    except DBAPIError as error:
        if not database_unavailable(error):
            raise
        # A restart or an outage of the server, not a fault to trace: what the pass had claimed
        # runs again when its claim ends, and everything else on the next pass.
        log.warning("database unavailable; the next pass tries again: %s", error.orig)
        return {}
    if any(counts.values()):
        log.info("pass: %s", ", ".join(f"{name} {count}" for name, count in counts.items()))
    return counts
