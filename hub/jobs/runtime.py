"""What every job function runs on: settings, a database and an event loop per worker
thread, and :func:`idempotent`, which claims the job's key in ``job_runs``: a key already
DONE returns its stored result without running again, so a job delivered twice changes
nothing twice. Job code is async; each worker thread keeps one event loop and one database.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError

from hub.db import Database
from hub.db import models as m
from hub.db.base import utcnow
from hub.settings import Settings

__all__ = ["configure", "database", "idempotent", "publish_events", "release_thread", "run_async", "settings"]

_local = threading.local()
#: Job run statuses a redelivery does not run again.
_FINAL = ("DONE", "FAILED")
_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """Set the settings jobs in this process use (``hub worker`` and tests call this)."""
    global _settings
    _settings = settings
    _local.__dict__.clear()


def settings() -> Settings:
    return _settings or Settings.from_env()


def database() -> Database:
    db = getattr(_local, "db", None)
    if db is None:
        db = _local.db = Database(_settings or Settings.from_env())
    return db


async def publish_events() -> None:
    """Publish what this thread's jobs committed, and run the tenants' workflows on it."""
    from hub.events import publish_pending
    from hub.jobs.workflows import enqueue_workflows
    from hub.queues import Queues
    from hub.redis import async_redis, sync_redis

    config = settings()
    redis = getattr(_local, "aredis", None)
    if redis is None:
        redis = _local.aredis = async_redis(config.redis_url)
    published = await publish_pending(database(), redis, config.redis_prefix)
    if published:
        queues = getattr(_local, "queues", None)
        if queues is None:
            queues = _local.queues = Queues(sync_redis(config.redis_url), prefix=config.redis_prefix)
        enqueue_workflows(queues, published)
        from hub.jobs.sync import enqueue_dispatch

        enqueue_dispatch(queues, published)  # outbound webhooks to integrators


def release_thread() -> None:
    """Dispose this thread's database and close its event loop (thread workers, tests)."""
    loop = getattr(_local, "loop", None)
    db = getattr(_local, "db", None)
    redis = getattr(_local, "aredis", None)
    if loop is not None and not loop.is_closed():
        if db is not None:
            loop.run_until_complete(db.dispose())
        if redis is not None:
            loop.run_until_complete(redis.aclose())
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
    """Run ``body`` once per (tenant, key); a repeat returns the first run's result.

    A key recorded FAILED (a screening chunk that failed for good, :func:`hub.services.screening_runs.fail_chunk`)
    is final too: a late redelivery answers the failure and leaves the record as it is.
    """

    async def run() -> dict[str, Any]:
        db = database()
        tenant = uuid.UUID(tenant_id)
        async with db.session(tenant) as session:
            existing = (await session.scalars(select(m.JobRun).where(m.JobRun.idempotency_key == key))).first()
            if existing is not None and existing.status in _FINAL:
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
            # A failure recorded while the body ran (a reaper gave its lease up for dead) stands.
            runs = cast(Table, m.JobRun.__table__)
            await session.execute(
                update(runs)
                .where(runs.c.tenant_id == tenant, runs.c.idempotency_key == key, runs.c.status != "FAILED")
                .values(status="DONE", result=result, finished_at=utcnow(), updated_at=utcnow())
            )
            await session.commit()
        await publish_events()  # the job's events were committed with its changes; fan them out now
        return result

    return run_async(run())
