"""Integration jobs: syncs, inbound webhook processing, write-backs and outbound webhook deliveries.

    hub.jobs.sync_model          read one model of a connection (one SyncRun), resumable page by page
    hub.jobs.process_webhook     process a recorded inbound webhook (fetch, normalize, upsert)
    hub.jobs.write_back          one write-back on a connection, idempotent per key
    hub.jobs.dispatch_webhooks   fan a tenant's new events out to its webhook subscriptions
    hub.jobs.deliver_webhook     one signed delivery attempt of an outbound webhook

Each runs through `hub.jobs.runtime.idempotent` and publishes the events it committed. A retryable upstream
failure raises, so RQ's ``Retry`` runs the job again (the sync resumes at its cursor); a permanent one is
recorded (FAILED with the error's code) and returned.

`enqueue_sync`, `enqueue_dispatch` and `enqueue_deliveries` are how the rest of the hub queues them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from rq import Retry
from rq.job import Dependency, Job

from hub.db import Database
from hub.jobs.runtime import idempotent, publish_events, run_async, settings
from hub.queues import Queues
from hub.services.crypto import PolicyVault, kek_from_settings
from hub.services.outbound import MAX_ATTEMPTS, RETRY_INTERVALS, subscribed_tenants_key

__all__ = [
    "deliver_webhook",
    "dispatch_webhooks",
    "enqueue_deliveries",
    "enqueue_dispatch",
    "enqueue_sync",
    "process_webhook",
    "sync_model",
    "write_back",
]


class RetryLater(RuntimeError):
    """Raised to make RQ retry the job (the failure was recorded with its code first)."""


def _vault(db: Database) -> PolicyVault:
    return PolicyVault(db, kek_from_settings(settings()))


def _queues() -> Queues:
    from hub.redis import sync_redis

    config = settings()
    return Queues(sync_redis(config.redis_url), prefix=config.redis_prefix)


async def _publish(tenant: uuid.UUID) -> None:
    """Publish what the job committed (workflows run on it) and fan it out to webhook subscribers."""
    try:
        await publish_events()
        enqueue_dispatch(_queues(), {tenant: uuid.uuid4().int})
    except Exception:  # noqa: S110 - the web process's relay publishes what is left
        pass


def sync_model(
    tenant_id: str, connection_id: str, model: str, run_id: str, full: bool = False, *, idempotency_key: str
) -> dict[str, Any]:
    """Run one SyncRun (`hub.services.sync.run_sync`)."""
    from hub.services.sync import run_sync

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        outcome = await run_sync(
            db, _vault(db), tenant, uuid.UUID(connection_id), model, run_id=uuid.UUID(run_id), full=full
        )
        await _publish(tenant)
        if outcome.get("status") == "FAILED" and outcome.get("retryable"):
            wait = outcome.get("retry_after")
            if wait and _again_after(float(wait), (tenant_id, connection_id, model, run_id, full), idempotency_key):
                return {**outcome, "rescheduled_in": wait}
            raise RetryLater(f"sync of {model} failed with {outcome.get('error')}; retrying")
        return outcome

    return idempotent(tenant_id, idempotency_key, "hub.jobs.sync_model", body)


def _again_after(seconds: float, args: tuple[Any, ...], key: str) -> bool:
    """Run the same sync run again after the upstream's ``Retry-After`` (or the circuit's reset), longer
    than RQ's fixed retry intervals would wait; the run resumes at its cursor. False outside a worker."""
    from rq import get_current_job
    from rq.queue import Queue
    from rq.serializers import JSONSerializer

    job = get_current_job()
    if job is None:
        return False
    attempt = int(key.rsplit(":after", 1)[1] or 0) + 1 if ":after" in key else 1
    if attempt > 5:
        return False
    queue = Queue(job.origin, connection=job.connection, serializer=JSONSerializer)
    queue.enqueue_in(
        timedelta(seconds=max(1.0, seconds)),
        "hub.jobs.sync_model",
        *args,
        idempotency_key=f"{key.split(':after', 1)[0]}:after{attempt}",
        retry=Retry(max=3, interval=[5, 30, 120]),
        job_timeout=job.timeout,
    )
    return True


def process_webhook(tenant_id: str, receipt_id: str, *, idempotency_key: str) -> dict[str, Any]:
    """Process one inbound webhook receipt (`hub.services.inbound.process`)."""
    from hub.services.inbound import process

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        outcome = await process(db, _vault(db), tenant, uuid.UUID(receipt_id))
        await _publish(tenant)
        return outcome

    return idempotent(tenant_id, idempotency_key, "hub.jobs.process_webhook", body)


def write_back(
    tenant_id: str, connection_id: str, operation: str, payload: dict[str, Any], *, idempotency_key: str
) -> dict[str, Any]:
    """One write-back (`hub.services.connections.write_back`); the upstream idempotency key is the job's."""
    from hub.services.connections import ConnectorFailed
    from hub.services.connections import write_back as perform

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        try:
            result = await perform(
                db, _vault(db), tenant, uuid.UUID(connection_id), operation, payload, idempotency_key=idempotency_key
            )
        except ConnectorFailed as exc:
            if exc.retryable:
                raise RetryLater(f"{operation} failed with {exc.code}; retrying") from exc
            return {"status": "FAILED", "error": exc.code, "message": exc.message}
        await _publish(tenant)
        return {"status": "DONE", "remote_id": result.remote_id, "upstream_status": result.status}

    return idempotent(tenant_id, f"job:{idempotency_key}", "hub.jobs.write_back", body)


def dispatch_webhooks(tenant_id: str, *, idempotency_key: str) -> dict[str, Any]:
    """Create the tenant's pending outbound deliveries and queue them."""
    from hub.jobs.runtime import database
    from hub.services.outbound import dispatch

    async def go() -> dict[str, Any]:
        created = await dispatch(database(), uuid.UUID(tenant_id))
        if created:
            enqueue_deliveries(_queues(), tenant_id, [str(i) for i in created])
        return {"status": "ok", "deliveries": len(created)}

    return dict(run_async(go()))  # not idempotent by key: every run only picks up what is new


def deliver_webhook(tenant_id: str, delivery_id: str, *, idempotency_key: str) -> dict[str, Any]:
    """One delivery attempt; raises (RQ retries after the next interval) while attempts remain."""
    from hub.services.outbound import deliver

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        allow_private = settings().outbound_allow_private
        outcome = await deliver(db, _vault(db), tenant, uuid.UUID(delivery_id), allow_private=allow_private)
        if outcome.get("retry"):
            raise RetryLater(f"delivery attempt {outcome.get('attempt')} failed; retrying")
        return outcome

    return idempotent(tenant_id, idempotency_key, "hub.jobs.deliver_webhook", body)


# --- queueing -------------------------------------------------------------------------------------------


def enqueue_sync(queues: Queues, tenant_id: uuid.UUID, runs: Sequence[Any]) -> list[Job]:
    """Queue one job per run, each waiting for the previous (give them in dependency order: a
    connection's models as `hub.services.sync.start_sync` orders them, systems others refer to first),
    so references resolve; a failed run does not hold the next one back."""
    jobs: list[Job] = []
    for run in runs:
        key = f"sync:{run.id}"
        args = (str(tenant_id), str(run.connection_id), run.model, str(run.id), run.mode == "full")
        job = queues["default"].enqueue(
            "hub.jobs.sync_model",
            *args,
            idempotency_key=key,
            retry=Retry(max=3, interval=[5, 30, 120]),
            job_timeout=queues.default_timeout,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            depends_on=Dependency(jobs=[jobs[-1]], allow_failure=True) if jobs else None,
        )
        jobs.append(job)
    return jobs


def enqueue_dispatch(queues: Queues, published: dict[uuid.UUID, int]) -> None:
    """After events were published: queue a fan-out for each tenant that has webhook subscriptions."""
    try:
        subscribed = queues.connection.smembers(subscribed_tenants_key(queues.prefix))
    except Exception:  # the next publish tries again; deliveries catch up from the cursor
        return
    wanted = {s.decode() if isinstance(s, bytes) else str(s) for s in subscribed}
    for tenant_id, seq in published.items():
        if str(tenant_id) in wanted:
            queues.enqueue(
                "hub.jobs.dispatch_webhooks",
                str(tenant_id),
                idempotency_key=f"outbound:{tenant_id}:{seq}",
                queue="low",
                timeout=120,
            )


def enqueue_deliveries(
    queues: Queues, tenant_id: str, delivery_ids: Sequence[str], *, intervals: Sequence[int] | None = None
) -> None:
    for delivery_id in delivery_ids:
        queues.enqueue(
            "hub.jobs.deliver_webhook",
            tenant_id,
            delivery_id,
            idempotency_key=f"delivery:{delivery_id}",
            queue="low",
            retry=Retry(max=MAX_ATTEMPTS - 1, interval=list(intervals if intervals is not None else RETRY_INTERVALS)),
            timeout=60,
        )
