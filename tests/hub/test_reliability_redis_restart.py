"""Redis killed and restarted mid-stream (it persists nothing, so its streams are gone), then frozen
(SIGSTOP: it neither answers nor refuses): subscribers that stay connected, and one that reconnects with
its cursor while Redis is down, receive every event exactly once, in order; producers keep publishing.
The events table is the source of truth; Redis is only the fast path.

Real processes: a private ``redis-server`` on a free loopback port (never the shared one), ``hub serve``
pointed at it, this process producing events all along (commit, then publish; half left to the hub's
relay sweeper).
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
    PrivateRedis,
    Processes,
    Producer,
    assert_exactly_once_in_order,
    hub_env,
    true,
    wait_until_async,
)

pytestmark = pytest.mark.e2e


async def test_subscribers_lose_nothing_when_redis_restarts(
    running: Processes, db: Database, settings: Settings
) -> None:
    redis = running.add(PrivateRedis(running.log_dir))
    tenant = await make_tenant(db)
    hr = await make_actor(db, settings, tenant, "hr")
    hub = running.add(HubServer("hub", hub_env(settings, HUB_REDIS_URL=redis.url), running.log_dir))
    staying = [EventFeed("ws", hub.url, hr.token), EventFeed("sse", hub.url, hr.token)]
    leaving = EventFeed("ws", hub.url, hr.token)
    producer = Producer(db, settings, tenant)
    producing = asyncio.create_task(producer.run(redis.url))
    feeds = [*staying, leaving]
    for feed in feeds:
        feed.start()
    try:
        for feed in feeds:
            await feed.wait_for(5, 30)
        await leaving.stop()  # this phone loses its network just before Redis dies

        redis.signal(signal.SIGKILL)
        await asyncio.to_thread(redis.wait, 10)
        down_at = len(producer.produced)
        for feed in staying:  # Redis is down: the hub serves the stream from the events table
            await feed.wait_for(down_at + 5, 30)
        returning = EventFeed("ws", hub.url, hr.token, after=leaving.cursor)
        returning.start()
        feeds.append(returning)
        await returning.wait_for(down_at - len(leaving.received) + 5, 30)

        await asyncio.to_thread(redis.start)  # back, empty: every stream it carried is lost
        up_at = len(producer.produced)
        for feed in staying:
            await feed.wait_for(up_at + 10, 30)

        redis.signal(signal.SIGSTOP)  # now it hangs (a partition, a stalled host): no error, no answer
        try:
            frozen_at = len(producer.produced)
            # each Redis call now waits out the client's 5 s read timeout, so this goes slowly
            await wait_until_async(lambda: true(len(producer.produced) >= frozen_at + 3), 40, "the producer")
            for feed in staying:
                await feed.wait_for(frozen_at + 3, 40)
        finally:
            redis.signal(signal.SIGCONT)

        producer.stop()
        await producing
        total = len(producer.produced)
        for feed in staying:
            await feed.wait_for(total, 30)
        await returning.wait_for(total - len(leaving.received), 30)
        await asyncio.sleep(0.3)  # anything extra (a duplicate) would arrive now
        expected = [encode_global_id("Job", job_id) for job_id in producer.produced]
        for feed in staying:
            assert_exactly_once_in_order(feed, expected)
        resumed = EventFeed("ws", hub.url, hr.token, received=leaving.received + returning.received)
        assert_exactly_once_in_order(resumed, expected)
    except BaseException:
        print(running.logs())
        raise
    finally:
        producer.stop()
        for feed in feeds:
            await feed.stop()
        if not producing.done():
            producing.cancel()
