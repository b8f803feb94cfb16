"""Re-screening a cached library: one job screens the whole run from profiles (PostgreSQL), results are
written without evidence, and the evidence is read from the cached features when the reasons are read.

The explanation read back through GraphQL is the engine's own (points add up, evidence is the resume text
at its offsets); after the resume changes, an old result shows its reasons without evidence rather than
evidence from another text. Profiles missing from an older cache are computed and stored, with no text.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update

from hub.db import models as m
from hub.runtime import Runtime
from hub.services import screening_library, screening_runs
from schema.relay import decode_global_id
from tests.factories import Actor, open_store
from tests.hub.test_screening import (
    RUN,
    START,
    _job_runs,
    apply_all,
    assert_explained,
    drain,
    gid,
    post,
    resume_texts,
    run_screening,
    seed_library,
    small_chunks,  # noqa: F401 (fixture)
)
from tests.hub.test_screening_failures import one_quick_retry  # noqa: F401 (fixture)

DATA_JOB = {"must_have": ["MySQL"], "nice_to_have": [{"skill": "Python", "weight": 5}, {"skill": "Redis", "weight": 3}]}


async def _new_runs(runtime: Runtime, tenant: uuid.UUID, seen: set[uuid.UUID]) -> list[Any]:
    return [r for r in await _job_runs(runtime, tenant, "hub.jobs.screen_applications") if r.id not in seen]


@pytest.mark.usefixtures("small_chunks")
async def test_a_cached_library_is_screened_from_profiles_and_explained_on_read(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    texts = resume_texts(8)
    library = await seed_library(runtime, tenant, texts)
    await run_screening(client, runtime, hr, library["job"])  # cold: chunks, features and profiles stored
    seen = {r.id for r in await _job_runs(runtime, tenant, "hub.jobs.screen_applications")}

    job = await apply_all(runtime, tenant, library["candidates"], DATA_JOB)
    node = await run_screening(client, runtime, hr, job)
    (whole,) = await _new_runs(runtime, tenant, seen)
    assert whole.result["profiles"] == 8 and whole.result["extracted"] == 0  # one job, no NLP, no features read
    assert node["status"] == "DONE" and node["progress"]["done"] == 8
    results = [e["node"] for e in node["results"]["edges"]]
    assert [r["rank"] for r in results] == list(range(1, 9))
    met = [reason for r in results for reason in r["reasons"] if reason["code"].endswith("_MET")]
    assert met and all(reason["evidence"] for reason in met if reason["skill"])  # evidence read back
    for result in results:
        assert_explained(result)
    async with runtime.db.session(tenant) as session:
        run_id = decode_global_id(node["id"])[1]
        stored = (await session.scalars(select(m.ScreeningResult).where(m.ScreeningResult.run_id == run_id))).all()
    # Stored: the score, the profile it was screened by, the resume and its digest; no reasons, no text.
    assert len(stored) == 8 and all(r.reasons == [] and r.profile_key and r.resume_id for r in stored)
    assert all(len(r.source_digest) == 32 for r in stored)

    # The first resume changes: the run's result for it keeps its reasons, shown without evidence.
    async with open_store(runtime.db, runtime.settings, tenant) as store:
        resume = (await store.rows_by_key("resume", "candidate_id", [library["candidates"][0]]))[0][0]
        await store.update("resume", resume.id, {"text": "项目经验\n负责 MySQL 分库分表设计，独立完成数据迁移。"})
    again = (await client.post("/graphql", json={"query": _RUN_AGAIN, "variables": {"id": node["id"]}},
                               headers=hr.headers)).json()["data"]["node"]["results"]["edges"]  # fmt: skip
    now = {_candidate(e["node"]): e["node"]["reasons"] for e in again}
    then = {_candidate(r): r["reasons"] for r in results}
    changed, other = library["candidates"][0], library["candidates"][1]
    assert [r["code"] for r in now[changed]] == [r["code"] for r in then[changed]]
    assert all(reason["evidence"] == [] for reason in now[changed])
    assert now[other] == then[other]


@pytest.mark.usefixtures("small_chunks")
async def test_profiles_missing_from_an_older_cache_are_computed_and_hold_no_text(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    texts = resume_texts(6)
    library = await seed_library(runtime, tenant, texts)
    await run_screening(client, runtime, hr, library["job"])
    async with runtime.db.session(tenant) as session:  # features cached before profiles existed
        await session.execute(update(m.Resume).values(profile=None))
        await session.commit()
    seen = {r.id for r in await _job_runs(runtime, tenant, "hub.jobs.screen_applications")}
    node = await run_screening(client, runtime, hr, await apply_all(runtime, tenant, library["candidates"], DATA_JOB))
    (whole,) = await _new_runs(runtime, tenant, seen)
    assert whole.result["profiles"] == 0 and whole.result["cached"] == 6 and whole.result["extracted"] == 0
    for edge in node["results"]["edges"]:
        assert_explained(edge["node"])
    async with runtime.db.session(tenant) as session:
        profiles = (await session.scalars(select(m.Resume.profile))).all()
    assert len(profiles) == 6 and all(p and p["v"] and p["d"] for p in profiles)
    flat = json.dumps(profiles, ensure_ascii=False)
    assert not any(line.strip() and line.strip() in flat for text in texts for line in text.splitlines()[:2])

    seen |= {whole.id}
    third = await run_screening(client, runtime, hr, await apply_all(runtime, tenant, library["candidates"], DATA_JOB))
    (next_run,) = await _new_runs(runtime, tenant, seen)
    assert next_run.result["profiles"] == 6 and third["status"] == "DONE"


def _candidate(result: dict[str, Any]) -> uuid.UUID:
    return decode_global_id(result["application"]["candidate"]["id"])[1]


_RUN_AGAIN = """query($id: ID!) { node(id: $id) { ... on ScreeningRun { results(first: 100) { edges { node {
  rank score reasons { code points skill detail evidence { text start end } }
  application { candidate { id } } } } } } } }"""


async def _cached_run(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> tuple[dict[str, Any], uuid.UUID]:
    """A job over a cached library of six, its whole-run screening started (queued, not run)."""
    library = await seed_library(runtime, tenant, resume_texts(6))
    await run_screening(client, runtime, hr, library["job"])  # cold: features and profiles cached
    job = await apply_all(runtime, tenant, library["candidates"], DATA_JOB)
    started = (await post(client, hr, START, input={"jobId": gid("Job", job)})).json()["data"]["startScreeningRun"]
    return started["run"], decode_global_id(started["run"]["id"])[1]


def _queued(runtime: Runtime, run_id: uuid.UUID) -> Any:
    """The run's one queued chunk job (the session's queues are shared with other tests)."""
    (queued,) = [
        job
        for job in (runtime.queues["low"].fetch_job(i) for i in runtime.queues["low"].job_ids)
        if job is not None and str(run_id) in job.kwargs["idempotency_key"]
    ]
    return queued


def _break_copy(monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    """The whole run's COPY fails its first ``times`` calls (the database went away mid-write)."""
    copy, calls = screening_library._copy_into, []

    async def broken(*args: Any) -> None:
        calls.append(1)
        if len(calls) <= times:
            raise ConnectionError("the database went away in the middle of the write")
        await copy(*args)

    monkeypatch.setattr(screening_library, "_copy_into", broken)
    return calls


async def _written(runtime: Runtime, tenant: uuid.UUID, run_id: uuid.UUID) -> tuple[Any, int, int]:
    """(the run, its result rows, temporary tables of whole runs left in the database)."""
    async with runtime.db.session(tenant) as session:
        run = (await session.scalars(select(m.ScreeningRun).where(m.ScreeningRun.id == run_id))).one()
        rows = len((await session.scalars(select(m.ScreeningResult).where(m.ScreeningResult.run_id == run_id))).all())
        left = (await session.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE 'hub\\_%'"))).scalar()
    return run, rows, int(left or 0)


@pytest.mark.usefixtures("small_chunks")
async def test_a_whole_run_that_fails_while_writing_leaves_nothing_half_written(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    _node, run_id = await _cached_run(client, runtime, hr, tenant)
    queued = _queued(runtime, run_id)
    runtime.queues["low"].remove(queued)  # run here instead of by a worker (no later test's worker gets it)
    key, ids = queued.kwargs["idempotency_key"], queued.args[2]
    async with runtime.db.session(tenant) as session:  # the key as the job runtime claims it
        session.add(m.JobRun(idempotency_key=key, function="hub.jobs.screen_applications"))
        await session.commit()
    _break_copy(monkeypatch, times=1)
    # On this process's own pool (a thread worker's): the work fails in the middle of its write transaction.
    with pytest.raises(ConnectionError):
        await screening_runs.screen_chunk(runtime.db, runtime.vault, tenant, run_id, ids, key)
    run, rows, left = await _written(runtime, tenant, run_id)
    assert run.status == "RUNNING" and run.done == 0 and rows == 0  # nothing half-written
    assert left == 0  # and no temporary table left on the pooled connection
    async with runtime.db.session(tenant) as session:
        claim = (await session.scalars(select(m.JobRun).where(m.JobRun.idempotency_key == key))).one()
    assert claim.status == "RUNNING"  # the key's claim rolled back with the rest: a retry runs it


@pytest.mark.usefixtures("small_chunks", "one_quick_retry")
async def test_a_whole_run_that_fails_while_writing_is_written_once_by_its_retry(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    node, run_id = await _cached_run(client, runtime, hr, tenant)
    calls = _break_copy(monkeypatch, times=1)
    await drain(runtime)
    assert len(calls) == 3  # the failed attempt's first COPY, then the retry's two
    run, rows, left = await _written(runtime, tenant, run_id)
    assert run.status == "DONE" and rows == 6 and left == 0
    (chunk,) = [
        r for r in await _job_runs(runtime, tenant, "hub.jobs.screen_applications") if str(run_id) in r.idempotency_key
    ]
    assert chunk.status == "DONE" and chunk.attempts == 2 and chunk.result["profiles"] == 6
    read = (await post(client, hr, RUN, id=node["id"])).json()["data"]["node"]
    assert read["status"] == "DONE" and [e["node"]["rank"] for e in read["results"]["edges"]] == list(range(1, 7))


@pytest.mark.usefixtures("small_chunks")
async def test_a_whole_run_names_no_applications_and_screens_those_active_when_it_runs(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    node, run_id = await _cached_run(client, runtime, hr, tenant)
    queued = _queued(runtime, run_id)
    assert queued.args[2] is None  # no ids travel through Redis: the job selects the job's active applications
    async with runtime.db.session(tenant) as session:
        run = (await session.scalars(select(m.ScreeningRun).where(m.ScreeningRun.id == run_id))).one()
        applications = (
            await session.scalars(
                select(m.Application).where(m.Application.job_id == run.job_id).order_by(m.Application.id)
            )
        ).all()
        assert run.total == 6
        applications[0].outcome = "WITHDRAWN"  # withdrawn between the start of the run and its job
        await session.commit()
    withdrawn = applications[0].id
    await drain(runtime)
    read = (await post(client, hr, RUN, id=node["id"])).json()["data"]["node"]
    assert read["status"] == "DONE" and read["progress"] == {"done": 5, "total": 5, "percent": 100.0}
    async with runtime.db.session(tenant) as session:
        rows = (await session.scalars(select(m.ScreeningResult).where(m.ScreeningResult.run_id == run_id))).all()
    assert len(rows) == 5 and withdrawn not in {r.application_id for r in rows}
    assert sorted(r.rank for r in rows) == [1, 2, 3, 4, 5]
    # Their ids are UUIDv7 of now, counted up in rank order from a random start.
    assert all(r.id.version == 7 and r.id.variant == uuid.RFC_4122 for r in rows)
    assert all(abs(int.from_bytes(r.id.bytes[:6], "big") - time.time() * 1000) < 60_000 for r in rows)
    assert [r.id for r in sorted(rows, key=lambda r: r.rank)] == sorted(r.id for r in rows)


@pytest.mark.usefixtures("small_chunks")
async def test_a_whole_run_without_ids_that_fails_for_good_counts_what_was_left(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    _node, run_id = await _cached_run(client, runtime, hr, tenant)
    queued = _queued(runtime, run_id)
    runtime.queues["low"].remove(queued)
    outcome = await screening_runs.fail_chunk(
        runtime.db, tenant, run_id, None, queued.kwargs["idempotency_key"], "WORKER_DIED"
    )
    assert outcome["failed"] == 6 and outcome["complete"] and outcome["finished"] == "ok"  # the run was finished
    run, rows, _left = await _written(runtime, tenant, run_id)
    assert run.status == "FAILED" and run.failed == 6 and run.done == 6 and rows == 0
