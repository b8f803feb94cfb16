"""Shared fixtures: a real PostgreSQL database and a real Redis, each private to this run.

PostgreSQL: a database ``hub_test_<random>`` is created on the server in
``HUB_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``, used
only to create and drop ours), migrated with Alembic, and dropped at the end.
Redis: every key and queue gets the prefix ``hubtest:<random>:``; at the end the run
deletes exactly the keys it created (its queues, registries and jobs), nothing else.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest
import redis as redis_lib

from hub.db import Database
from hub.db.migrate import upgrade
from hub.settings import Settings

ADMIN_PG_URL = os.environ.get("HUB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
JWT_SECRET = "test-secret-" + "x" * 40
#: A fixed key-encryption key for the test run (base64url of 32 bytes).
TEST_KEK = "dGVzdC1rZWstMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY="


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"hub_test_{secrets.token_hex(4)}"
    admin = _libpq(ADMIN_PG_URL)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.exit(f"PostgreSQL is not reachable at {ADMIN_PG_URL}: {exc}", returncode=3)
    base, _, _ = ADMIN_PG_URL.rpartition("/")
    url = f"{base}/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_prefix() -> Iterator[str]:
    prefix = f"hubtest:{secrets.token_hex(4)}:"
    client = redis_lib.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis_lib.ConnectionError as exc:
        pytest.exit(f"Redis is not reachable at {REDIS_URL}: {exc}", returncode=3)
    yield prefix
    cleanup_redis(client, prefix)
    client.close()


def cleanup_redis(client: redis_lib.Redis, prefix: str) -> None:
    """Delete this run's keys: anything carrying the prefix, and the RQ jobs of its queues."""
    from rq import Queue
    from rq.serializers import JSONSerializer

    job_ids: set[str] = set()
    for key in client.scan_iter(match=f"rq:queue:{prefix}*"):
        name = key.decode().removeprefix("rq:queue:")
        queue = Queue(name, connection=client, serializer=JSONSerializer)
        job_ids.update(queue.get_job_ids())
        for registry in (
            queue.finished_job_registry,
            queue.failed_job_registry,
            queue.started_job_registry,
            queue.scheduled_job_registry,
            queue.deferred_job_registry,
            queue.canceled_job_registry,
        ):
            job_ids.update(registry.get_job_ids())
    for job_id in job_ids:
        for key in client.scan_iter(match=f"rq:*{job_id}*"):
            client.delete(key)
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)


@pytest.fixture
def settings(pg_url: str, redis_prefix: str) -> Settings:
    return Settings.from_env(
        {},
        env="test",
        database_url=pg_url,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        jwt_secret=JWT_SECRET,
        kek=TEST_KEK,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
    yield database
    await database.dispose()


@pytest.fixture
def sqlite_settings(tmp_path: Any, redis_prefix: str) -> Settings:
    path = tmp_path / "hub.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return Settings.from_env(
        {},
        env="test",
        database_url=url,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        jwt_secret=JWT_SECRET,
        kek=TEST_KEK,
    )


@pytest.fixture
def unique() -> Any:
    return lambda label="t": f"{label}-{uuid.uuid4().hex[:8]}"
