"""Periodic sync: every active connection is read on a schedule, without anyone pressing ``triggerSync``.

Per connection (its ``settings``):

- ``sync_interval_minutes`` (default 15): how often its models are read incrementally, counted from the
  last time any of its models synced (a manual ``triggerSync`` counts too); ``0`` turns periodic sync off
  for the connection;
- ``full_sync_hours`` (default 24): a model whose last full read is older than this is read in full by the
  next run (`hub.services.sync.run_sync` decides per model), which detects deletions upstream.

`schedule_due` finds the connections that are due and starts their runs (`hub.services.sync.start_sync`,
then the caller's ``enqueue``). A connection is skipped while a model of it is SYNCING (unless that has
lasted `STUCK_AFTER`, a run whose worker died) and when every model of it is PAUSED. Each connection is
claimed in Redis for its interval (``SET NX EX``) before its runs are created, so several schedulers, or
one that ticks twice, start one batch per interval.

`SyncScheduler` runs `schedule_due` every ``tick`` seconds inside ``hub worker`` (in a process of its own,
as RQ runs its scheduler, so a busy or forking worker never delays it). Every worker starts one; a Redis
lock elects the one that ticks, and another takes over within ``lock_ttl`` seconds when it stops.

Example (what ``hub worker`` does)::

    scheduler = SyncScheduler(db, redis, prefix="hub:", enqueue=lambda tenant, runs: enqueue_sync(q, tenant, runs))
    await scheduler.run(stop)
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from sqlalchemy import case, func, select

from hub.db import Database
from hub.db import models as m
from hub.db.base import utcnow
from hub.services.sync import start_sync
from schema.errors import HubError

__all__ = [
    "DEFAULT_INTERVAL_MINUTES",
    "STUCK_AFTER",
    "DueSync",
    "SyncScheduler",
    "due_syncs",
    "interval_of",
    "schedule_due",
]

log = logging.getLogger("hub.sync_schedule")

DEFAULT_INTERVAL_MINUTES = 15
#: A model SYNCING for longer than this is taken to be a run whose worker died: it no longer holds the
#: connection's schedule back.
STUCK_AFTER = timedelta(hours=6)

Enqueue = Callable[[uuid.UUID, Sequence[m.SyncRun]], Any]


@dataclass(frozen=True, slots=True)
class DueSync:
    tenant_id: uuid.UUID
    connection_id: uuid.UUID
    interval: timedelta


def interval_of(settings: dict[str, Any] | None) -> timedelta | None:
    """The connection's periodic-sync interval (None: off). A value that is not a number of minutes is
    ignored in favour of the default, and logged, rather than silently stopping the connection's syncs."""
    raw = (settings or {}).get("sync_interval_minutes", DEFAULT_INTERVAL_MINUTES)
    try:
        minutes = float(raw)
    except (TypeError, ValueError):
        log.warning("sync_interval_minutes %r is not a number; using %s", raw, DEFAULT_INTERVAL_MINUTES)
        minutes = DEFAULT_INTERVAL_MINUTES
    if minutes != minutes or minutes <= 0:  # NaN or off
        return None
    return timedelta(minutes=max(minutes, 1.0))


async def due_syncs(
    db: Database, *, now: datetime | None = None, tenants: Collection[uuid.UUID] | None = None
) -> list[DueSync]:
    """The active connections whose interval has passed since their last sync (see the module docstring);
    ``tenants`` limits the look to those tenants."""
    now = now or utcnow()
    async with db.system_session() as session:
        query = select(m.Connection.id, m.Connection.tenant_id, m.Connection.settings).where(
            m.Connection.status == "ACTIVE"
        )
        if tenants is not None:
            query = query.where(m.Connection.tenant_id.in_(list(tenants)))
        connections = (await session.execute(query)).all()
        if not connections:
            return []
        states = (
            await session.execute(
                select(
                    m.SyncState.connection_id,
                    func.max(m.SyncState.updated_at),
                    func.count(),
                    func.sum(case((m.SyncState.status == "PAUSED", 1), else_=0)),
                ).group_by(m.SyncState.connection_id)
            )
        ).all()
        busy = set(
            (
                await session.scalars(
                    select(m.SyncState.connection_id).where(
                        m.SyncState.status == "SYNCING", m.SyncState.updated_at > now - STUCK_AFTER
                    )
                )
            ).all()
        )
    last = {row[0]: (row[1], int(row[2]), int(row[3] or 0)) for row in states}
    due = []
    for connection_id, tenant_id, settings in connections:
        interval = interval_of(settings)
        if interval is None or connection_id in busy:
            continue
        seen = last.get(connection_id)
        if seen is not None:
            latest, count, paused = seen
            if paused == count or (latest is not None and latest > now - interval):
                continue
        due.append(DueSync(tenant_id, connection_id, interval))
    return due


def _claim_key(prefix: str, connection_id: uuid.UUID) -> str:
    return f"{prefix}sync-schedule:{connection_id}"


async def schedule_due(
    db: Database,
    connection: redis.Redis,
    prefix: str,
    enqueue: Enqueue,
    *,
    now: datetime | None = None,
    tenants: Collection[uuid.UUID] | None = None,
) -> list[m.SyncRun]:
    """Start (and hand to ``enqueue``) the runs of every connection that is due; answers the runs."""
    now = now or utcnow()
    started: list[m.SyncRun] = []
    for due in await due_syncs(db, now=now, tenants=tenants):
        seconds = max(1, int(due.interval.total_seconds()))
        if not connection.set(_claim_key(prefix, due.connection_id), now.isoformat(), nx=True, ex=seconds):
            continue  # another scheduler started this connection's batch for this interval
        try:
            runs = await start_sync(db, due.tenant_id, due.connection_id, None, full=False)
        except HubError as exc:  # the connection was paused or removed meanwhile, or reads nothing
            log.info("periodic sync of connection %s not started: %s", due.connection_id, exc.code)
            continue
        if runs:
            enqueue(due.tenant_id, runs)
            started += runs
    return started


class SyncScheduler:
    """Ticks `schedule_due` while it holds the scheduler lock in Redis (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        connection: redis.Redis,
        *,
        prefix: str,
        enqueue: Enqueue,
        tick: float = 30.0,
        lock_ttl: float = 90.0,
        name: str | None = None,
    ) -> None:
        if tick <= 0 or lock_ttl <= tick:
            raise ValueError("tick must be positive and shorter than lock_ttl")
        self.db = db
        self.connection = connection
        self.prefix = prefix
        self.enqueue = enqueue
        self.tick = tick
        self.lock_ttl = lock_ttl
        self.token = name or f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lock_key = f"{prefix}sync-scheduler:leader"

    def lead(self) -> bool:
        """Take the lock, or renew it when this scheduler holds it; answers whether it does."""
        ttl = int(self.lock_ttl * 1000)
        if self.connection.set(self.lock_key, self.token, nx=True, px=ttl):
            return True
        pipe: Any
        with self.connection.pipeline() as pipe:
            try:
                pipe.watch(self.lock_key)
                if not self._holds(pipe.get(self.lock_key)):
                    return False
                pipe.multi()
                pipe.pexpire(self.lock_key, ttl)
                pipe.execute()
            except redis.WatchError:  # the lock changed hands between the look and the renewal
                return False
        return True

    def _holds(self, holder: bytes | str | None) -> bool:
        return (holder.decode() if isinstance(holder, bytes) else holder) == self.token

    def release(self) -> None:
        """Give the lock up (only when this scheduler holds it), so another takes over at once."""
        pipe: Any
        with self.connection.pipeline() as pipe:
            try:
                pipe.watch(self.lock_key)
                if self._holds(pipe.get(self.lock_key)):
                    pipe.multi()
                    pipe.delete(self.lock_key)
                    pipe.execute()
            except redis.WatchError:
                pass

    async def tick_once(self, *, now: datetime | None = None) -> list[m.SyncRun] | None:
        """One tick: None when another scheduler leads, else the runs started."""
        if not self.lead():
            return None
        return await schedule_due(self.db, self.connection, self.prefix, self.enqueue, now=now)

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until ``stop`` is set; a failed tick is logged and the next one tries again."""
        try:
            while not stop.is_set():
                try:
                    runs = await self.tick_once()
                    if runs:
                        log.info("periodic sync: %d run(s) started", len(runs))
                except Exception as exc:  # database or Redis away: the next tick tries again
                    log.warning("periodic sync tick failed: %s: %s", type(exc).__name__, str(exc)[:200])
                try:
                    await asyncio.wait_for(stop.wait(), self.tick)
                except TimeoutError:
                    pass
        finally:
            try:
                self.release()
            except redis.RedisError:
                pass  # the lock lapses on its own


def run_scheduler(settings: Any, *, tick: float = 30.0, parent_pid: int | None = None) -> None:
    """Entry point of the scheduler process ``hub worker`` starts: ticks until SIGTERM, or until the worker
    that started it is gone (``parent_pid``)."""
    import signal

    from hub.jobs.sync import enqueue_sync
    from hub.queues import Queues
    from hub.redis import sync_redis

    logging.basicConfig(level=str(settings.log_level).upper())
    connection = sync_redis(settings.redis_url)
    queues = Queues(connection, prefix=settings.redis_prefix)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)

        async def watch_parent() -> None:
            while parent_pid is not None and not stop.is_set():
                if os.getppid() != parent_pid:  # the worker died without stopping us
                    stop.set()
                await asyncio.sleep(1)

        db = Database(settings)
        scheduler = SyncScheduler(
            db, connection, prefix=settings.redis_prefix, tick=tick,
            enqueue=lambda tenant, runs: enqueue_sync(queues, tenant, runs),
        )  # fmt: skip
        watcher = asyncio.ensure_future(watch_parent())
        try:
            await scheduler.run(stop)
        finally:
            watcher.cancel()
            await db.dispose()

    asyncio.run(main())
