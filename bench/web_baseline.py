"""The record endpoints bench.web and bench.load drive, written by hand with Flask and SQLAlchemy Core
and no engine.

gunicorn serves it as `bench.web_baseline:app` on the database the Loom app uses ($LOOM_DATABASE_URL):
the same table and the same bearer tokens, each request doing the least a hand-written API would do —
check the token, then one statement — with none of the engine's validation, defaults, audit,
permissions, formulas or roll-ups.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, abort, jsonify, request
from sqlalchemy import Connection, MetaData, Table, create_engine, event, select

SYSTEM_COLUMNS = {
    "id",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "owner_id",
    "version",
    "deleted_at",
}

URL = os.environ["LOOM_DATABASE_URL"]  # PostgreSQL as postgresql+psycopg://
SQLITE = URL.startswith("sqlite")
db = create_engine(URL, connect_args={"timeout": 30} if SQLITE else {})


def _same_durability_as_loom(dbapi_connection, _record):  # type: ignore[no-untyped-def]
    # Loom commits with synchronous=NORMAL on its WAL database; a baseline that waited for a full
    # fsync on every commit would compare disks, not code.
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


if SQLITE:
    event.listen(db, "connect", _same_durability_as_loom)


tables = MetaData()
tables.reflect(db, only=["loom_api_tokens", "loom_users"])
tokens, users = tables.tables["loom_api_tokens"], tables.tables["loom_users"]
app = Flask(__name__)
app.json.ensure_ascii = False  # type: ignore[attr-defined]


def record_table(name: str) -> Table:
    table_name = f"obj_{name}"
    if table_name not in tables.tables:
        Table(table_name, tables, autoload_with=db)
    return tables.tables[table_name]


def caller_id(conn: Connection) -> int:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    digest = hashlib.sha256(token.strip().encode("utf-8")).hexdigest()
    user_id = conn.execute(
        select(tokens.c.user_id)
        .join(users, users.c.id == tokens.c.user_id)
        .where(tokens.c.token_hash == digest, tokens.c.revoked_at.is_(None), users.c.active)
    ).scalar()
    if scheme.lower() != "bearer" or user_id is None:
        abort(401)
    return user_id


@app.get("/api/v1/records/<name>/<int:record_id>")
def get_record(name: str, record_id: int) -> Response:
    table = record_table(name)
    with db.connect() as conn:
        caller_id(conn)
        row = conn.execute(select(table).where(table.c.id == record_id, table.c.deleted_at.is_(None))).first()
    if row is None:
        abort(404)
    return jsonify(dict(row._mapping))


@app.post("/api/v1/records/<name>")
def create_record(name: str) -> tuple[Response, int]:
    table = record_table(name)
    body: dict[str, Any] = request.get_json()
    values = {key: value for key, value in body.items() if key in table.c and key not in SYSTEM_COLUMNS}
    now = datetime.now(UTC).replace(tzinfo=None)
    with db.begin() as conn:
        user_id = caller_id(conn)
        system = {"created_by": user_id, "updated_by": user_id, "owner_id": user_id, "version": 1}
        row = conn.execute(
            table.insert().values(**values, **system, created_at=now, updated_at=now).returning(*table.c)
        ).one()
    return jsonify(dict(row._mapping)), 201


@app.patch("/api/v1/records/<name>/<int:record_id>")
def update_record(name: str, record_id: int) -> Response:
    """The body's fields, if `version` is still the stored one; 409 otherwise."""
    table = record_table(name)
    body: dict[str, Any] = request.get_json()
    values = {key: value for key, value in body.items() if key in table.c and key not in SYSTEM_COLUMNS}
    now = datetime.now(UTC).replace(tzinfo=None)
    with db.begin() as conn:
        user_id = caller_id(conn)
        row = conn.execute(
            table.update()
            .where(
                table.c.id == record_id, table.c.version == body.get("version"), table.c.deleted_at.is_(None)
            )
            .values(**values, version=table.c.version + 1, updated_at=now, updated_by=user_id)
            .returning(*table.c)
        ).first()
    if row is None:
        abort(409)
    return jsonify(dict(row._mapping))


@app.get("/api/v1/records/<name>")
def list_records(name: str) -> Response:
    """`?limit=50&sort=-column&<column>=<value>…`: equality filters, one sort column, then id."""
    table = record_table(name)
    limit = min(int(request.args.get("limit", 50)), 200)
    sort = request.args.get("sort", "id")
    column = table.c[sort.lstrip("-")]
    order = [column.desc() if sort.startswith("-") else column.asc(), table.c.id.asc()]
    filters = [table.c[key] == value for key, value in request.args.items() if key not in ("limit", "sort")]
    query = select(table).where(table.c.deleted_at.is_(None), *filters).order_by(*order).limit(limit + 1)
    with db.connect() as conn:
        caller_id(conn)
        rows = conn.execute(query).all()
    page = [dict(row._mapping) for row in rows[:limit]]
    next_cursor = str(page[-1]["id"]) if len(rows) > limit else None
    return jsonify({"data": page, "next_cursor": next_cursor})
