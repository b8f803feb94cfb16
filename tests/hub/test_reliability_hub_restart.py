"""A hub process stopped mid-stream (SIGTERM, then SIGKILL) and restarted: subscribers over WebSocket
and SSE reconnect with the last cursor they saw and receive every event exactly once, in order.

Real processes: ``hub serve`` against the test's PostgreSQL database and Redis prefix; events are
produced all along by this process the way jobs produce them (commit the row and its event in one
transaction, then publish; half of them are left for the hub's relay sweeper to publish).
"""

from __future__ import annotations

import asyncio
import signal

import pytest

from hub.db import Database
from hub.settings import Settings
from schema.relay import encode_global_id
from tests.factories import make_actor, make_tenant
from tests.hub.reliability_support import (
    EventFeed,
    HubServer,
    Processes,
    Producer,
    assert_exactly_once_in_order,
    hub_env,
    true,
    wait_until_async,
)

pytestmark = pytest.mark.e2e


async def _received_more(feeds: list[EventFeed], than: int, timeout: float = 30) -> None:  # noqa: ASYNC109
    for feed in feeds:
        await feed.wait_for(than + 5, timeout)


async def test_subscribers_resume_across_hub_restarts(
    running: Processes, db: Database, settings: Settings
) -> None:
    tenant = await make_tenant(db)
    hr = await make_actor(db, settings, tenant, "hr")
    hub = running.add(HubServer("hub", hub_env(settings), running.log_dir))
    feeds = [EventFeed("ws", hub.url, hr.token), EventFeed("sse", hub.url, hr.token)]
    producer = Producer(db, settings, tenant)
    producing = asyncio.create_task(producer.run())
    for feed in feeds:
        feed.start()
    try:
        await _received_more(feeds, 0)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            seen = min(len(f.received) for f in feeds)
            connections = [f.connections for f in feeds]
            if sig == signal.SIGTERM:
                hub.signal(sig)
                await asyncio.to_thread(hub.wait, 30)  # a graceful stop must not hang on open streams
            else:
                await asyncio.to_thread(hub.kill_tree)
            await asyncio.sleep(0.5)  # events keep coming while the hub is down
            await asyncio.to_thread(hub.start)
            await wait_until_async(
                lambda: true(all(f.connections > c for f, c in zip(feeds, connections, strict=True))),
                30,
                "both clients to reconnect to the restarted hub",
            )
            await _received_more(feeds, seen)
        producer.stop()
        await producing
        total = len(producer.produced)
        for feed in feeds:
            await feed.wait_for(total, 30)
        await asyncio.sleep(0.3)  # anything extra (a duplicate) would arrive now
        expected = [encode_global_id("Job", job_id) for job_id in producer.produced]
        for feed in feeds:
            assert_exactly_once_in_order(feed, expected)
    except BaseException:
        print(running.logs())
        raise
    finally:
        producer.stop()
        for feed in feeds:
            await feed.stop()
        if not producing.done():
            producing.cancel()
