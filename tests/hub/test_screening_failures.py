"""A screening chunk that fails for good does not leave its run RUNNING forever.

The chunk's last attempt raises (on a real RQ worker, after its retry), or its work horse dies: the chunk is
recorded as failed with a stable code, the other chunks go on, and the run ends PARTIALLY_DONE (the rest
ranked) or FAILED (nothing screened), with events. A late redelivery of the failed chunk counts nothing twice.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from rq import Retry
from sqlalchemy import select

from hub import jobs
from hub.db import models as m
from hub.queues import Queues
from hub.runtime import Runtime
from hub.services import screening_runs
from tests.factories import Actor, gql_ok
from tests.hub.test_screening import (
    START,
    _events,
    call_job,
    drain,
    gid,
    post,
    resume_texts,
    seed_library,
    small_chunks,  # noqa: F401 (fixture)
)

STATUS = """query($id: ID!) { node(id: $id) { ... on ScreeningRun { status failed error shortlistSize
  progress { done total } results(first: 100) { totalCount edges { node { rank } } } } } }"""


@pytest.fixture
def one_quick_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk jobs get one immediate retry, so a burst worker runs their last attempt too."""
    enqueue = Queues.enqueue

    def quick(self: Queues, function: str, *args: Any, **kwargs: Any) -> Any:
        if function == "hub.jobs.screen_applications":
            kwargs["retry"] = Retry(max=1)
        return enqueue(self, function, *args, **kwargs)

    monkeypatch.setattr(Queues, "enqueue", quick)


def poison(monkeypatch: pytest.MonkeyPatch, application_ids: set[uuid.UUID]) -> list[int]:
    """Make screening raise for any chunk holding one of these applications; answer the attempts seen."""
    screen, attempts = screening_runs._screen, []

    def failing(facts: Any, *args: Any) -> Any:
        if any(f.application_id in application_ids for f in facts):
            attempts.append(1)
            raise RuntimeError("engine crashed on this chunk")
        return screen(facts, *args)

    monkeypatch.setattr(screening_runs, "_screen", failing)
    return attempts


async def _start(client: httpx.AsyncClient, hr: Actor, job_id: uuid.UUID) -> str:
    started = gql_ok(await post(client, hr, START, input={"jobId": gid("Job", job_id)}))
    return str(started["startScreeningRun"]["run"]["id"])


async def _job_run(runtime: Runtime, tenant: uuid.UUID, key: str) -> Any:
    async with runtime.db.session(tenant) as session:
        return (await session.scalars(select(m.JobRun).where(m.JobRun.idempotency_key == key))).one()


@pytest.mark.usefixtures("small_chunks", "one_quick_retry")
async def test_a_chunk_that_fails_for_good_leaves_the_run_partially_done(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = await seed_library(runtime, tenant, resume_texts(9))  # three chunks of three
    engine = screening_runs._screen
    attempts = poison(monkeypatch, {library["applications"][4]})  # in chunk 1
    run_id = await _start(client, hr, library["job"])
    await drain(runtime)
    assert len(attempts) == 2  # the first attempt and its retry

    node = gql_ok(await post(client, hr, STATUS, id=run_id))["node"]
    assert node["status"] == "PARTIALLY_DONE" and node["error"] == "CHUNK_FAILED" and node["failed"] == 3
    assert node["progress"] == {"done": 9, "total": 9}
    assert node["results"]["totalCount"] == 6
    assert [e["node"]["rank"] for e in node["results"]["edges"]] == list(range(1, 7))
    async with runtime.db.session(tenant) as session:
        run = (await session.scalars(select(m.ScreeningRun))).one()
    assert run.failed_chunks == [1]
    key = f"screening:{run.id}:chunk:1"
    failed = await _job_run(runtime, tenant, key)
    assert failed.status == "FAILED" and failed.result["error"] == "CHUNK_FAILED"

    (chunk_failed,) = await _events(runtime, tenant, "screening_run.chunk_failed")
    assert chunk_failed.data == {"job_id": str(library["job"]), "chunk": 1, "error": "CHUNK_FAILED"}
    (completed,) = await _events(runtime, tenant, "screening_run.completed")
    assert completed.data == {"job_id": str(library["job"]), "status": "PARTIALLY_DONE"}

    # A late redelivery of the failed chunk (the engine fixed meanwhile) changes nothing.
    monkeypatch.setattr(screening_runs, "_screen", engine)
    again = await call_job(
        jobs.screen_applications, str(tenant), str(run.id), [str(i) for i in library["applications"][3:6]],
        idempotency_key=key,
    )  # fmt: skip
    assert again["status"] == "failed" and again["replayed"]  # the failed chunk is not screened again
    assert (await _job_run(runtime, tenant, key)).status == "FAILED"  # and its record stays failed
    node = gql_ok(await post(client, hr, STATUS, id=run_id))["node"]
    assert node["progress"] == {"done": 9, "total": 9} and node["results"]["totalCount"] == 6


@pytest.mark.usefixtures("small_chunks", "one_quick_retry")
async def test_a_run_whose_every_chunk_fails_is_failed(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = await seed_library(runtime, tenant, resume_texts(6))  # three chunks of two
    poison(monkeypatch, set(library["applications"]))
    run_id = await _start(client, hr, library["job"])
    await drain(runtime)
    node = gql_ok(await post(client, hr, STATUS, id=run_id))["node"]
    assert node["status"] == "FAILED" and node["failed"] == 6 and node["results"]["totalCount"] == 0
    assert len(await _events(runtime, tenant, "screening_run.chunk_failed")) == 3
    assert len(await _events(runtime, tenant, "screening_run.failed")) == 1
    assert await _events(runtime, tenant, "screening_run.completed") == []


@pytest.mark.usefixtures("small_chunks")
async def test_a_dead_work_horse_on_the_last_attempt_is_recorded(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    library = await seed_library(runtime, tenant, resume_texts(4))  # two chunks of two
    run_id = await _start(client, hr, library["job"])
    queued = [runtime.queues["low"].fetch_job(i) for i in runtime.queues["low"].job_ids]
    first, second = sorted(queued, key=lambda j: j.kwargs["idempotency_key"])
    runtime.queues["low"].remove(first)
    jobs.configure(runtime.settings)

    # The horse running the first chunk died (out of memory) with retries left: RQ retries it, nothing recorded.
    dying = SimpleNamespace(id=first.id, func_name=first.func_name, args=first.args, kwargs=first.kwargs)
    await call_job(jobs.engines.on_work_horse_killed, SimpleNamespace(**vars(dying), retries_left=2), 0, 9, None)
    assert gql_ok(await post(client, hr, STATUS, id=run_id))["node"]["status"] in ("QUEUED", "RUNNING")
    # ... and on its last attempt: the chunk is failed with WORKER_DIED; the other chunk finishes the run.
    await call_job(jobs.engines.on_work_horse_killed, SimpleNamespace(**vars(dying), retries_left=0), 0, 9, None)
    await drain(runtime)
    node = gql_ok(await post(client, hr, STATUS, id=run_id))["node"]
    assert node["status"] == "PARTIALLY_DONE" and node["error"] == "WORKER_DIED" and node["failed"] == 2
    assert node["results"]["totalCount"] == 2 and second.kwargs["idempotency_key"].endswith(":chunk:1")
    # Another job's dead horse is none of the screening's business.
    other = SimpleNamespace(id="x", func_name="hub.jobs.run_workflows", args=(), kwargs={}, retries_left=0)
    await call_job(jobs.engines.on_work_horse_killed, other, 0, 9, None)
