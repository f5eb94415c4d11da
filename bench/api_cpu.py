"""CPU per REST request, in process: the Loom app and bench/web_baseline.py driven by Flask's test client.

No server, no network and no other clients: each figure is the CPU time (time.process_time) one
request costs the process, on the CRM with its customers on a SQLite file, against the hand-written
Flask + SQLAlchemy Core baseline serving the same database and token.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import cycle

from bench.setup import scaled
from bench.web import BASELINE_LIST_QUERY, LIST_QUERY, NEW_CUSTOMER, _customers
from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from runtime.heap import startup_objects_frozen
from runtime.web.app import create_app

GETS, CREATES, LISTS = 600, 300, 150


def run() -> list[dict]:
    n = scaled(10_000)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/api.db"
        loom = Loom(url)
        try:
            ids, token = _prepare(loom, n)
            app = create_app(loom, config={"SECRET_KEY": "bench", "TESTING": True})
            baseline_app = _baseline_app(url)
            with startup_objects_frozen(loom):  # as runtime.web.wsgi does for a server's lifetime
                loom_times = _measure(app.test_client(), token, ids, LIST_QUERY)
                baseline_times = _measure(baseline_app.test_client(), token, ids, BASELINE_LIST_QUERY)
        finally:
            loom.close()
    labels = {
        "get": f"GET one customer ({GETS} requests)",
        "create": f"POST create customer ({CREATES} requests)",
        "list": f"GET list page of 50 ({LISTS} requests)",
    }
    return [
        {
            "name": f"{label}, {n:,} customers, SQLite, in process",
            "value": loom_times[key],
            "unit": "CPU ms/request",
            "baseline_name": "Flask + SQLAlchemy by hand",
            "baseline": baseline_times[key],
            "ratio": loom_times[key] / baseline_times[key],
            "note": "ratio = Loom ÷ baseline (lower is better)",
        }
        for key, label in labels.items()
    ]


def _prepare(loom: Loom, n: int) -> tuple[list[int], str]:
    loom.init()
    install_package(loom, CRM_PACKAGE)
    ids: list[int] = []
    for start in range(0, n, 10_000):
        ids += loom.records().bulk_create("customer", _customers(start, min(n, start + 10_000)))
    user = identity.create_user(loom, "bench.cpu", "压测管理员", roles=["admin"], actor=SYSTEM)
    token, _ = identity.create_token(loom, user["id"], "bench.api_cpu", actor=SYSTEM)
    return ids, token


def _baseline_app(url: str):  # type: ignore[no-untyped-def]
    # The baseline opens $LOOM_DATABASE_URL when imported, so it is imported once the database exists.
    os.environ["LOOM_DATABASE_URL"] = url
    sys.modules.pop("bench.web_baseline", None)
    return importlib.import_module("bench.web_baseline").app


def _measure(client, token: str, ids: list[int], list_query: dict) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """CPU milliseconds per request for each endpoint, after a few warm-up requests."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    next_id = cycle(ids[:: max(1, len(ids) // GETS)]).__next__
    counter = iter(range(10**9)).__next__

    def get() -> None:
        _expect(client.get(f"/api/v1/records/customer/{next_id()}", headers=headers), 200)

    def create() -> None:
        body = {**NEW_CUSTOMER, "name": NEW_CUSTOMER["name"].format(n=counter())}
        _expect(client.post("/api/v1/records/customer", json=body, headers=headers), 201)

    def list_page() -> None:
        _expect(client.get("/api/v1/records/customer", query_string=list_query, headers=headers), 200)

    return {"get": _cpu_ms(get, GETS), "create": _cpu_ms(create, CREATES), "list": _cpu_ms(list_page, LISTS)}


def _cpu_ms(request: Callable[[], None], count: int) -> float:
    for _ in range(10):
        request()
    started = time.process_time()
    for _ in range(count):
        request()
    return (time.process_time() - started) * 1000 / count


def _expect(response, status: int) -> None:  # type: ignore[no-untyped-def]
    if response.status_code != status:
        raise RuntimeError(f"{response.request.path} answered {response.status_code}: {response.text[:300]}")
