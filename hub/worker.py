"""RQ workers: ``hub worker`` (a process of its own) and the embedded worker thread.

Retries come from each job's ``Retry`` (RQ's scheduler, started with the worker, puts
retried jobs back on their queue); the JSON serializer keeps Redis free of pickles.

A job whose worker dies outright (SIGKILL, OOM of the whole process, the machine gone) is
*abandoned*: it stays in RQ's StartedJobRegistry until its lease there runs out. RQ's own
lease is the job-monitoring interval plus 60 s, and RQ only looks for expired leases every
10 minutes (and an idle worker only every ~7 minutes, between blocking dequeues), so an
abandoned scoring job would wait up to a quarter of an hour. :class:`HubWorker` renews its
lease every ``heartbeat`` seconds, lets it lapse ``lease_grace`` seconds after the last
renewal, looks every ``maintenance`` seconds, and puts an abandoned job that has retries
left straight back on its queue (:func:`requeue_abandoned`): its worker failed, not the
job, so no back-off, and no wait for RQ's scheduler, whose lock a killed worker may hold
for another minute. Jobs are idempotent (``job_runs``), so running one again is safe.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Any

from rq import Queue, SimpleWorker, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from rq.timeouts import TimerDeathPenalty
from rq.utils import parse_composite_key

from hub import jobs
from hub.queues import Queues
from hub.redis import sync_redis
from hub.settings import Settings

__all__ = [
    "HEARTBEAT_SECONDS",
    "LEASE_GRACE_SECONDS",
    "MAINTENANCE_SECONDS",
    "EmbeddedWorker",
    "HubWorker",
    "requeue_abandoned",
    "run_worker",
]

log = logging.getLogger("hub.worker")

#: Seconds between two renewals of the lease a worker holds on the job it runs.
HEARTBEAT_SECONDS = 10
#: Seconds a lease outlives its last renewal; a worker silent that long has abandoned its job.
LEASE_GRACE_SECONDS = 30
#: Seconds between two looks for abandoned jobs (and RQ's registry clean-up).
MAINTENANCE_SECONDS = 30


def requeue_abandoned(queue: Queue, *, now: float | None = None) -> list[str]:
    """Put the jobs of ``queue`` whose lease in its StartedJobRegistry has lapsed back on the queue.

    Each requeue uses up one of the job's retries. Removing the registry entry is the claim, so
    when several workers look at once, each abandoned job is requeued by exactly one of them. A
    job with no retry left stays where it is, for RQ's own clean-up to move to the failed jobs.
    Answers the ids of the jobs requeued.
    """
    registry = queue.started_job_registry
    connection = queue.connection
    requeued: list[str] = []
    for entry in connection.zrangebyscore(registry.key, 0, time.time() if now is None else now):
        key = entry.decode() if isinstance(entry, bytes) else str(entry)
        job_id, _execution_id = parse_composite_key(key)
        try:
            job = Job.fetch(job_id, connection=connection, serializer=queue.serializer)
        except NoSuchJobError:
            continue
        if not job.retries_left or job.get_status() != JobStatus.STARTED:
            continue
        if not connection.zrem(registry.key, key):
            continue  # another worker requeued it first
        job.retries_left -= 1
        queue.enqueue_job(job, at_front=True)
        requeued.append(job.id)
        log.warning("job %s (%s) was abandoned by its worker; requeued, %s retries left",
                    job.id, job.func_name, job.retries_left)  # fmt: skip
    return requeued


class HubWorker(Worker):
    """RQ's forking worker with a short lease on the running job and frequent maintenance (module doc)."""

    def __init__(
        self,
        queues: list[Queue],
        *,
        heartbeat: int = HEARTBEAT_SECONDS,
        lease_grace: int = LEASE_GRACE_SECONDS,
        maintenance: int = MAINTENANCE_SECONDS,
        **kwargs: Any,
    ) -> None:
        if min(heartbeat, lease_grace, maintenance) < 1:
            raise ValueError("heartbeat, lease grace and maintenance intervals must be at least one second")
        self.lease_grace = lease_grace
        super().__init__(queues, job_monitoring_interval=heartbeat, maintenance_interval=maintenance, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        # An idle worker runs maintenance between blocking dequeues: block no longer than its interval.
        return max(1, min(self.worker_ttl - 15, int(getattr(self, "maintenance_interval", self.worker_ttl))))

    def get_heartbeat_ttl(self, job: Job) -> int:
        if job.timeout and job.timeout > 0:
            remaining = job.timeout - self.current_job_working_time
            return int(min(remaining, self.job_monitoring_interval)) + self.lease_grace
        return int(self.job_monitoring_interval) + self.lease_grace

    def clean_registries(self) -> None:
        for queue in self.queues:
            try:
                requeue_abandoned(queue)
            except Exception as exc:  # maintenance retries on its next tick
                log.warning("looking for abandoned jobs on %s failed (%s)", queue.name, type(exc).__name__)
        super().clean_registries()  # type: ignore[no-untyped-call]


def run_worker(
    settings: Settings,
    *,
    burst: bool = False,
    name: str | None = None,
    heartbeat: int = HEARTBEAT_SECONDS,
    lease_grace: int = LEASE_GRACE_SECONDS,
    maintenance: int = MAINTENANCE_SECONDS,
) -> bool:
    """Work the hub's queues in this process until stopped (or empty, with ``burst``).

    The engines are built here, before any work horse is forked, so no job pays their start-up.
    """
    from hub.jobs.engines import on_work_horse_killed, warm_engines

    jobs.configure(settings)
    warm_engines()
    # What the engines built is shared with every work horse forked from here: frozen, the horses' collector
    # never walks it (a full collection in a horse would touch, and so copy, every page of it).
    gc.collect()
    gc.freeze()
    connection = sync_redis(settings.redis_url)
    queues = Queues(connection, prefix=settings.redis_prefix)
    worker = HubWorker(
        queues.all(),
        connection=connection,
        serializer=JSONSerializer,
        name=name,
        work_horse_killed_handler=on_work_horse_killed,
        heartbeat=heartbeat,
        lease_grace=lease_grace,
        maintenance=maintenance,
    )
    scheduler = None if burst else _start_sync_scheduler(settings)
    try:
        return worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level.upper())
    finally:
        if scheduler is not None:
            scheduler.terminate()
            scheduler.join(10)


def _start_sync_scheduler(settings: Settings) -> Any:
    """Periodic syncs (`hub.services.sync_schedule`) in a process of their own, like RQ's scheduler: a
    forking worker busy with a long job never delays them. Workers elect one scheduler through Redis."""
    import multiprocessing
    import os

    from hub.services.sync_schedule import run_scheduler

    process = multiprocessing.get_context("spawn").Process(
        target=run_scheduler, args=(settings,), kwargs={"parent_pid": os.getpid()}, name="hub-sync-scheduler",
        daemon=True,
    )  # fmt: skip
    process.start()
    return process


class _ThreadWorker(SimpleWorker):
    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:  # signals belong to the main thread
        pass

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        """Wait for a job a second at a time, so a stop requested from another thread takes effect
        within a second instead of at the end of RQ's blocking dequeue (about 7 minutes); an idle
        worker left listening would otherwise take the jobs of the next hub in the process. (Burst
        mode, ``timeout`` None, does not block: RQ's own dequeue.)"""
        if timeout is None:
            return super().dequeue_job_and_maintain_ttl(None, max_idle_time)
        while not self._stop_requested:
            result = super().dequeue_job_and_maintain_ttl(1, max_idle_time=1)
            if result is not None:
                return result
        return None

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

    def stop(self, wait: float = 10.0) -> None:
        """Stop after the job in hand, from any thread. (RQ's ``request_stop`` is a signal handler: called
        from another thread it installs signal handlers and raises ``StopRequested`` in the caller.)"""
        self.worker._stop_requested = True
        self.thread.join(wait)
