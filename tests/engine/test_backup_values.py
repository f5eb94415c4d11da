"""Values in a backup read back exactly as they were, whatever database wrote or reads them."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Numeric, String, Text
from sqlalchemy.dialects import postgresql, sqlite

from engine.backup.values import RowCodec, TableDigest, column_kind, line

KINDS = ["integer", "decimal", "datetime", "datetime", "date", "boolean", "json", "text", "binary"]
ROW = [
    2**62 + 7,  # a big id or amount in cents: no float on the way
    Decimal("1234567890123.4500"),
    dt.datetime(2026, 11, 26, 9, 30, 15, 123456),
    dt.datetime(2026, 11, 26, 17, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
    dt.date(2026, 2, 28),
    False,
    {"labels": {"zh_CN": "客户", "en": "Customer"}, "n": [1, 2.5, None]},
    "全角１２３ and\nlines",
    b"\x00\xff\r\n",
]


def test_every_kind_of_value_reads_back_exactly_from_its_line() -> None:
    codec = RowCodec(KINDS)
    back = codec.decode(json.loads(line(codec.encode(ROW))))
    assert back == ROW
    assert back[3].utcoffset() == dt.timedelta(hours=8)  # the offset is kept, not just the instant
    assert codec.decode(json.loads(line(codec.encode([None] * len(KINDS))))) == [None] * len(KINDS)


def test_the_checksum_ignores_row_order_decimal_zeros_and_json_key_order_but_not_values() -> None:
    codec = RowCodec(["integer", "decimal", "json"])

    def checksum(*rows: list) -> str:
        digest = TableDigest()
        for row in rows:
            digest.add(codec.encode(row))
        return digest.checksum

    first, second = [1, Decimal("12.50"), {"a": 1, "b": 2}], [2, Decimal("0.10"), None]
    same = checksum(first, second)
    # PostgreSQL pads a decimal to its scale and JSONB reorders keys; SQLite sorts text differently.
    assert checksum(second, [1, Decimal("12.5"), {"b": 2, "a": 1}]) == same
    assert checksum(first, [2, Decimal("0.11"), None]) != same
    assert checksum(first, second, second) != same


def test_engine_and_reflected_column_types_of_both_databases_have_one_kind() -> None:
    pairs = [
        (BigInteger(), "integer"),
        (postgresql.BIGINT(), "integer"),
        (Numeric(18, 2), "decimal"),
        (sqlite.NUMERIC(18, 2), "decimal"),
        (DateTime(), "datetime"),
        (postgresql.TIMESTAMP(), "datetime"),
        (sqlite.DATETIME(), "datetime"),
        (Date(), "date"),
        (Boolean(), "boolean"),
        (JSON().with_variant(postgresql.JSONB(), "postgresql"), "json"),
        (postgresql.JSONB(), "json"),
        (String(64), "text"),
        (Text(), "text"),
    ]
    assert [column_kind(sql_type) for sql_type, _ in pairs] == [kind for _, kind in pairs]
