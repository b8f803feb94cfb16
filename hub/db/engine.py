"""Engines and sessions. One :class:`Database` per process; sessions are per tenant.

Example:
    >>> db = Database(settings)
    >>> async with db.session(tenant_id) as session:   # every query scoped to tenant_id
    ...     await session.scalars(select(Candidate))
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from hub.db.scoping import SYSTEM, TENANT, install_scoping
from hub.settings import Settings

__all__ = ["Database", "sync_url"]


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
            options.update(pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args=connect_args)
        options.update(engine_options)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    @asynccontextmanager
    async def session(self, tenant_id: uuid.UUID) -> AsyncIterator[AsyncSession]:
        """A session whose every statement is scoped to ``tenant_id``."""
        async with self._sessions() as session:
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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
