"""A whole deployment under mixed load: 50 connections for 60 s on PostgreSQL over loopback.

The deployment is what docs/deploy.md describes, started by deploy/local.py: two gunicorn web
processes on their own ports and one `loom worker`. Every connection is a user of the demo company
doing the next thing its mix draws — reading a record, filtering a list, creating and changing
customers, sending a contract for approval that the rep's manager then finds in the inbox and
approves, opening pages — each request to the next web process in turn.

The same driver, with the same connections for the same time, then loads bench/web_baseline.py (the
record endpoints written by hand with Flask and SQLAlchemy Core) served the same way on the same
database: each kind's figures are set against the baseline's like kind.
"""

from __future__ import annotations

import random
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from statistics import quantiles
from typing import Any

import requests

from bench.setup import POSTGRES_URL, SCALE, postgres_schema, scaled
from bench.web import _busy_machine, _server
from deploy import local
from engine import identity
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from runtime.demo.catalog import REGIONS_OF
from runtime.demo.data import DEFAULT_PASSWORD, load_demo_data

CONNECTIONS = 50
DURATION = max(2.0, 60 * SCALE)  # seconds
WEB_WORKERS = 2  # gunicorn workers in each of the two web processes: four for two cores
DEMO_CUSTOMERS = max(15, int(150 * SCALE))
EXTRA_CUSTOMERS = scaled(20_000)  # owned by the reps, so lists and scopes have rows to sift
REQUEST_TIMEOUT = 30  # seconds; a request that takes longer is an error
BASELINE_APP = "bench.web_baseline:app"

KINDS = {
    "read": "GET one record",
    "list": "GET a filtered, sorted list of 50",
    "create": "POST create",
    "update": "PATCH with version",
    "submit": "POST submit for approval",
    "inbox": "GET approvals inbox",
    "approve": "POST approve",
    "page": "GET a page (session cookie)",
}
# What a connection does next, by weight; an approval is four requests (create, submit, inbox, approve).
MIX = {"read": 35, "list": 20, "create": 8, "update": 15, "approval": 8, "page": 14}
# The baseline has no approvals and no pages: those turns read a record instead.
BASELINE_MIX = {"read": 57, "list": 20, "create": 8, "update": 15}
OBJECTS_READ = ("customer", "opportunity", "contact")
# Those who read, filter and open pages; reps write and submit, their managers approve.
READERS = ("admin", "manager1", "manager2", "sales1", "sales2", "sales4", "sales5")
REPS = {"sales1": "manager1", "sales2": "manager1", "sales4": "manager2", "sales5": "manager2"}
DEPARTMENT_OF = {"sales1": "sales1", "sales2": "sales1", "sales4": "sales2", "sales5": "sales2"}
LEVELS = ("vip", "key", "normal", "normal")
LIFECYCLES = ("lead", "prospect", "customer", "loyal", "dormant")
INDUSTRIES = ("manufacturing", "electronics", "saas", "logistics", "energy", "healthcare")
# Lists as a user filters them: an expression and a sort for Loom, the same as equalities for the
# baseline (which takes `<column>=<value>` and one sort column).
LISTS = [
    ("customer", "region == 'east' and level == 'vip'", "name", {"region": "east", "level": "vip"}),
    ("customer", "lifecycle == 'customer'", "-annual_purchase", {"lifecycle": "customer"}),
    (
        "customer",
        "industry == 'saas' and region == 'north'",
        "-created_at",
        {"industry": "saas", "region": "north"},
    ),
    ("opportunity", "stage == 'proposal'", "-amount", {"stage": "proposal"}),
    ("contact", "decision_role == 'decision_maker'", "name", {"decision_role": "decision_maker"}),
]
LOGGED_ERROR = re.compile(r"\bERROR\b|\bCRITICAL\b|Traceback")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Person:
    """A demo user as the driver acts as them: a token, a page session and ids they may read."""

    username: str
    user_id: int
    token: str = ""
    cookies: dict[str, str] = field(default_factory=dict)
    readable: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class Target:
    """What one load drives: base URLs to take turns on, the people, and what the mix may do there."""

    urls: list[str]
    people: dict[str, Person]
    owned: dict[str, list[int]]  # rep → customers they own from the start
    mix: dict[str, int]
    loom: bool  # Loom's filters and pages, or the baseline's equalities
    deployment: local.Deployment | None = None  # whose logs are read for errors afterwards


@dataclass
class Tally:
    """What one connection saw: latencies of answered requests by kind, errors and conflicts."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    conflicts: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for kind in KINDS:
            self.latencies[kind] += other.latencies[kind]
            self.errors[kind] += other.errors[kind]
        self.conflicts += other.conflicts
        self.samples += other.samples[: max(0, 10 - len(self.samples))]

    def fail(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.samples) < 10:
            self.samples.append(f"{kind}: {what}")


@dataclass(frozen=True)
class Figures:
    """One kind's figures over a whole load."""

    count: int
    p50_ms: float
    p95_ms: float
    errors: int


@dataclass
class Outcome:
    """A whole load: figures by kind, requests per second, conflicts and a few errors as seen."""

    kinds: dict[str, Figures]
    duration: float
    conflicts: int
    samples: list[str]
    driver_cpu: float  # seconds of CPU the driver itself took: it shares the machine with the servers

    @property
    def requests(self) -> int:
        return sum(figures.count + figures.errors for figures in self.kinds.values())

    @property
    def errors(self) -> int:
        return sum(figures.errors for figures in self.kinds.values())


def run() -> list[dict]:
    if not POSTGRES_URL:
        print("  bench.load skipped: set LOOM_BENCH_POSTGRES_URL (or LOOM_TEST_POSTGRES_URL)")
        return []
    with (
        tempfile.TemporaryDirectory() as logs,
        postgres_schema(POSTGRES_URL) as url,
        deployment(url, log_dir=Path(logs)) as (target, baseline_target),
    ):
        loom = drive(target, CONNECTIONS, DURATION)
        logged = logged_errors(target)
        assert baseline_target is not None
        baseline = drive(baseline_target, CONNECTIONS, DURATION)
    for sample in loom.samples:
        print(f"  error answered: {sample}")
    for line in logged[:10]:
        print(f"  error logged: {line}")
    return results(loom, baseline, len(logged), _busy_machine())


@contextmanager
def deployment(
    url: str,
    demo_customers: int = DEMO_CUSTOMERS,
    extra_customers: int = EXTRA_CUSTOMERS,
    *,
    web_workers: int = WEB_WORKERS,
    baseline: bool = True,
    log_dir: Path | None = None,
) -> Iterator[tuple[Target, Target | None]]:
    """The CRM with demo data on `url`, served by a deployment and (unless not wanted) by the
    baseline; yields a target for each. Every process is stopped on the way out."""
    owners = prepare(url, demo_customers, extra_customers)
    running = local.start(url, web_workers=web_workers, log_dir=log_dir)
    try:
        people = sign_in(running.urls, owners)
        owned = {rep: _owned(running.urls[0], people[rep]) for rep in REPS}
        target = Target(running.urls, people, owned, MIX, loom=True, deployment=running)
        if not baseline:
            yield target, None
            return
        environment = {**running.environment, "LOOM_DATABASE_URL": url}
        with (
            _server(BASELINE_APP, environment, running.log_dir / "baseline1.log", web_workers) as first,
            _server(BASELINE_APP, environment, running.log_dir / "baseline2.log", web_workers) as second,
        ):
            yield target, Target([first, second], people, owned, BASELINE_MIX, loom=False)
    finally:
        running.stop()


def prepare(url: str, demo_customers: int, extra_customers: int) -> dict[str, int]:
    """Install the CRM, load the demo company and give each rep a share of `extra_customers`;
    returns the demo users' ids by username."""
    loom = Loom(url)
    try:
        loom.init()
        install_package(loom, CRM_PACKAGE)
        load_demo_data(loom, customers=demo_customers)
        ids = {name: identity.user_by_username(loom, name)["id"] for name in {*READERS, *REPS.values()}}
        admin = loom.records(identity.actor_for(loom, ids["admin"]))
        reps = list(REPS)
        for start in range(0, extra_customers, 5_000):
            rows = [
                _extra_customer(i, ids[reps[i % len(reps)]], reps[i % len(reps)])
                for i in range(start, min(extra_customers, start + 5_000))
            ]
            admin.bulk_create("customer", rows)
    finally:
        loom.close()
    return ids


def _extra_customer(i: int, owner: int, rep: str) -> dict[str, Any]:
    regions = REGIONS_OF[DEPARTMENT_OF[rep]]
    return {
        "name": f"压测客户{i:06d}有限公司",
        "owner": owner,
        "level": LEVELS[i % len(LEVELS)],
        "lifecycle": LIFECYCLES[i % len(LIFECYCLES)],
        "region": regions[i % len(regions)],
        "industry": INDUSTRIES[i % len(INDUSTRIES)],
        "annual_purchase": f"{(i * 7919) % 5_000_000}.50",
    }


def sign_in(urls: list[str], ids: dict[str, int]) -> dict[str, Person]:
    """A token and a page session for every user the load acts as, taken from the deployment itself."""
    users = sorted(ids.items())
    with ThreadPoolExecutor(len(users)) as pool:
        people = pool.map(lambda index: _sign_in(urls[index % len(urls)], *users[index]), range(len(users)))
        return {person.username: person for person in people}


def _sign_in(base: str, username: str, user_id: int) -> Person:
    person = Person(username, user_id)
    body = {"username": username, "password": DEFAULT_PASSWORD, "name": "bench.load"}
    answer = requests.post(f"{base}/api/v1/auth/token", json=body, timeout=REQUEST_TIMEOUT)
    answer.raise_for_status()
    person.token = answer.json()["token"]
    with requests.Session() as browser:
        form = browser.get(f"{base}/login", timeout=REQUEST_TIMEOUT)
        found = CSRF.search(form.text)
        if found is None:
            raise RuntimeError(f"the sign-in page of {base} carries no CSRF token")
        fields = {"csrf_token": found.group(1), "username": username, "password": DEFAULT_PASSWORD}
        signed = browser.post(f"{base}/login", data=fields, allow_redirects=False, timeout=REQUEST_TIMEOUT)
        if signed.status_code != 302:
            raise RuntimeError(f"{username} could not sign in on {base}: {signed.status_code}")
        person.cookies = browser.cookies.get_dict()
    for name in OBJECTS_READ:
        person.readable[name] = _ids(base, person, name, {"limit": 500})
        if not person.readable[name]:
            raise RuntimeError(f"{username} reads no {name}")
    return person


def _owned(base: str, rep: Person) -> list[int]:
    return _ids(base, rep, "customer", {"limit": 500, "filter": f"owner == {rep.user_id}"})


def _ids(base: str, person: Person, name: str, query: dict[str, Any]) -> list[int]:
    answer = requests.get(
        f"{base}/api/v1/records/{name}",
        params={**query, "fields": "id"},
        headers={"Authorization": f"Bearer {person.token}"},
        timeout=REQUEST_TIMEOUT,
    )
    answer.raise_for_status()
    return [row["id"] for row in answer.json()["data"]]


def drive(target: Target, connections: int, duration: float) -> Outcome:
    """`connections` users at once, each doing its next step as soon as the last one is answered,
    until `duration` seconds have passed."""
    deadline = time.monotonic() + duration
    tallies = [Tally() for _ in range(connections)]
    threads = [
        threading.Thread(target=Connection(index, target, tallies[index]).loop, args=(deadline,))
        for index in range(connections)
    ]
    started, cpu = time.monotonic(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    total = Tally()
    for tally in tallies:
        total.add(tally)
    kinds = {kind: _figures(total.latencies[kind], total.errors[kind]) for kind in KINDS}
    return Outcome(kinds, elapsed, total.conflicts, total.samples, cpu)


def logged_errors(target: Target) -> list[str]:
    """The lines the deployment's processes logged as errors or tracebacks so far."""
    if target.deployment is None:
        return []
    names = [f"web{index + 1}" for index in range(len(target.urls))] + ["worker1"]
    return [
        f"{name}: {line}"
        for name in names
        for line in target.deployment.log(name).splitlines()
        if LOGGED_ERROR.search(line)
    ]


def _figures(latencies: list[float], errors: int) -> Figures:
    if len(latencies) < 2:
        only = latencies[0] if latencies else 0.0
        return Figures(len(latencies), only, only, errors)
    cuts = quantiles(latencies, n=100, method="inclusive")
    return Figures(len(latencies), cuts[49], cuts[94], errors)


class Connection:
    """One user at a keyboard that never pauses: a rep of its own, any reader for reading."""

    def __init__(self, index: int, target: Target, tally: Tally) -> None:
        self.target = target
        self.tally = tally
        self.random = random.Random(index)
        self.rep = list(REPS)[index % len(REPS)]
        self.turn = index  # which web process the next request goes to
        self.created = 0
        self.index = index
        self.mine: dict[int, int] = {}  # customers this connection created → their version
        self.http = requests.Session()
        # Each request names its user itself: a cookie a page answered with must not ride along
        # on the next request, which may act as someone else.
        self.http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.steps: dict[str, Callable[[], None]] = {
            "read": self.read,
            "list": self.list,
            "create": self.create,
            "update": self.update,
            "approval": self.approval,
            "page": self.page,
        }

    def loop(self, deadline: float) -> None:
        names, weights = list(self.target.mix), list(self.target.mix.values())
        # The first step goes round the mix, so a run as short as one step per connection still has
        # every kind in it; the mix's weights draw every step after that.
        step = names[self.index % len(names)]
        try:
            while time.monotonic() < deadline:
                self.steps[step]()
                step = self.random.choices(names, weights)[0]
        finally:
            self.http.close()

    def call(
        self, kind: str, person: Person, method: str, path: str, *, page: bool = False, **options: Any
    ) -> Any:
        """One request, timed; its JSON when it succeeds, None (counted) when it does not."""
        base = self.target.urls[self.turn % len(self.target.urls)]
        self.turn += 1
        if page:
            options["cookies"] = person.cookies
        else:
            options["headers"] = {"Authorization": f"Bearer {person.token}"}
        started = time.perf_counter()
        try:
            answer = self.http.request(
                method, base + path, timeout=REQUEST_TIMEOUT, allow_redirects=False, **options
            )
            body = answer.content
        except requests.RequestException as error:
            self.tally.fail(kind, f"{person.username} {method} {path}: {type(error).__name__} {error}")
            return None
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code == 409 and kind == "update":
            self.tally.conflicts += 1  # someone saved it since: the caller reads it again
            return None
        if not 200 <= answer.status_code < 300:
            self.tally.fail(kind, f"{person.username} {method} {path} → {answer.status_code} {body[:300]!r}")
            return None
        self.tally.latencies[kind].append(elapsed)
        return True if page else answer.json()

    def reader(self) -> Person:
        return self.target.people[self.random.choice(READERS)]

    def read(self) -> None:
        person = self.reader()
        name = self.random.choice(OBJECTS_READ)
        self.call(
            "read", person, "GET", f"/api/v1/records/{name}/{self.random.choice(person.readable[name])}"
        )

    def list(self) -> None:
        name, expression, sort, equalities = self.random.choice(LISTS)
        query = {"filter": expression, "sort": sort} if self.target.loom else {**equalities, "sort": sort}
        self.call("list", self.reader(), "GET", f"/api/v1/records/{name}", params={"limit": 50, **query})

    def create(self) -> int | None:
        self.created += 1
        regions = REGIONS_OF[DEPARTMENT_OF[self.rep]]
        body = {
            "name": f"压测新客户{self.index:02d}-{self.created:05d}",
            "lifecycle": "prospect",
            "region": self.random.choice(regions),
            "industry": self.random.choice(INDUSTRIES),
            "annual_purchase": f"{self.random.randrange(10_000, 900_000)}.00",
        }
        record = self.call(
            "create", self.target.people[self.rep], "POST", "/api/v1/records/customer", json=body
        )
        if record is None:
            return None
        self.mine[record["id"]] = record["version"]
        return record["id"]

    def update(self) -> None:
        """Change a customer this connection created: no other connection writes it, so a stale
        version can only come from the worker's rules."""
        record_id = self.random.choice(list(self.mine)) if self.mine else self.create()
        if record_id is None:
            return
        rep = self.target.people[self.rep]
        body = {
            "version": self.mine[record_id],
            "lifecycle": self.random.choice(LIFECYCLES),
            "annual_purchase": f"{self.random.randrange(10_000, 900_000)}.00",
            "remark": f"第{self.mine[record_id]}次修改",
        }
        record = self.call("update", rep, "PATCH", f"/api/v1/records/customer/{record_id}", json=body)
        if record is None:
            fresh = self.call("read", rep, "GET", f"/api/v1/records/customer/{record_id}")
            if fresh is not None:
                self.mine[record_id] = fresh["version"]
            return
        self.mine[record_id] = record["version"]

    def approval(self) -> None:
        """A rep writes a contract under 100,000 and submits it; their manager finds it in the
        inbox and approves it, which ends the approval."""
        rep, manager = self.target.people[self.rep], self.target.people[REPS[self.rep]]
        body = {
            "name": f"压测合同{self.index:02d}-{self.created:05d}",
            "customer": self.random.choice(self.target.owned[self.rep]),
            "type": "sales",
            "amount": f"{self.random.randrange(5_000, 99_000)}.00",
            "payment_terms": "net_30",
        }
        self.created += 1
        contract = self.call("create", rep, "POST", "/api/v1/records/contract", json=body)
        if contract is None:
            return
        path = f"/api/v1/records/contract/{contract['id']}/submit"
        instance = self.call(
            "submit", rep, "POST", path, json={"flow": "contract_approval", "comment": "请审批"}
        )
        if instance is None:
            return
        task_id = self.find_task(manager, instance["id"])
        if task_id is None:
            return
        decided = self.call(
            "approve", manager, "POST", f"/api/v1/approvals/tasks/{task_id}/approve", json={"comment": "同意"}
        )
        if decided is not None and decided["status"] != "approved":
            self.tally.fail(
                "approve", f"approval {instance['id']} is {decided['status']} after its one approval"
            )

    def find_task(self, manager: Person, instance_id: int) -> int | None:
        """The manager's task on the approval, through the inbox as they page through it."""
        params: dict[str, Any] = {"limit": 20}
        for _ in range(20):
            page = self.call("inbox", manager, "GET", "/api/v1/approvals/inbox", params=params)
            if page is None:
                return None
            for item in page["data"]:
                if item["instance_id"] == instance_id:
                    return item["task_id"]
            if page["next_before"] is None:
                break
            params["before"] = page["next_before"]
        self.tally.fail("inbox", f"approval {instance_id} is not in its approver's inbox")
        return None

    def page(self) -> None:
        person = self.reader()
        if self.random.random() < 0.5:
            self.call("page", person, "GET", "/app/customer", page=True)
        else:
            record_id = self.random.choice(person.readable["customer"])
            self.call("page", person, "GET", f"/app/customer/{record_id}", page=True)


def results(loom: Outcome, baseline: Outcome, logged: int, warning: str | None) -> list[dict]:
    """Per kind its p50 and p95 against the baseline's like kind (its GET one for approvals and
    pages, which it has not); then the totals, whose target is no error at all."""
    setting = (
        f"{CONNECTIONS} connections, {loom.duration:.0f} s, PostgreSQL,"
        f" 2 web processes × gunicorn -w {WEB_WORKERS} + a worker"
    )
    rows = []
    for kind, label in KINDS.items():
        ours = loom.kinds[kind]
        like = kind if kind in BASELINE_MIX else "read"
        theirs = baseline.kinds[like]
        for unit, figure in (("ms p50", "p50_ms"), ("ms p95", "p95_ms")):
            value, reference = getattr(ours, figure), getattr(theirs, figure)
            notes = [f"{ours.count:,} answered, {ours.errors:,} errors"]
            if like != kind:
                notes.append("baseline: its GET one")
            rows.append(
                {
                    "name": f"load {kind}: {label}",
                    "value": value,
                    "unit": unit,
                    "baseline_name": "Flask + SQLAlchemy by hand",
                    "baseline": reference,
                    "ratio": value / reference if reference else 0.0,
                    "note": "; ".join(notes),
                }
            )
    notes = [
        f"{loom.requests:,} requests, {loom.errors:,} errors, {loom.conflicts:,} version conflicts",
        f"{logged:,} errors logged by the processes",
        f"the driver took {loom.driver_cpu / loom.duration:.0%} of a core",
        "ratio = Loom ÷ baseline",
        "met" if loom.errors == 0 and logged == 0 else "MISSED",
    ]
    if warning:
        notes.append(warning)
    rows.append(
        {
            "name": f"load all kinds ({setting})",
            "value": loom.requests / loom.duration,
            "unit": "req/s",
            "baseline_name": "Flask + SQLAlchemy by hand",
            "baseline": baseline.requests / baseline.duration,
            "ratio": (loom.requests / loom.duration) / (baseline.requests / baseline.duration),
            "target": "0 errors",
            "note": "; ".join(notes),
        }
    )
    return rows
