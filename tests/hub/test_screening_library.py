"""Re-screening a cached library: one job screens the whole run from profiles (PostgreSQL), results are
written without evidence, and the evidence is read from the cached features when the reasons are read.

The explanation read back through GraphQL is the engine's own (points add up, evidence is the resume text
at its offsets); after the resume changes, an old result shows its reasons without evidence rather than
evidence from another text. Profiles missing from an older cache are computed and stored, with no text.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from hub.db import models as m
from hub.runtime import Runtime
from schema.relay import decode_global_id
from tests.factories import Actor, open_store
from tests.hub.test_screening import (
    _job_runs,
    apply_all,
    assert_explained,
    resume_texts,
    run_screening,
    seed_library,
    small_chunks,  # noqa: F401 (fixture)
)

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
