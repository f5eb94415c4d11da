"""The builder as an admin uses it: opening the object designer, and saving a field add (plan, then apply).

Server time through Flask's test client (no network): the designer for a 40-field customer against
the customer list page of the same app, and a field add on a 1,000,000-row object against the same
add on 1,000 rows.
"""

from __future__ import annotations

import json
import re
import statistics
import time

from flask import Flask
from flask.testing import FlaskClient

import builder_ui
from bench.queries import _fill
from bench.setup import DEAL, databases, fresh_loom, scaled
from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from engine.schema.changes import apply_objects
from engine.store.documents import get_document
from metadata.specs import FieldSpec, ObjectSpec
from runtime.web.app import create_app

PASSWORD = "bench-builder-password"
FIELDS_WANTED = 40
OPENS = 30


def run() -> list[dict]:
    results = []
    for kind in databases():
        results.append(_designer_open(kind))
        results.append(_field_add(kind))
    return results


def _designer_open(kind: str) -> dict:
    with fresh_loom(kind) as loom:
        install_package(loom, CRM_PACKAGE)
        _widen_customer(loom)
        client = _admin_client(loom)
        designer = _median_ms(client, "/builder/objects/customer")
        listing = _median_ms(client, "/app/customer")
    return {
        "name": f"open the object designer, {FIELDS_WANTED}-field customer ({kind}, median)",
        "value": designer,
        "unit": "ms",
        "baseline_name": "the customer list page",
        "baseline": listing,
        "ratio": designer / listing,
        "target": "≤ 200 ms server time",
    }


def _field_add(kind: str) -> dict:
    big = scaled(1_000_000)
    small_ms = _field_add_ms(kind, 1_000)
    big_ms = _field_add_ms(kind, big)
    return {
        "name": f"save a field add in the designer, {big:,} rows ({kind}: plan + apply)",
        "value": big_ms,
        "unit": "ms",
        "baseline_name": "same on 1,000 rows",
        "baseline": small_ms,
        "ratio": big_ms / small_ms,
        "target": "≤ 300 ms end to end",
    }


def _field_add_ms(kind: str, rows: int) -> float:
    with fresh_loom(kind, DEAL) as loom:
        install_package(loom, CRM_PACKAGE)  # for its administrator role
        _fill(loom, rows)
        client = _admin_client(loom)
        with loom.read() as conn:
            document = get_document(conn, "object", "deal").body
        document["fields"].append({"name": "note", "type": "text", "label": {"zh_CN": "备注"}})
        form = {"document": json.dumps(document, ensure_ascii=False), "csrf_token": _token(client)}
        started = time.perf_counter()
        planned = client.post("/builder/objects/deal", data=form)
        fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', planned.get_data(as_text=True))
        if planned.status_code != 200 or fingerprint is None:
            raise RuntimeError(f"the plan was not shown ({planned.status_code})")
        applied = client.post(
            "/builder/objects/deal",
            data={
                **form,
                "action": "apply",
                "fingerprint": fingerprint.group(1),
                "csrf_token": _token(client),
            },
        )
        elapsed = (time.perf_counter() - started) * 1000
        if applied.status_code != 302 or not loom.registry.object("deal").fields.get("note"):
            raise RuntimeError(f"the field was not added ({applied.status_code})")
        return elapsed


def _widen_customer(loom: Loom) -> None:
    """The CRM's customer with text fields added until it has FIELDS_WANTED, as a grown CRM has."""
    spec = loom.registry.specs()["customer"]
    extra = [
        FieldSpec(name=f"extra_{n}", type="text", label={"zh_CN": f"扩展字段{n}"})
        for n in range(FIELDS_WANTED - len(spec.fields))
    ]
    apply_objects(
        loom,
        [ObjectSpec.from_json({**spec.to_json(), "fields": [f.to_json() for f in (*spec.fields, *extra)]})],
    )


def _admin_client(loom: Loom) -> FlaskClient:
    app: Flask = create_app(loom, config={"SECRET_KEY": "bench-builder-secret"})
    if "builder" not in app.blueprints:
        builder_ui.register(app)
    identity.create_user(loom, "bench.admin", "管理员", PASSWORD, roles=["admin"], actor=SYSTEM)
    client = app.test_client()
    signed_in = client.post(
        "/login",
        data={"csrf_token": _token(client, "/login"), "username": "bench.admin", "password": PASSWORD},
    )
    if signed_in.status_code != 302:
        raise RuntimeError("the bench administrator could not sign in")
    return client


def _token(client: FlaskClient, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"|name="csrf_token"[^>]*value="([^"]+)"', page)
    if found is None:
        raise RuntimeError(f"no CSRF token on {path}")
    return found.group(1) or found.group(2)


def _median_ms(client: FlaskClient, path: str) -> float:
    for _ in range(3):  # warm: templates compiled, statements cached
        _ok(client, path)
    samples = []
    for _ in range(OPENS):
        started = time.perf_counter()
        _ok(client, path)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def _ok(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
