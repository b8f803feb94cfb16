"""Job functions. Their dotted paths are public API: RQ stores them in Redis.

Each job takes ids (strings) and an ``idempotency_key``, is retried (``Retry``) and has
a timeout. :func:`idempotent` claims the key in ``job_runs``: a key already DONE returns
its stored result without running again, so a job delivered twice changes nothing twice.
Job code is async; each worker thread keeps one event loop and one database.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hub.db import Database
from hub.db import models as m
from hub.db.base import utcnow
from hub.settings import Settings

__all__ = ["configure", "idempotent", "recompute_application", "release_thread", "run_async"]

_local = threading.local()
_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """Set the settings jobs in this process use (``hub worker`` and tests call this)."""
    global _settings
    _settings = settings
    _local.__dict__.clear()


def _database() -> Database:
    db = getattr(_local, "db", None)
    if db is None:
        db = _local.db = Database(_settings or Settings.from_env())
    return db


def release_thread() -> None:
    """Dispose this thread's database and close its event loop (thread workers, tests)."""
    loop = getattr(_local, "loop", None)
    db = getattr(_local, "db", None)
    if loop is not None and not loop.is_closed():
        if db is not None:
            loop.run_until_complete(db.dispose())
        loop.close()
    _local.__dict__.clear()


def run_async(coro: Awaitable[Any]) -> Any:
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)


def idempotent(
    tenant_id: str, key: str, function: str, body: Callable[[Database, uuid.UUID], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """Run ``body`` once per (tenant, key); a repeat returns the first run's result."""

    async def run() -> dict[str, Any]:
        db = _database()
        tenant = uuid.UUID(tenant_id)
        async with db.session(tenant) as session:
            existing = (await session.scalars(select(m.JobRun).where(m.JobRun.idempotency_key == key))).first()
            if existing is not None and existing.status == "DONE":
                return {**(existing.result or {}), "replayed": True}
            if existing is None:
                session.add(m.JobRun(idempotency_key=key, function=function))
                try:
                    await session.commit()
                except IntegrityError:
                    await session.rollback()
            else:
                existing.attempts += 1
                await session.commit()
        result = await body(db, tenant)
        async with db.session(tenant) as session:
            run_row = (await session.scalars(select(m.JobRun).where(m.JobRun.idempotency_key == key))).one()
            run_row.status, run_row.result, run_row.finished_at = "DONE", result, utcnow()
            await session.commit()
        return result

    return run_async(run())


def recompute_application(tenant_id: str, application_id: str, *, idempotency_key: str) -> dict[str, Any]:
    """Recompute an application's derived fields (stage count, last change) from its history."""

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        app_id = uuid.UUID(application_id)
        async with db.session(tenant) as session:
            app = (await session.scalars(select(m.Application).where(m.Application.id == app_id))).first()
            if app is None:
                return {"status": "missing"}
            count, last = (
                await session.execute(
                    select(func.count(), func.max(m.StageChange.created_at)).where(
                        m.StageChange.application_id == app_id, m.StageChange.from_stage.is_not(None)
                    )
                )
            ).one()
            app.stage_count = count
            app.last_stage_change_at = last
            await session.commit()
            return {"status": "ok", "stage_count": count}

    return idempotent(tenant_id, idempotency_key, "hub.jobs.recompute_application", body)
