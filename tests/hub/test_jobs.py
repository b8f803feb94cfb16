"""Jobs run by a real RQ worker against the real Redis, with the JSON serializer."""

from __future__ import annotations

import json
import uuid
import zlib

import redis as redis_lib
from rq.serializers import JSONSerializer
from sqlalchemy import select

from hub import jobs
from hub.db import models as m
from hub.queues import Queues
from hub.runtime import Runtime
from hub.worker import _ThreadWorker
from tests.factories import make_tenant, open_store


async def _application(runtime: Runtime) -> tuple[uuid.UUID, uuid.UUID]:
    tenant = await make_tenant(runtime.db)
    async with open_store(runtime.db, runtime.settings, tenant) as store:
        session = store.session
        job = await store.create("job", {"title": "j", "stages": ["A", "B", "C"]})
        cand = await store.create("candidate", {"first_name": "x"})
        app = await store.create("application", {"candidate_id": cand.id, "job_id": job.id})
        await store.move_stage(app.id, "B", None)
        await store.move_stage(app.id, "C", None)
        row = (await session.scalars(select(m.Application).where(m.Application.id == app.id))).one()
        row.stage_count = 0  # corrupt the derived field; the job recomputes it
        await session.commit()
    return tenant, app.id


def _work(runtime: Runtime) -> None:
    """A real RQ worker (the embedded mode's thread worker) draining the queues once."""
    queues = Queues(runtime.redis, prefix=runtime.settings.redis_prefix)
    jobs.configure(runtime.settings)
    _ThreadWorker(queues.all(), connection=runtime.redis, serializer=JSONSerializer).work(burst=True)


async def test_job_runs_on_a_real_worker_and_is_idempotent(runtime: Runtime) -> None:
    import asyncio

    tenant, app_id = await _application(runtime)
    key = f"recompute:{app_id}"
    first = runtime.queues.enqueue("hub.jobs.recompute_application", str(tenant), str(app_id), idempotency_key=key)
    second = runtime.queues.enqueue("hub.jobs.recompute_application", str(tenant), str(app_id), idempotency_key=key)
    await asyncio.to_thread(_work, runtime)
    first.refresh()
    second.refresh()
    assert first.get_status() == "finished" and second.get_status() == "finished"
    assert first.return_value() == {"status": "ok", "stage_count": 2}
    assert second.return_value() == {"status": "ok", "stage_count": 2, "replayed": True}
    async with runtime.db.session(tenant) as session:
        assert (await session.scalars(select(m.Application.stage_count).where(m.Application.id == app_id))).one() == 2
        runs = (await session.scalars(select(m.JobRun))).all()
        assert [(r.idempotency_key, r.status) for r in runs] == [(key, "DONE")]


def test_only_json_travels_through_redis(runtime: Runtime) -> None:
    job = runtime.queues.enqueue(
        "hub.jobs.recompute_application", str(uuid.uuid4()), str(uuid.uuid4()), idempotency_key="k"
    )
    raw = redis_lib.Redis.from_url(runtime.settings.redis_url).hget(job.key, "data")
    assert raw is not None
    json.loads(zlib.decompress(raw).decode())  # RQ compresses the payload; inside is JSON, never a pickle
    assert job.retries_left == 3 and job.timeout == runtime.settings.job_timeout_seconds
    job.delete()
    try:
        runtime.queues.enqueue("hub.jobs.recompute_application", object(), idempotency_key="k")
    except TypeError:
        pass
    else:
        raise AssertionError("non-JSON job arguments must be refused")
