"""The lookup picker's search over 1,000,000 customers, through HTTP: gunicorn (2 workers) on SQLite,
a signed-in admin and a signed-in sales rep (department scope) typing into a follow-up's customer field.

The baseline is bench/lookup_baseline.py — the same prefix search by hand (Flask + sqlite3, no
sign-in, scope or metadata) — served by the same gunicorn settings on the same file in this run.
Latency is measured by a client that sends one request at a time, as one person typing does.
"""

from __future__ import annotations

import http.client
import random
import re
import secrets
import sqlite3
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from bench.setup import scaled
from bench.web import _server
from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package

ROWS = 1_000_000
REQUESTS = 1000
TARGET_MS = 50
PASSWORD = "correct-horse-电池-staple"
CITIES = ["杭州", "上海", "北京", "深圳", "苏州", "成都", "武汉", "南京"]
TRADES = ["科技", "贸易", "机械", "电子", "物流", "咨询"]


def run() -> list[dict]:
    n = scaled(ROWS)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/lookups.db"
        started = time.perf_counter()
        _prepare(url, n)
        built = time.perf_counter() - started
        environment = {"LOOM_DATABASE_URL": url, "LOOM_SECRET_KEY": secrets.token_hex(32)}
        queries = _typed(n)
        with (
            _server("runtime.web.wsgi:app", environment, Path(folder) / "loom.log") as loom_url,
            _server("bench.lookup_baseline:app", environment, Path(folder) / "baseline.log") as base_url,
        ):
            sessions = {who: _sign_in(loom_url, who) for who in ("bench.admin", "bench.rep")}
            timings: dict[str, list[float]] = {"bench.admin": [], "bench.rep": [], "baseline": []}
            failed = 0
            # Interleaved, so whatever else the machine does weighs on each alike.
            for q in queries:
                for who, cookie in sessions.items():
                    ms, ok = _get(loom_url, "/app/followup/lookup/customer", q, cookie)
                    timings[who].append(ms)
                    failed += not ok
                ms, ok = _get(base_url, "/lookup", q, None)
                timings["baseline"].append(ms)
                failed += not ok
    return _results(n, built, timings, failed)


def _prepare(url: str, n: int) -> None:
    """The CRM, an admin and a rep in one of two departments, and n customers written by raw inserts."""
    loom = Loom(url)
    try:
        loom.init()
        install_package(loom, CRM_PACKAGE)
        east = identity.create_department(loom, "华东销售部", actor=SYSTEM)["id"]
        west = identity.create_department(loom, "西南销售部", actor=SYSTEM)["id"]
        identity.create_user(loom, "bench.admin", "压测管理员", PASSWORD, roles=["admin"], actor=SYSTEM)
        owners = [
            identity.create_user(
                loom, name, name, PASSWORD, roles=["sales_rep"], department_id=department, actor=SYSTEM
            )["id"]
            for name, department in (("bench.rep", east), ("bench.rep2", east), ("bench.west", west))
        ]
    finally:
        loom.close()
    _insert_customers(url.removeprefix("sqlite:///"), n, owners)


def _insert_customers(path: str, n: int, owners: list[int]) -> None:
    """Raw inserts with the indexes dropped and rebuilt afterwards: minutes become seconds."""
    conn = sqlite3.connect(path)
    indexes = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'obj_customer' AND sql IS NOT NULL"
    ).fetchall()
    for (sql,) in indexes:
        conn.execute("DROP INDEX " + sql.split()[2 if sql.startswith("CREATE INDEX") else 3])
    now = datetime(2026, 11, 26, 9, 0).isoformat(sep=" ")
    columns = (
        "created_at, updated_at, version, owner_id, code, name, short_name, contact_name, phone, email,"
        " level, lifecycle, in_pool"
    )
    sql = f"INSERT INTO obj_customer ({columns}) VALUES ({', '.join('?' * 13)})"
    rows = (
        (
            now,
            now,
            1,
            owners[i % len(owners)],
            f"KH-2026-{i:07d}",
            f"{CITIES[i % 8]}{i:07d}{TRADES[i % 6]}有限公司",
            f"{TRADES[i % 6]}{i:07d}",
            f"联系人{i % 5000:04d}",
            f"13{i % 10}{i:08d}",
            f"buyer{i}@example.com",
            "normal",
            "customer",
            0,
        )
        for i in range(n)
    )
    with conn:
        conn.executemany(sql, rows)
    with conn:
        for (sql,) in indexes:
            conn.execute(sql)
    conn.close()


def _typed(n: int) -> list[str]:
    """What people type into the field: a city, a name, a phone, an e-mail, a code, or nothing yet."""
    pick = random.Random(13)
    typed = []
    for _ in range(REQUESTS):
        i = pick.randrange(n)
        kind = pick.randrange(6)
        typed.append(
            [
                CITIES[pick.randrange(8)],
                f"{CITIES[i % 8]}{i:07d}"[: pick.randint(3, 9)],
                f"13{i % 10}{i:08d}"[: pick.randint(3, 11)],
                f"buyer{i}"[: pick.randint(6, 12)],
                f"KH-2026-{i:07d}"[: pick.randint(9, 15)],
                "",
            ][kind]
        )
    return typed


def _sign_in(base: str, username: str) -> str:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = urlencode({"csrf_token": token, "username": username, "password": PASSWORD})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    conn.request("POST", "/login", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"signing in as {username} answered {response.status}")
    return response.getheader("Set-Cookie", cookie).split(";")[0]


_connections: dict[str, http.client.HTTPConnection] = {}


def _get(base: str, path: str, q: str, cookie: str | None) -> tuple[float, bool]:
    """One request on a kept-alive connection; its time in ms and whether it answered 200 with results."""
    conn = _connections.get(base)
    if conn is None:
        host, port = base.removeprefix("http://").split(":")
        conn = _connections[base] = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Accept": "application/json", **({"Cookie": cookie} if cookie else {})}
    started = time.perf_counter()
    conn.request("GET", f"{path}?{urlencode({'q': q})}", headers=headers)
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, response.status == 200 and b'"results"' in body


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def _results(n: int, built: float, timings: dict[str, list[float]], failed: int) -> list[dict]:
    baseline = _p95(timings["baseline"])
    rows = []
    for who, label in (("bench.admin", "admin"), ("bench.rep", "sales rep, department scope")):
        value = _p95(timings[who])
        notes = [
            "ratio = Loom ÷ baseline",
            f"median {statistics.median(timings[who]):.1f} ms",
            "met" if value <= TARGET_MS else "MISSED",
        ]
        if who == "bench.admin":
            notes.append(f"{n:,} customers built in {built:.0f} s")
        if failed:
            notes.append(f"failed requests: {failed}")
        rows.append(
            {
                "name": f"lookup search as {label} ({n:,} customers, SQLite, gunicorn -w 2, one at a time)",
                "value": value,
                "unit": "ms p95",
                "baseline_name": "Flask + sqlite3 prefix query by hand",
                "baseline": baseline,
                "ratio": value / baseline,
                "target": f"≤ {TARGET_MS} ms p95",
                "note": "; ".join(notes),
            }
        )
    return rows
