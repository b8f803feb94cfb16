"""Pooled connections: pinged only after sitting idle, and a dead idle one is replaced, not handed out."""

from __future__ import annotations

import psycopg
from sqlalchemy import text

from hub.db import Database
from hub.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _backend_pid(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_busy_connections_are_not_pinged_idle_ones_are(settings: Settings) -> None:
    db = Database(settings, pool_size=1, max_overflow=0)
    clock = Clock()
    db.idle_ping.clock = clock
    try:
        await _backend_pid(db)  # connect
        for _ in range(5):
            clock.now += 1
            await _backend_pid(db)
        assert db.idle_ping.pings == 0, "a connection in steady use is handed out without a round trip"
        clock.now += 60
        await _backend_pid(db)
        assert db.idle_ping.pings == 1
    finally:
        await db.dispose()


async def test_an_idle_connection_the_server_dropped_is_replaced(settings: Settings) -> None:
    db = Database(settings, pool_size=1, max_overflow=0)
    clock = Clock()
    db.idle_ping.clock = clock
    try:
        pid = await _backend_pid(db)
        admin_url = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        clock.now += 60  # it sat idle: pinged, found dead, replaced by a fresh connection
        new_pid = await _backend_pid(db)
        assert new_pid != pid
        assert db.idle_ping.pings >= 1
    finally:
        await db.dispose()


async def test_sqlite_has_no_idle_ping(sqlite_settings: Settings) -> None:
    db = Database(sqlite_settings)
    try:
        assert not hasattr(db, "idle_ping")
    finally:
        await db.dispose()
