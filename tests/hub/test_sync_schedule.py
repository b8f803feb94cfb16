"""hub/services/sync_schedule.py: periodic syncs per connection, elected through Redis, against real
PostgreSQL, Redis, RQ and the simulated HR system."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from hub.db import models as m
from hub.db.base import utcnow
from hub.jobs.sync import enqueue_sync
from hub.redis import sync_redis
from hub.runtime import Runtime
from hub.services.sync_schedule import (
    STUCK_AFTER,
    SyncScheduler,
    due_syncs,
    interval_of,
    schedule_due,
)
from hub.worker import _start_sync_scheduler
from simulators.hr import create_hr_app
from simulators.seed import Sizes, World, build_world
from simulators.server import RunningServer
from tests.hub.integration_support import Hub, connect_hr, drain, serving

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(5, Sizes(candidates=6, jobs=2, deleted_candidates=0))


@pytest.fixture
def hr(world: World) -> Iterator[tuple[RunningServer, Any]]:
    app = create_hr_app(world)
    with serving(app) as (server,):
        yield server, app


@pytest.fixture
def redis_client(runtime: Runtime) -> Any:
    return sync_redis(runtime.settings.redis_url)


class Enqueued:
    """The scheduler's ``enqueue``: queue the runs for real and remember them."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.batches: list[tuple[uuid.UUID, list[uuid.UUID]]] = []
        self.first = asyncio.Event()

    def __call__(self, tenant: uuid.UUID, runs: Sequence[m.SyncRun]) -> None:
        enqueue_sync(self.runtime.queues, tenant, runs)
        self.batches.append((tenant, [r.id for r in runs]))
        self.first.set()


async def schedule(hub: Hub, runtime: Runtime, redis_client: Any, enqueue: Enqueued, **kw: Any) -> list[m.SyncRun]:
    return await schedule_due(hub.db, redis_client, runtime.settings.redis_prefix, enqueue, tenants=[hub.tenant], **kw)


def forget_claims(redis_client: Any, runtime: Runtime) -> None:
    """What the passing of an interval does to the per-connection claims (they expire)."""
    for key in redis_client.scan_iter(match=f"{runtime.settings.redis_prefix}sync-schedule:*"):
        redis_client.delete(key)


def test_interval_setting() -> None:
    assert interval_of({}) == timedelta(minutes=15)
    assert interval_of({"sync_interval_minutes": 5}) == timedelta(minutes=5)
    assert interval_of({"sync_interval_minutes": "60"}) == timedelta(hours=1)
    assert interval_of({"sync_interval_minutes": 0}) is None  # off
    assert interval_of({"sync_interval_minutes": -3}) is None
    assert interval_of({"sync_interval_minutes": 0.01}) == timedelta(minutes=1)  # at most once a minute
    assert interval_of({"sync_interval_minutes": "soon"}) == timedelta(minutes=15)  # bad value: the default


async def test_due_connections_sync_once_per_interval(
    hub: Hub, runtime: Runtime, redis_client: Any, hr: tuple[RunningServer, Any]
) -> None:
    server, app = hr
    connection = await connect_hr(hub, server, app, sync_interval_minutes=10)
    enqueue = Enqueued(runtime)

    assert [d.connection_id for d in await due_syncs(hub.db, tenants=[hub.tenant])] == [connection.id]
    runs = await schedule(hub, runtime, redis_client, enqueue)
    assert runs and {r.mode for r in runs} == {"incremental"}  # the run itself goes full on a first sync
    assert await schedule(hub, runtime, redis_client, enqueue) == []  # claimed for this interval
    await drain(hub.settings)

    states = await hub.rows(m.SyncState, m.SyncState.connection_id == connection.id)
    assert states and all(s.status == "DONE" and s.last_full_sync_at is not None for s in states)
    assert await hub.count(m.Candidate) == 6

    forget_claims(redis_client, runtime)
    assert await schedule(hub, runtime, redis_client, enqueue) == []  # synced just now: not due
    later = utcnow() + timedelta(minutes=11)
    again = await schedule(hub, runtime, redis_client, enqueue, now=later)
    assert {r.model for r in again} == {r.model for r in runs}
    assert len(enqueue.batches) == 2
    await drain(hub.settings)
    finished = {r.model: r for r in await hub.rows(m.SyncRun, m.SyncRun.id.in_([r.id for r in again]))}
    assert {r.status for r in finished.values()} == {"DONE"}
    assert finished["candidate"].mode == "incremental"  # from its watermark (models without one read in full)


async def test_full_reads_follow_full_sync_hours(
    hub: Hub, runtime: Runtime, redis_client: Any, hr: tuple[RunningServer, Any]
) -> None:
    server, app = hr
    connection = await connect_hr(hub, server, app, sync_interval_minutes=10, full_sync_hours=1)
    enqueue = Enqueued(runtime)
    await schedule(hub, runtime, redis_client, enqueue)
    await drain(hub.settings)
    async with hub.db.session(hub.tenant) as session:  # the last full read was two hours ago
        await session.execute(
            update(m.SyncState)
            .where(m.SyncState.connection_id == connection.id)
            .values(last_full_sync_at=utcnow() - timedelta(hours=2), updated_at=utcnow() - timedelta(hours=2))
        )
        await session.commit()
    forget_claims(redis_client, runtime)
    runs = await schedule(hub, runtime, redis_client, enqueue)
    await drain(hub.settings)
    finished = await hub.rows(m.SyncRun, m.SyncRun.id.in_([r.id for r in runs]))
    assert finished and {r.mode for r in finished} == {"full"} and {r.status for r in finished} == {"DONE"}


async def test_off_paused_busy_and_stuck_connections(
    hub: Hub, runtime: Runtime, redis_client: Any, hr: tuple[RunningServer, Any]
) -> None:
    server, app = hr
    off = await connect_hr(hub, server, app, sync_interval_minutes=0)
    assert await due_syncs(hub.db, tenants=[hub.tenant]) == []
    async with hub.db.session(hub.tenant) as session:
        await session.execute(update(m.Connection).where(m.Connection.id == off.id).values(
            settings={**off.settings, "sync_interval_minutes": 10}, status="PAUSED"))  # fmt: skip
        await session.commit()
    assert await due_syncs(hub.db, tenants=[hub.tenant]) == []  # the connection is paused

    async with hub.db.session(hub.tenant) as session:
        await session.execute(update(m.Connection).where(m.Connection.id == off.id).values(status="ACTIVE"))
        session.add(m.SyncState(connection_id=off.id, model="candidate", status="PAUSED",
                                updated_at=utcnow() - timedelta(days=1)))  # fmt: skip
        await session.commit()
    assert await due_syncs(hub.db, tenants=[hub.tenant]) == []  # every model it has synced is paused

    async with hub.db.session(hub.tenant) as session:
        await session.execute(update(m.SyncState).where(m.SyncState.connection_id == off.id).values(
            status="SYNCING", updated_at=utcnow() - timedelta(minutes=30)))  # fmt: skip
        await session.commit()
    assert await due_syncs(hub.db, tenants=[hub.tenant]) == []  # a run is reading
    stuck = utcnow() + STUCK_AFTER
    assert [d.connection_id for d in await due_syncs(hub.db, now=stuck, tenants=[hub.tenant])] == [off.id]


async def test_concurrent_schedulers_start_one_batch(
    hub: Hub, runtime: Runtime, redis_client: Any, hr: tuple[RunningServer, Any]
) -> None:
    server, app = hr
    await connect_hr(hub, server, app)
    enqueue = Enqueued(runtime)
    results = await asyncio.gather(*(schedule(hub, runtime, redis_client, enqueue) for _ in range(4)))
    assert sorted(len(r) > 0 for r in results) == [False, False, False, True]
    assert len(enqueue.batches) == 1
    assert await hub.count(m.SyncRun) == len(next(r for r in results if r))


async def test_one_scheduler_leads_and_another_takes_over(runtime: Runtime, redis_client: Any) -> None:
    def make(name: str) -> SyncScheduler:
        return SyncScheduler(runtime.db, redis_client, prefix=runtime.settings.redis_prefix,
                             enqueue=lambda tenant, runs: None, tick=0.1, lock_ttl=0.5, name=name)  # fmt: skip

    first, second = make("worker-a"), make("worker-b")
    assert first.lead() and not second.lead()
    assert first.lead()  # renewing
    assert await second.tick_once() is None  # a follower does nothing
    first.release()
    assert second.lead() and not first.lead()
    second.release()
    assert first.lead()
    await asyncio.sleep(0.7)  # its worker died without releasing: the lock lapses
    assert second.lead()
    second.release()


async def test_scheduler_loop_ticks_until_stopped(
    hub: Hub, runtime: Runtime, redis_client: Any, hr: tuple[RunningServer, Any]
) -> None:
    server, app = hr
    connection = await connect_hr(hub, server, app)
    enqueue = Enqueued(runtime)

    async def tick_my_tenant(self: SyncScheduler) -> list[m.SyncRun] | None:
        if not self.lead():
            return None
        return await schedule(hub, runtime, redis_client, enqueue)

    scheduler = SyncScheduler(runtime.db, redis_client, prefix=runtime.settings.redis_prefix,
                              enqueue=enqueue, tick=0.05, lock_ttl=1)  # fmt: skip
    scheduler.tick_once = tick_my_tenant.__get__(scheduler)  # type: ignore[method-assign]
    stop = asyncio.Event()
    loop = asyncio.ensure_future(scheduler.run(stop))
    await asyncio.wait_for(enqueue.first.wait(), 10)
    await asyncio.sleep(0.3)  # several more ticks: still one batch
    stop.set()
    await asyncio.wait_for(loop, 5)
    assert [tenant for tenant, _ in enqueue.batches] == [hub.tenant]
    assert redis_client.get(scheduler.lock_key) is None  # released on the way out
    assert await hub.count(m.SyncRun, m.SyncRun.connection_id == connection.id) == len(enqueue.batches[0][1])


async def test_hub_worker_runs_the_scheduler_in_its_own_process(
    hub: Hub, runtime: Runtime, hr: tuple[RunningServer, Any]
) -> None:
    server, app = hr
    connection = await connect_hr(hub, server, app)
    process = _start_sync_scheduler(runtime.settings)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not await hub.count(m.SyncRun, m.SyncRun.connection_id == connection.id):
            assert process.is_alive()
            await asyncio.sleep(0.2)
    finally:
        process.terminate()
        process.join(10)
    assert process.exitcode == 0  # SIGTERM stops it cleanly
    assert await hub.count(m.SyncRun, m.SyncRun.connection_id == connection.id) > 0
    await drain(hub.settings)
    assert await hub.count(m.Candidate) == 6
