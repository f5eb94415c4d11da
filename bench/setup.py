"""Shared set-up for benchmarks: a fresh database of either kind with a benchmark object installed."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, text

from engine.base.clock import Clock
from engine.loom import Loom
from engine.schema.changes import apply_objects
from engine.store.database import normalise_url
from metadata.specs import ObjectSpec

SCALE = float(os.environ.get("LOOM_BENCH_SCALE", "1"))
POSTGRES_URL = os.environ.get("LOOM_BENCH_POSTGRES_URL") or os.environ.get("LOOM_TEST_POSTGRES_URL")

DEAL = ObjectSpec.from_json(
    {
        "name": "deal",
        "label": {"en": "Deal", "zh_CN": "商机"},
        "title_field": "name",
        "fields": [
            {"name": "name", "type": "text", "required": True, "max_length": 200},
            {
                "name": "stage",
                "type": "select",
                "default": "'new'",
                "options": [{"value": v} for v in ("new", "qualified", "proposal", "won", "lost")],
            },
            {"name": "amount", "type": "currency", "min": 0, "indexed": True},
            {"name": "probability", "type": "percent", "default": "10"},
            {"name": "region", "type": "text", "max_length": 20},
            {"name": "close_date", "type": "date", "default": "add_days(today(), 30)"},
            {"name": "hot", "type": "boolean", "default": "False"},
            {"name": "email", "type": "email"},
        ],
    }
)


def scaled(n: int) -> int:
    return max(100, int(n * SCALE))


def databases() -> list[str]:
    kinds = ["sqlite"]
    if POSTGRES_URL:
        kinds.append("postgresql")
    return kinds


@contextmanager
def fresh_loom(kind: str, *objects: ObjectSpec) -> Iterator[Loom]:
    """A Loom on a new SQLite file or a new PostgreSQL schema, with the given objects installed."""
    clock = Clock(datetime(2026, 11, 26, 9, 0))
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            loom = Loom(f"sqlite:///{folder}/bench.db", clock=clock)
            loom.init()
            apply_objects(loom, list(objects or [DEAL]))
            yield loom
            loom.close()
        return
    with postgres_schema(POSTGRES_URL or "") as url:
        loom = Loom(url, clock=clock)
        loom.init()
        apply_objects(loom, list(objects or [DEAL]))
        yield loom
        loom.close()


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """The URL of a new, empty schema on the PostgreSQL server `server_url`, dropped afterwards."""
    base = normalise_url(server_url)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in base else "?"
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def deal_rows(n: int) -> list[dict]:
    regions = ["east", "south", "north", "central", "west"]
    stages = ["new", "qualified", "proposal", "won", "lost"]
    return [
        {
            "name": f"Deal {i}",
            "stage": stages[i % 5],
            "amount": f"{(i * 7919) % 1_000_000}.50",
            "region": regions[i % 5],
            "email": f"buyer{i}@example.com",
        }
        for i in range(n)
    ]


def insert_in_batches(loom: Loom, table: Any, rows: Iterable[dict]) -> None:
    """Rows straight through Core in batches of 20,000, one transaction: the fill, not what is measured."""
    batch: list[dict] = []
    with loom.begin() as conn:
        for row in rows:
            batch.append(row)
            if len(batch) == 20_000:
                conn.execute(table.insert(), batch)
                batch.clear()
        if batch:
            conn.execute(table.insert(), batch)
    settle(loom, table.name)


def settle(loom: Loom, table: str) -> None:
    """On PostgreSQL, VACUUM ANALYZE the freshly filled table, as autovacuum does within a minute of a
    load: the planner learns its size, and later scans need not set each row's visibility hints."""
    if loom.db.dialect.name != "postgresql":
        return
    with loom.db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f'VACUUM ANALYZE "{table}"')
