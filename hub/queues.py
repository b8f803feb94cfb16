"""RQ queues on Redis, JSON serializer only (only ids travel through Redis).

Example:
    >>> queues = Queues(sync_redis(settings.redis_url), prefix=settings.redis_prefix)
    >>> queues.enqueue("hub.jobs.recompute_application", str(tenant_id), str(app_id),
    ...                idempotency_key=f"recompute:{app_id}")
"""

from __future__ import annotations

from typing import Any

import redis
from rq import Queue, Retry
from rq.job import Job
from rq.serializers import JSONSerializer

__all__ = ["QUEUE_NAMES", "Queues"]

QUEUE_NAMES = ("high", "default", "low")


class Queues:
    def __init__(self, connection: redis.Redis, *, prefix: str, default_timeout: int = 600) -> None:
        self.connection = connection
        self.prefix = prefix
        self.default_timeout = default_timeout
        self._queues = {
            name: Queue(
                f"{prefix}{name}", connection=connection, serializer=JSONSerializer, default_timeout=default_timeout
            )
            for name in QUEUE_NAMES
        }

    def __getitem__(self, name: str) -> Queue:
        return self._queues[name]

    def all(self) -> list[Queue]:
        return list(self._queues.values())

    def enqueue(
        self,
        function: str,
        *args: Any,
        idempotency_key: str,
        queue: str = "default",
        retry: Retry | None = None,
        timeout: int | None = None,
    ) -> Job:
        """Enqueue a job by dotted path. Its arguments must be JSON (ids, not objects)."""
        for arg in args:
            if not isinstance(arg, str | int | float | bool | type(None) | list | dict):
                raise TypeError(f"job arguments must be JSON values, got {type(arg).__name__}")
        return self._queues[queue].enqueue(
            function,
            *args,
            idempotency_key=idempotency_key,
            retry=retry or Retry(max=3, interval=[1, 5, 30]),
            job_timeout=timeout or self.default_timeout,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )
