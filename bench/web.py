"""The REST API under load: gunicorn (2 workers) on SQLite and PostgreSQL, driven by wrk over loopback.

Each figure is set against bench/web_baseline.py — the same three endpoints written by hand with
Flask and SQLAlchemy Core — served by the same gunicorn settings on the same database in this run.
PostgreSQL runs when LOOM_BENCH_POSTGRES_URL (or LOOM_TEST_POSTGRES_URL) names a server.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench.setup import POSTGRES_URL, databases, postgres_schema, scaled, settle
from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "wrk"
LOOM_APP = "runtime.web.wsgi:app"
BASELINE_APP = "bench.web_baseline:app"
WORKERS = 2
WRK = ["-t2", "-c16", "-d10s", "--latency", "--timeout", "10s"]
USERNAME = "bench.admin"
PASSWORD = "correct-horse-电池-staple"
LEVELS = ["vip", "key", "normal"]
LIFECYCLES = ["lead", "prospect", "customer", "loyal", "dormant", "lost"]
REGIONS = ["east", "south", "north", "central", "southwest", "northwest", "northeast"]
# "VIP customers in East China, by name": the Loom API takes an expression, the baseline equalities.
LIST_QUERY = {"limit": 50, "sort": "name", "filter": "region == 'east' and level == 'vip'"}
BASELINE_LIST_QUERY = {"limit": 50, "sort": "name", "region": "east", "level": "vip"}
# endpoint: its label, the figure the target is set on, the target ratio to the baseline, and for the
# list page also a ceiling in milliseconds. In the order they run: the list page before the creates,
# so it is measured at the customers the figures name (after them it read some 20,000 more, whose
# names, "压测新建客户 …", sort ahead of the page's, and both endpoints ran two to three times slower).
ENDPOINTS = {
    "get": ("GET one customer", "req/s", 0.8, None),
    "list": ("GET list page of 50", "ms p95", 1.25, 100),
    "create": ("POST create customer", "req/s", 0.8, None),
}
NEW_CUSTOMER = {
    "name": "压测新建客户 {n}",
    "level": "key",
    "lifecycle": "prospect",
    "region": "east",
    "industry": "saas",
    "annual_purchase": "120000.50",
}


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    requests_per_second: float
    p95_ms: float
    failed: int

    @classmethod
    def parse(cls, output: str) -> Load:
        found = re.search(r"^loom-wrk (.*)$", output, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"wrk printed no summary line:\n{output}")
        figures = {key: int(value) for key, value in (pair.split("=") for pair in found.group(1).split())}
        return cls(
            requests_per_second=figures["requests"] / (figures["duration_us"] / 1e6),
            p95_ms=figures["p95_us"] / 1000,
            failed=figures["non2xx"] + figures["socket_errors"],
        )

    def figure(self, unit: str) -> float:
        return self.requests_per_second if unit == "req/s" else self.p95_ms


def run() -> list[dict]:
    if shutil.which("wrk") is None:
        print("  bench.web skipped: wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
        return []
    n = scaled(100_000)
    rows: list[dict] = []
    for kind in databases():
        with tempfile.TemporaryDirectory() as folder, _database(kind, folder) as url:
            first_id, last_id = _prepare(url, n)
            # The load's writes (and the previous database's) reach the disk now, not while a
            # server's commits wait for theirs to be flushed in the middle of a measurement.
            os.sync()
            environment = {"LOOM_DATABASE_URL": url, "LOOM_SECRET_KEY": secrets.token_hex(32)}
            with (
                _server(LOOM_APP, environment, Path(folder) / "loom.log") as loom_url,
                _server(BASELINE_APP, environment, Path(folder) / "baseline.log") as baseline_url,
            ):
                token = _issue_token(loom_url)
                loom_jobs = _jobs(loom_url, token, first_id, last_id, LIST_QUERY)
                baseline_jobs = _jobs(baseline_url, token, first_id, last_id, BASELINE_LIST_QUERY)
                loom, baseline = {}, {}
                for key in ENDPOINTS:
                    # Back to back, so whatever else the machine is doing weighs on both alike.
                    loom[key] = _wrk(*loom_jobs[key])
                    baseline[key] = _wrk(*baseline_jobs[key])
        rows += _results(n, kind, loom, baseline, _busy_machine())
    return rows


@contextmanager
def _database(kind: str, folder: str) -> Iterator[str]:
    """A new SQLite file in `folder`, or a new schema on the PostgreSQL server."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/web.db"
        return
    with postgres_schema(POSTGRES_URL or "") as url:
        yield url


def _prepare(url: str, n: int) -> tuple[int, int]:
    """The CRM on a fresh SQLite file with n customers and an admin; returns the first and last id."""
    loom = Loom(url)
    try:
        loom.init()
        install_package(loom, CRM_PACKAGE)
        ids: list[int] = []
        for start in range(0, n, 10_000):
            ids += loom.records().bulk_create("customer", _customers(start, min(n, start + 10_000)))
        identity.create_user(loom, USERNAME, "压测管理员", PASSWORD, roles=["admin"], actor=SYSTEM)
        settle(loom, "obj_customer")
    finally:
        loom.close()
    return min(ids), max(ids)


def _customers(start: int, stop: int) -> list[dict]:
    return [
        {
            "name": f"杭州{i:06d}科技有限公司",
            "level": LEVELS[i % 3],
            "lifecycle": LIFECYCLES[i % 6],
            "region": REGIONS[i % 7],
            "annual_purchase": f"{(i * 7919) % 5_000_000}.50",
        }
        for i in range(start, stop)
    ]


@contextmanager
def _server(app: str, environment: dict[str, str], log: Path, workers: int = WORKERS) -> Iterator[str]:
    """gunicorn serving `app` on a free loopback port; yields its base URL and always stops it."""
    port = _free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    command += ["--no-control-socket", app]  # its default path is per user: two runs would collide
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **environment}, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_ready(process, base, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_ready(process: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/api/v1/records/customer/1", timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers (401 without a token): ready
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within 60 s:\n{log.read_text()}")


def _issue_token(base: str) -> str:
    body = {"username": USERNAME, "password": PASSWORD, "name": "bench.web"}
    status, answer = _call(base, "POST", "/api/v1/auth/token", body)
    if status != 201:
        raise RuntimeError(f"POST /api/v1/auth/token answered {status}: {answer}")
    return answer["token"]


def _jobs(
    base: str, token: str, first_id: int, last_id: int, list_query: dict
) -> dict[str, tuple[str, str, dict[str, str]]]:
    """Check that each endpoint answers as it should; then, per endpoint, wrk's URL, script and variables."""
    list_path = f"/api/v1/records/customer?{urlencode(list_query)}"
    body = json.dumps(NEW_CUSTOMER, ensure_ascii=False)
    _check(base, token, "GET", f"/api/v1/records/customer/{first_id}", None, 200, "id")
    _check(base, token, "POST", "/api/v1/records/customer", json.loads(body.replace("{n}", "0")), 201, "id")
    _check(base, token, "GET", list_path, None, 200, "data")
    ids = {"LOOM_WRK_FIRST_ID": str(first_id), "LOOM_WRK_LAST_ID": str(last_id)}
    return {
        "get": (
            base,
            "random_id.lua",
            {"LOOM_WRK_TOKEN": token, "LOOM_WRK_PATH": "/api/v1/records/customer/", **ids},
        ),
        "create": (
            base,
            "post_json.lua",
            {"LOOM_WRK_TOKEN": token, "LOOM_WRK_PATH": "/api/v1/records/customer", "LOOM_WRK_BODY": body},
        ),
        "list": (f"{base}{list_path}", "get.lua", {"LOOM_WRK_TOKEN": token}),
    }


def _check(base: str, token: str, method: str, path: str, body: dict | None, status: int, key: str) -> None:
    answered, answer = _call(base, method, path, body, token)
    if answered != status or not isinstance(answer, dict) or key not in answer:
        raise RuntimeError(
            f"{method} {base}{path} answered {answered} {answer!r}; expected {status} with {key!r}"
        )


def _call(
    base: str, method: str, path: str, body: dict | None, token: str | None = None
) -> tuple[int, object]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, text[:300]


def _wrk(url: str, script: str, variables: dict[str, str]) -> Load:
    command = ["wrk", *WRK, "-s", str(SCRIPTS / script), url]
    finished = subprocess.run(
        command, env={**os.environ, **variables}, capture_output=True, text=True, check=True
    )
    return Load.parse(finished.stdout)


def _busy_machine() -> str | None:
    """A warning when other work competed for the CPUs: the req/s then say less than the ratios."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load <= cores:
        return None
    return f"machine busy (load {load:.1f} on {cores} cores): trust the ratios more than the req/s"


def _results(
    n: int, kind: str, loom: dict[str, Load], baseline: dict[str, Load], warning: str | None
) -> list[dict]:
    database = "SQLite" if kind == "sqlite" else "PostgreSQL"
    rows = []
    for key, (label, target_unit, target_ratio, ceiling) in ENDPOINTS.items():
        ours, theirs = loom[key], baseline[key]
        for unit in ("req/s", "ms p95"):
            row = {
                "name": f"{label} ({n:,} customers, {database}, gunicorn -w {WORKERS}, wrk -c16)",
                "value": ours.figure(unit),
                "unit": unit,
                "baseline_name": "Flask + SQLAlchemy by hand",
                "baseline": theirs.figure(unit),
                "ratio": ours.figure(unit) / theirs.figure(unit),
            }
            notes = ["ratio = Loom ÷ baseline"]
            if unit == target_unit:
                notes.append(_verdict(row, target_ratio, ceiling))
            if warning:
                notes.append(warning)
            if ours.failed or theirs.failed:
                notes.append(f"failed requests: Loom {ours.failed:,}, baseline {theirs.failed:,}")
            row["note"] = "; ".join(notes)
            rows.append(row)
    return rows


def _verdict(row: dict, target_ratio: float, ceiling: float | None) -> str:
    """Sets the row's target and says whether it is met: a ratio for req/s, a ratio and a ceiling for p95."""
    if row["unit"] == "req/s":
        row["target"] = f"ratio ≥ {target_ratio}×"
        met = row["ratio"] >= target_ratio
    else:
        row["target"] = f"ratio ≤ {target_ratio}× and ≤ {ceiling:g} ms"
        met = row["ratio"] <= target_ratio and row["value"] <= (ceiling or float("inf"))
    return "met" if met else "MISSED"
