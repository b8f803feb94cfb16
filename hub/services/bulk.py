"""Bulk writes for syncs: many rows in one round trip, and ids made fast.

`bulk_insert` uses PostgreSQL's ``COPY`` through psycopg (several times faster than ``executemany`` for a
page of hundreds of rows), ``executemany`` on other databases. `fast_id` makes UUIDv7s for bulk rows
(blind indexes, provenance links) several times cheaper than ``hub.db.base.new_id``.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["blank", "bulk_insert", "fast_id"]


class _Ids:
    """UUIDv7s for bulk rows (blind indexes, links): time-ordered and unique like ``hub.db.base.new_id``,
    several times cheaper (one random draw per millisecond, then a counter)."""

    def __init__(self) -> None:
        self.ms = -1
        self.next = 0

    def __call__(self) -> uuid.UUID:
        ms = time.time_ns() // 1_000_000
        if ms != self.ms:
            self.ms, self.next = ms, int.from_bytes(os.urandom(9), "big") >> 1
        r = self.next & ((1 << 74) - 1)
        self.next += 1
        return uuid.UUID(int=(ms << 80) | (7 << 76) | ((r >> 62) << 64) | (2 << 62) | (r & ((1 << 62) - 1)))


fast_id = _Ids()


async def bulk_insert(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows: ``COPY`` on PostgreSQL with psycopg (one round trip for a page of hundreds of rows,
    several times faster than ``executemany``), ``executemany`` elsewhere. The rows must be complete and
    database-ready (aware datetimes, ids), as every caller here builds them."""
    if not rows:
        return
    columns = list(rows[0])
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        await conn.execute(table.insert(), rows)
        return
    from psycopg.types.json import Jsonb

    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    names = ", ".join(f'"{c}"' for c in columns)
    async with driver.cursor() as cursor:
        async with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                await copy.write_row(
                    [Jsonb(row[c]) if c in json_columns and row[c] is not None else row[c] for c in columns]
                )


def blank(table: Any, key: str) -> Any:
    """The Python-side default of a column (``COPY`` applies none), or None."""
    column = table.c[key]
    default = column.default
    if default is not None and default.is_callable:
        return default.arg({})  # type: ignore[call-arg]
    if default is not None and default.is_scalar:
        return default.arg
    return None
