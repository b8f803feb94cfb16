"""Engines and sessions. One :class:`Database` per process; sessions are per tenant.

Example:
    >>> db = Database(settings)
    >>> async with db.session(tenant_id) as session:   # every query scoped to tenant_id
    ...     await session.scalars(select(Candidate))
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from hub.db.scoping import SYSTEM, TENANT, install_scoping
from hub.settings import Settings

__all__ = ["Database", "IdlePing", "sync_url"]


def sync_url(url: str) -> str:
    """The same database for a synchronous driver (Alembic, RQ jobs' helpers)."""
    return url.replace("sqlite+aiosqlite", "sqlite").replace("postgresql+asyncpg", "postgresql+psycopg")


class Database:
    def __init__(self, settings: Settings, *, url: str | None = None, **engine_options: Any) -> None:
        install_scoping()
        self.url = url or settings.database_url
        # JSON columns come back through orjson: same values as the standard library, several times
        # faster (a dashboard page decodes a few hundred JSON values).
        options: dict[str, Any] = {"json_deserializer": orjson.loads}
        if self.url.startswith("sqlite"):
            options["connect_args"] = {"timeout": 30}
        else:
            # Sessions run in UTC so timestamps come back in UTC without conversion.
            if "+asyncpg" in self.url:
                connect_args: dict[str, Any] = {"server_settings": {"timezone": "UTC"}}
            else:
                connect_args = {"options": "-c timezone=UTC"}
            options.update(pool_size=10, max_overflow=20, connect_args=connect_args)
        options.update(engine_options)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            self.idle_ping = IdlePing()
            self.idle_ping.install(self.engine.sync_engine.pool)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    @asynccontextmanager
    async def session(
        self, tenant_id: uuid.UUID, *, bind: AsyncConnection | None = None
    ) -> AsyncIterator[AsyncSession]:
        """A session whose every statement is scoped to ``tenant_id``; on ``bind`` (a connection the caller
        holds across transactions, for its temporary tables) instead of a pooled connection per transaction."""
        async with self._sessions(**({"bind": bind} if bind is not None else {})) as session:
            session.info[TENANT] = tenant_id
            yield session

    @asynccontextmanager
    async def system_session(self) -> AsyncIterator[AsyncSession]:
        """An unscoped session for cross-tenant work (tenant admin, relay, sweeper)."""
        async with self._sessions() as session:
            session.info[SYSTEM] = True
            yield session

    async def ping(self) -> None:
        from sqlalchemy import text

        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


class IdlePing:
    """Pessimistic disconnect handling for connections that sat idle in the pool.

    A connection checked out again within ``idle_seconds`` of its last use is handed out as
    is: under load that is every checkout, and a ``SELECT 1`` before each would be a round trip
    per request for nothing. One idle for longer (a database restart or a dropped TCP connection
    could have happened meanwhile) is pinged first; if the ping fails the pool discards it and
    tries another (SQLAlchemy's ``DisconnectionError`` protocol). A connection that breaks while
    busy is caught by SQLAlchemy's own disconnect detection, which invalidates the pool.
    """

    def __init__(self, idle_seconds: float = 5.0, clock: Any = time.monotonic) -> None:
        self.idle_seconds = idle_seconds
        self.clock = clock
        self.pings = 0

    def install(self, pool: Any) -> None:
        event.listen(pool, "connect", self._touch)
        event.listen(pool, "checkin", self._touch)
        event.listen(pool, "checkout", self._checkout)

    def _touch(self, _dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["hub_last_used"] = self.clock()

    def _checkout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("hub_last_used")
        if last is not None and self.clock() - last < self.idle_seconds:
            return
        self.pings += 1
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except Exception as error:
            raise exc.DisconnectionError(f"idle connection failed its ping: {error}") from error
        record.info["hub_last_used"] = self.clock()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
