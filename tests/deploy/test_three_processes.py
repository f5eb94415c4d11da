"""A deployment's three processes on PostgreSQL — two gunicorn web processes and a worker, started
by deploy.local — under the faults of a real machine: a process killed with SIGKILL mid-work, a
second worker started by mistake, the database server restarted under load. Nothing acknowledged is
lost, nothing is done twice, and every process serves again without being restarted by hand."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, select, text

from deploy import local
from engine.base.actors import SYSTEM
from engine.identity import create_token
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from engine.schema.changes import apply_objects
from engine.store.database import normalise_url
from engine.store.system_tables import due_work, outbox
from metadata.rules import RuleSpec
from metadata.specs import FieldSpec, ObjectSpec
from tests.conftest import IN_CI, postgres_or_skip
from tests.engine.flow_world import World, build_world, simple_flow
from tests.plugins.http_receiver import Request, WebhookReceiver

# Alone, after the other tests: one restarts the database server every other test would be using.
pytestmark = pytest.mark.serial

WAIT = 60.0  # how long anything may take before the test gives up on it
TICKET = ObjectSpec(
    name="ticket",
    label={"en": "Ticket", "zh_CN": "工单"},
    fields=(FieldSpec(name="subject", type="text", required=True),),
    title_field="subject",
)
# An approver who never answers: after an hour the worker approves for them.
REVIEW = simple_flow(approvers=[{"user": "wu.yi"}], deadline={"hours": 1, "then": "approve"})


class Receiver(WebhookReceiver):
    """The helpdesk: records every webhook, answering each after `slow` seconds; the one for the
    ticket named `hold` waits for `release`."""

    def __init__(self) -> None:
        self.slow = 0.0
        self.hold: str | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        super().__init__()

    def receive(self, request: Request) -> tuple[int, float, threading.Event | None]:
        status, delay, _ = super().receive(request)
        delay += self.slow
        if self.hold is not None and subject_of(request) == self.hold:
            self.held.set()
            return status, delay, self.release
        return status, delay, None

    def keys_for(self, prefix: str) -> Counter[str]:
        """How many requests arrived per Idempotency-Key, for the tickets whose subject starts with prefix."""
        with self._lock:
            return Counter(r.key for r in self.requests if subject_of(r).startswith(prefix))


def subject_of(request: Request) -> str:
    return str(request.payload["record"]["subject"])


@dataclass
class Site:
    """The deployment, the database it runs on, and the people and flow it serves."""

    deployment: local.Deployment
    loom: Loom
    world: World
    token: str
    receiver: Receiver
    url: str

    @property
    def urls(self) -> list[str]:
        return self.deployment.urls


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = make_url(normalise_url(postgres_or_skip()))
    name = f"{base.database}_procs_{uuid.uuid4().hex[:8]}"
    # Pinged: its connection must outlive the restart of the server that one test does.
    admin = create_engine(base, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    receiver = Receiver()
    loom = Loom(url)
    deployment = None
    try:
        loom.init()
        install_package(loom, CRM_PACKAGE)
        world = build_world(loom, REVIEW)
        rule = {
            "name": "ticket_to_helpdesk",
            "object": "ticket",
            "trigger": {"type": "on_create"},
            "actions": [{"type": "call_webhook", "url": receiver.url}],
        }
        apply_objects(loom, [TICKET], rules=[RuleSpec.from_json(rule)])
        token, _ = create_token(loom, world.ids["zhou.admin"], "three processes", actor=SYSTEM)
        environment = {"LOOM_WEBHOOK_SECRET": "helpdesk", "LOOM_WEBHOOK_TIMEOUT": "30"}
        logs = tmp_path_factory.mktemp("deployment-logs")
        deployment = local.start(url, worker_interval=0.2, environment=environment, log_dir=logs)
        yield Site(deployment, loom, world, token, receiver, url)
    finally:
        if deployment is not None:
            deployment.stop()
        receiver.release.set()
        receiver.stop()
        loom.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def deployed(site: Site) -> Iterator[Site]:
    """The site with both web processes and one worker on the real clock, before and after the test."""
    yield site
    deployment = site.deployment
    for index, process in enumerate(deployment.webs):
        if process is None:
            deployment.start_web(index)
    while deployment.workers:
        deployment.stop_worker()
    deployment.start_worker()
    site.receiver.hold = None
    site.receiver.slow = 0.0


# -- talking to the processes ------------------------------------------------------------------------


def call(base: str, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    """One API request; (status, JSON answer). A refused or broken connection raises OSError."""
    request = urllib.request.Request(
        f"{base}/api/v1{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, raw.decode(errors="replace")[:500]


def create_ticket(site: Site, base: str, subject: str) -> dict:
    status, answer = call(base, "POST", "/records/ticket", site.token, {"subject": subject})
    assert status == 201, answer
    return answer


def eventually(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll `check` until it returns something true; fail naming `what` if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:g} s: {what}")
        time.sleep(0.05)


class Load:
    """Clients creating tickets without pause, each on one web process; remembers every 201."""

    def __init__(self, site: Site, prefix: str, bases: list[str]) -> None:
        self.site = site
        self.prefix = prefix
        self.acknowledged: dict[str, int] = {}  # subject → id, for every create answered 201
        self.by_base: Counter[str] = Counter()
        self.refused: Counter[int] = Counter()  # answers other than 201 by status; 0: no answer
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._client, args=(base, n), daemon=True) for n, base in enumerate(bases)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def served(self, base: str) -> int:
        with self._lock:
            return self.by_base[base]

    def _client(self, base: str, n: int) -> None:
        i = 0
        while not self._stop.is_set():
            subject = f"{self.prefix}-{n}-{i}"
            i += 1
            try:
                status, answer = call(base, "POST", "/records/ticket", self.site.token, {"subject": subject})
            except OSError:
                status, answer = 0, None
            with self._lock:
                if status == 201:
                    self.acknowledged[subject] = answer["id"]
                    self.by_base[base] += 1
                else:
                    self.refused[status] += 1
            if status != 201:
                time.sleep(0.05)


# -- reading the database as it is -------------------------------------------------------------------


def stored_tickets(site: Site, prefix: str) -> list[tuple[str, int]]:
    with site.loom.read() as conn:
        rows = conn.execute(
            text("SELECT subject, id FROM obj_ticket WHERE subject LIKE :p ORDER BY id"), {"p": f"{prefix}%"}
        )
        return [(row.subject, row.id) for row in rows]


def messages_for(site: Site, ids: list[int]) -> dict[int, list[str]]:
    """Each ticket's queued webhooks, as their statuses."""
    found: dict[int, list[str]] = {ticket_id: [] for ticket_id in ids}
    with site.loom.read() as conn:
        for row in conn.execute(select(outbox.c.key, outbox.c.status)):
            rule, ticket_id, *_ = row.key.split(":")
            if rule == "ticket_to_helpdesk" and int(ticket_id) in found:
                found[int(ticket_id)].append(row.status)
    return found


def assert_each_acknowledged_create_stored_once(site: Site, load: Load) -> list[int]:
    stored = stored_tickets(site, load.prefix)
    subjects = Counter(subject for subject, _ in stored)
    assert [subject for subject, count in subjects.items() if count > 1] == []
    missing = {s: i for s, i in load.acknowledged.items() if (s, i) not in set(stored)}
    assert missing == {}
    # Each stored ticket queued its webhook in its own transaction: one message each, no orphan.
    ids = [ticket_id for _, ticket_id in stored]
    assert {i: len(statuses) for i, statuses in messages_for(site, ids).items()} == dict.fromkeys(ids, 1)
    return ids


def all_delivered(site: Site, ids: list[int]) -> bool:
    return all(statuses == ["delivered"] for statuses in messages_for(site, ids).values())


def delivered_some(site: Site, prefix: str) -> bool:
    ids = [ticket_id for _, ticket_id in stored_tickets(site, prefix)]
    return ["delivered"] in messages_for(site, ids).values()


def later(**delta: float) -> dict[str, str]:
    """A worker's environment whose clock reads `delta` from now (LOOM_NOW)."""
    return {"LOOM_NOW": (datetime.now(UTC) + timedelta(**delta)).replace(tzinfo=None).isoformat()}


# -- the tests -----------------------------------------------------------------------------------------


def test_a_field_added_through_one_web_process_is_served_by_the_other_within_a_second(
    deployed: Site,
) -> None:
    web1, web2 = deployed.urls
    ticket = create_ticket(deployed, web2, "元数据-显示器闪烁")
    assert "channel" not in ticket  # web2 has the ticket object as it was

    status, current = call(web1, "GET", "/meta/objects/ticket", deployed.token)
    assert status == 200, current
    document = current["document"]
    channel = {"name": "channel", "type": "text", "label": {"zh_CN": "渠道", "en": "Channel"}}
    document["fields"].append(channel)
    status, changed = call(web1, "PUT", "/meta/objects/ticket", deployed.token, document)
    assert status == 200, changed

    # Each request checks the metadata's version first, so web process 2's very next request
    # serves the field: within the second the deployment promises, however busy the machine.
    status, seen = call(web2, "GET", f"/records/ticket/{ticket['id']}", deployed.token)
    assert status == 200, seen
    assert "channel" in seen and seen["channel"] is None
    status, created = call(
        web2, "POST", "/records/ticket", deployed.token, {"subject": "元数据-电话报修", "channel": "电话"}
    )
    assert (status, created.get("channel")) == (201, "电话"), created


def test_a_second_worker_started_by_mistake_runs_each_due_item_and_message_once(deployed: Site) -> None:
    world, deployment = deployed.world, deployed.deployment
    instances = [world.submit(world.contract(10_000 + n), flow_name="review_flow").id for n in range(6)]
    # Two hours on, each approval is an hour past its deadline; both workers read that clock.
    deployment.stop_worker()
    clock = later(hours=2)
    deployment.start_worker(clock)
    deployment.start_worker(clock)  # the mistake
    deployed.receiver.slow = 0.2  # each delivery takes a while: long enough for the other to interfere
    ids = [create_ticket(deployed, deployed.urls[n % 2], f"双工-{n}")["id"] for n in range(12)]

    eventually(lambda: all_delivered(deployed, ids), "every webhook delivered")
    eventually(
        lambda: all(deployed.loom.flows.get(i).status == "approved" for i in instances),
        "every overdue approval approved by the worker",
    )
    while deployment.workers:
        deployment.stop_worker()  # each finishes its pass: anything sent twice has arrived now

    assert sorted(deployed.receiver.keys_for("双工-").values()) == [1] * 12
    for instance in instances:
        actions = [row["action"] for row in deployed.loom.flows.history(instance)]
        assert actions.count("deadline") == 1 and actions.count("approve") == 1, actions


def test_a_web_process_killed_mid_request_loses_no_acknowledged_create_and_the_other_serves_on(
    deployed: Site,
) -> None:
    web1, web2 = deployed.urls
    with Load(deployed, "网页崩溃", [web1, web1, web2]) as load:
        eventually(lambda: load.served(web1) >= 10, "web process 1 serving creates")
        deployed.deployment.kill_web(0)  # mid-request: two clients are always waiting on it
        after = load.served(web2)
        eventually(lambda: load.served(web2) >= after + 10, "web process 2 serving on")
    assert load.refused  # the clients of web process 1 did notice

    ids = assert_each_acknowledged_create_stored_once(deployed, load)
    eventually(lambda: all_delivered(deployed, ids), "each stored ticket's webhook delivered")

    deployed.deployment.start_web(0)
    create_ticket(deployed, web1, "网页崩溃-重启后")


def test_a_worker_killed_mid_escalation_escalates_each_approval_once(deployed: Site) -> None:
    world, deployment = deployed.world, deployed.deployment
    contracts = [world.contract(20_000 + n) for n in range(5)]
    instances = [world.submit(c, flow_name="review_flow").id for c in contracts]
    deployment.stop_worker()

    # The third contract is held by another transaction: the worker's escalation of it —
    # its history written, the task decided — waits on the contract's row when it sets the status.
    with deployed.loom.db.connect() as holder:
        holder.execute(text("SELECT id FROM obj_contract WHERE id = :id FOR UPDATE"), {"id": contracts[2]})
        deployment.start_worker(later(hours=2))
        eventually(lambda: waiting_on_a_lock(deployed), "the worker waiting on the third contract")
        assert [deployed.loom.flows.get(i).status for i in instances] == ["approved"] * 2 + ["running"] * 3
        deployment.kill_worker()
        holder.rollback()

    # The dead worker's claim on the rest lasts ten minutes; a worker started after that takes them.
    deployment.start_worker(later(hours=2, minutes=11))
    eventually(
        lambda: all(deployed.loom.flows.get(i).status == "approved" for i in instances),
        "every overdue approval approved",
    )
    deployment.stop_worker()
    for instance, contract in zip(instances, contracts, strict=True):
        actions = [row["action"] for row in deployed.loom.flows.history(instance)]
        assert actions.count("deadline") == 1 and actions.count("approve") == 1, actions
        assert world.status(contract) == "approved"
    with deployed.loom.read() as conn:
        statuses = conn.execute(select(due_work.c.status).where(due_work.c.kind == "flow.deadline")).scalars()
        assert set(statuses) == {"done"}


def waiting_on_a_lock(site: Site) -> bool:
    with site.loom.read() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return found > 0


def test_a_worker_killed_mid_delivery_delivers_each_message_and_the_receiver_acts_once(
    deployed: Site,
) -> None:
    receiver = deployed.receiver
    receiver.hold = "出站-2"  # the third webhook is received, and its answer never comes
    ids = [create_ticket(deployed, deployed.urls[0], f"出站-{n}")["id"] for n in range(6)]
    assert receiver.held.wait(WAIT)
    delivered_before = [i for i in ids if messages_for(deployed, [i])[i] == ["delivered"]]
    assert delivered_before == ids[:2]
    deployed.deployment.kill_worker()
    receiver.release.set()

    # The dead worker's claim lasts five minutes; a worker started after that sends the rest.
    deployed.deployment.start_worker(later(minutes=6))
    eventually(lambda: all_delivered(deployed, ids), "every webhook delivered")
    deployed.deployment.stop_worker()

    # Each message arrived; the one whose answer was lost came again under the same key (at least
    # once, as documented: the receiver acts on a key once), and no other was sent twice.
    keys = receiver.keys_for("出站-")
    held = next(key for key in keys if key.startswith(f"ticket_to_helpdesk:{ids[2]}:"))
    assert sorted(keys.values()) == [1] * 5 + [2] and keys[held] == 2


def test_a_postgresql_restart_under_load_loses_nothing_and_every_process_recovers(deployed: Site) -> None:
    restart = postgres_restart_command(deployed.url)
    web1, web2 = deployed.urls
    with Load(deployed, "重启", [web1, web2]) as load:
        eventually(lambda: load.served(web1) >= 5 and load.served(web2) >= 5, "both web processes serving")
        eventually(lambda: delivered_some(deployed, "重启"), "the worker delivering")
        try:
            subprocess.run(restart, check=True, capture_output=True, timeout=120)
        finally:
            ensure_postgres_up(restart)
        # Meanwhile clients were told to try again shortly, not that Loom is broken.
        assert set(load.refused) <= {503}, load.refused
        served = (load.served(web1), load.served(web2))
        eventually(
            lambda: load.served(web1) > served[0] and load.served(web2) > served[1],
            "both web processes serving again",
        )
    # No process was restarted, and each web process answers its very next request.
    assert [p.poll() for p in [*deployed.deployment.webs, *deployed.deployment.workers]] == [None] * 3
    create_ticket(deployed, web1, "重启-之后-1")
    create_ticket(deployed, web2, "重启-之后-2")

    assert_each_acknowledged_create_stored_once(deployed, load)
    after = [ticket_id for _, ticket_id in stored_tickets(deployed, "重启-之后")]
    eventually(lambda: all_delivered(deployed, after), "the worker delivering again")


def postgres_restart_command(url: str) -> list[str]:
    """pg_ctlcluster's restart of the local cluster serving `url`; skips unless allowed to restart it."""
    if not (IN_CI or os.environ.get("LOOM_TEST_POSTGRES_RESTART") == "1"):
        pytest.skip("restarts the PostgreSQL server: runs in CI, or with LOOM_TEST_POSTGRES_RESTART=1")
    port = str(make_url(url).port or 5432)
    listed = shutil.which("pg_lsclusters")
    clusters = subprocess.run([listed], capture_output=True, text=True).stdout if listed else ""
    for line in clusters.splitlines()[1:]:
        version, cluster, cluster_port, *_ = line.split()
        if cluster_port == port:
            return ["pg_ctlcluster", version, cluster, "restart"]
    pytest.fail(f"no local PostgreSQL cluster on port {port} to restart (pg_lsclusters: {clusters!r})")


def ensure_postgres_up(restart: list[str]) -> None:
    """The server is back before the test ends, whatever happened: the tests after it need it."""
    if subprocess.run([*restart[:3], "status"], capture_output=True).returncode != 0:
        subprocess.run([*restart[:3], "start"], capture_output=True, timeout=120)
