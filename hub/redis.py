"""Redis connections: the real server, or the in-process stand-in for the embedded mode.

``memory://`` gives every caller in the process the same :mod:`fakeredis` server, so RQ
jobs and event streams work inside one process. It is refused outside the embedded mode
(see :meth:`hub.settings.Settings.validate`).
"""

from __future__ import annotations

import threading

import fakeredis
import redis
import redis.asyncio as aioredis

__all__ = ["async_redis", "sync_redis"]

_server_lock = threading.Lock()
_servers: dict[str, fakeredis.FakeServer] = {}


def _fake_server(url: str) -> fakeredis.FakeServer:
    with _server_lock:
        return _servers.setdefault(url, fakeredis.FakeServer())


def sync_redis(url: str) -> redis.Redis:
    if url.startswith("memory://"):
        return fakeredis.FakeRedis(server=_fake_server(url))
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30)


def async_redis(url: str) -> aioredis.Redis:
    if url.startswith("memory://"):
        return fakeredis.FakeAsyncRedis(server=_fake_server(url))
    return aioredis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
