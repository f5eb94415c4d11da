"""The lookup search bench.lookups loads, written by hand with Flask and the sqlite3 module: no sign-in,
no scope, no metadata — one prefix query on the customer name index per request, as a hand-made
endpoint would do it. gunicorn serves it as `bench.lookup_baseline:app` on $LOOM_DATABASE_URL."""

from __future__ import annotations

import os
import sqlite3
import threading

from flask import Flask, Response, jsonify, request

PATH = os.environ["LOOM_DATABASE_URL"].removeprefix("sqlite:///")
LIMIT = 20
_local = threading.local()
app = Flask(__name__)


def _connection() -> sqlite3.Connection:
    if not hasattr(_local, "conn"):
        _local.conn = sqlite3.connect(PATH, check_same_thread=False)
    return _local.conn


@app.get("/lookup")
def lookup() -> Response:
    q = request.args.get("q", "")
    sql = "SELECT id, name, phone FROM obj_customer WHERE deleted_at IS NULL"
    arguments: list[object] = []
    if q:
        sql += " AND name >= ? AND name < ?"
        arguments += [q, q + "\U0010ffff"]
    rows = _connection().execute(sql + " ORDER BY name, id LIMIT ?", [*arguments, LIMIT + 1]).fetchall()
    results = [{"id": r[0], "title": r[1], "detail": r[2] or ""} for r in rows[:LIMIT]]
    return jsonify({"results": results, "more": len(rows) > LIMIT})
