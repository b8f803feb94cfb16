"""The worker's lease and reaper on a real Redis: a job whose lease lapsed is requeued once, however many
workers look at the same time, and uses up one retry; a job with no retry left is left to RQ's clean-up."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from hub.queues import Queues
from hub.redis import sync_redis
from hub.settings import Settings
from hub.worker import HubWorker, requeue_abandoned


@pytest.fixture
def queues(settings: Settings) -> Iterator[Queues]:
    made = Queues(sync_redis(settings.redis_url), prefix=settings.redis_prefix)
    yield made
    for queue in made.all():
        queue.empty()  # type: ignore[no-untyped-call]
        queue.started_job_registry.cleanup(time.time() + 3600)  # what a test leaves started, it removes
    made.connection.close()


def _abandon(queues: Queues, *, lapsed_seconds: float, retries_left: int | None = None) -> Job:
    """A job as a killed worker leaves it: STARTED, its lease in the StartedJobRegistry past or not."""
    job = queues.enqueue("hub.jobs.recompute_application", "t", "a", idempotency_key="k", queue="low")
    queues["low"].remove(job)  # dequeued by the worker that then died
    if retries_left is not None:
        job.retries_left = retries_left
        job.save()
    job.set_status(JobStatus.STARTED)
    registry = queues["low"].started_job_registry
    queues.connection.zadd(registry.key, {f"{job.id}:execution-1": time.time() - lapsed_seconds})
    return job


def test_lapsed_job_is_requeued_once_with_one_retry_used(queues: Queues) -> None:
    job = _abandon(queues, lapsed_seconds=1)
    assert requeue_abandoned(queues["low"]) == [job.id]
    assert requeue_abandoned(queues["low"]) == []  # a second worker looking finds nothing to take
    assert queues["low"].get_job_ids() == [job.id]
    again = Job.fetch(job.id, connection=queues.connection, serializer=JSONSerializer)
    assert again.get_status() == JobStatus.QUEUED and again.retries_left == 2
    assert queues["low"].started_job_registry.get_job_ids(cleanup=False) == []


def test_live_lease_and_exhausted_retries_are_left_alone(queues: Queues) -> None:
    running = _abandon(queues, lapsed_seconds=-30)  # its worker renewed the lease; it is still working
    spent = _abandon(queues, lapsed_seconds=1, retries_left=0)
    assert requeue_abandoned(queues["low"]) == []
    assert sorted(queues["low"].started_job_registry.get_job_ids(cleanup=False)) == sorted([running.id, spent.id])
    assert queues["low"].get_job_ids() == []


def test_worker_lease_is_heartbeat_plus_grace(queues: Queues) -> None:
    worker = HubWorker(queues.all(), connection=queues.connection, serializer=JSONSerializer,
                       heartbeat=5, lease_grace=15, maintenance=20)  # fmt: skip
    job = queues.enqueue("hub.jobs.recompute_application", "t", "a", idempotency_key="k2", timeout=600)
    assert worker.get_heartbeat_ttl(job) == 20  # RQ's own: 30 + 60
    assert worker.dequeue_timeout == 20  # an idle worker looks for abandoned jobs every 20 s, not every ~7 min
    with pytest.raises(ValueError, match="at least one second"):
        HubWorker(queues.all(), connection=queues.connection, heartbeat=0)
