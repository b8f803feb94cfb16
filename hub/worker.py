"""RQ workers: ``hub worker`` (a process of its own) and the embedded worker thread.

Retries come from each job's ``Retry`` (RQ's scheduler, started with the worker, puts
retried jobs back on their queue); the JSON serializer keeps Redis free of pickles.
"""

from __future__ import annotations

import threading
from typing import Any

from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer
from rq.timeouts import TimerDeathPenalty

from hub import jobs
from hub.queues import Queues
from hub.redis import sync_redis
from hub.settings import Settings

__all__ = ["EmbeddedWorker", "run_worker"]


def run_worker(settings: Settings, *, burst: bool = False, name: str | None = None) -> bool:
    """Work the hub's queues in this process until stopped (or empty, with ``burst``)."""
    jobs.configure(settings)
    connection = sync_redis(settings.redis_url)
    queues = Queues(connection, prefix=settings.redis_prefix)
    worker = Worker(queues.all(), connection=connection, serializer=JSONSerializer, name=name)
    return worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level.upper())


class _ThreadWorker(SimpleWorker):
    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:  # signals belong to the main thread
        pass

    def work(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().work(*args, **kwargs)
        finally:
            jobs.release_thread()


class EmbeddedWorker:
    """A worker thread inside the hub process, for the embedded quick-start only."""

    def __init__(self, settings: Settings) -> None:
        jobs.configure(settings)
        self.in_memory = settings.redis_url.startswith("memory://")
        connection = sync_redis(settings.redis_url)
        self.queues = Queues(connection, prefix=settings.redis_prefix)
        self.worker = _ThreadWorker(self.queues.all(), connection=connection, serializer=JSONSerializer)
        self.thread = threading.Thread(target=self._run, name="hub-embedded-worker", daemon=True)

    def _run(self) -> None:
        # The in-process Redis stand-in has no Lua, which RQ's scheduler needs; retries with a
        # delay are then picked up when the worker polls (embedded mode only).
        self.worker.work(with_scheduler=not self.in_memory, logging_level="WARNING")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.worker.request_stop(None, None)
