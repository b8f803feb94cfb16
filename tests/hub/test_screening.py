"""Screening runs from GraphQL, run by a real RQ worker against the real Redis and PostgreSQL.

The worker is the embedded mode's thread worker (a real ``rq`` worker with the JSON serializer), drained
in burst mode, as in ``test_jobs.py``. Every reason's evidence is checked against the resume text the
candidate's resume holds (read back in clear through GraphQL as HR).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from rq.serializers import JSONSerializer
from sqlalchemy import delete, select

from engines.resumes import generate_resumes
from engines.screening import ScreeningOutcome, rank
from hub import jobs
from hub.db import models as m
from hub.queues import Queues
from hub.runtime import Runtime
from hub.services import screening as screening_service
from hub.services.features import features_version
from hub.worker import _ThreadWorker
from schema.relay import decode_global_id, encode_global_id
from tests.factories import Actor, gql_ok, make_actor, make_tenant, open_store

START = """
mutation($input: StartScreeningRunInput!) { startScreeningRun(input: $input) {
  run { id status progress { done total percent } engineVersion requirements { mustHave } } } }
"""
RUN = """
query($id: ID!, $after: String) { node(id: $id) { ... on ScreeningRun {
  id status shortlistSize finishedAt progress { done total percent } engineVersion job { id }
  results(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id score passed rank humanDecision
      reasons { code points skill detail evidence { text start end } }
      application { id candidate { id resumes { text } } } } } }
  shortlist(first: 100) { totalCount edges { node { id rank passed } } } } } }
"""
DECIDE = """
mutation($input: DecideScreeningResultInput!) { decideScreeningResult(input: $input) {
  result { id humanDecision decisionNote decidedBy decidedAt passed } } }
"""

JOB_REQUIREMENTS: dict[str, Any] = {
    "must_have": ["Java"],
    "nice_to_have": [
        {"skill": "Kafka", "weight": 10},
        {"skill": "Redis", "weight": 10},
        {"skill": "MySQL", "weight": 5},
    ],
    "min_years": 2,
    "min_education": "bachelor",
    "knockouts": [],
    "pass_threshold": 50,
}

HANDWRITTEN = [
    "张伟 | 后端工程师\n工作经历\n2018.03-至今 星河科技 高级后端工程师\n- 主导订单服务重构，使用 Java 与 Spring Boot，"
    "接口延迟降低 40%。\n- 参与 Kafka 消息平台建设。\n专业技能\n熟悉 MySQL、Redis；不熟悉 Go。\n教育背景\n"
    "2012.09-2016.06 华中科技大学 本科",
    "Emily Chen — Backend Engineer\nExperience\nAcme Cloud, Engineer (Mar 2019 – Present)\n- Led the Java billing "
    "service; owned the Redis cache design.\nSkills\nKafka, MySQL. No Kubernetes experience.\nEducation\n"
    "Master of Computer Science, 2018",
    "李娜\n技能：Python、Excel\n教育：大专\n2023.07-至今 某外包公司 实施工程师",
]


async def post(client: httpx.AsyncClient, actor: Actor, query: str, **variables: Any) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=actor.headers)


def errors(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    assert "errors" in body, body
    return body["errors"]  # type: ignore[no-any-return]


def _drain(runtime: Runtime) -> None:
    queues = Queues(runtime.redis, prefix=runtime.settings.redis_prefix)
    jobs.configure(runtime.settings)
    _ThreadWorker(queues.all(), connection=runtime.redis, serializer=JSONSerializer).work(burst=True)


def _call_released(function: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    finally:
        jobs.release_thread()  # the thread's event loop and database, as a worker thread releases them


async def call_job(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a job function directly (a redelivery), in a thread of its own like a worker's."""
    return await asyncio.to_thread(_call_released, function, *args, **kwargs)


async def drain(runtime: Runtime) -> None:
    """Run every queued job (and the jobs they enqueue) on a real RQ worker, then return."""
    await asyncio.to_thread(_drain, runtime)


def resume_texts(count: int, *, seed: int = 5) -> list[str]:
    generated = [r.text for r in generate_resumes(count, seed=seed, categories=["backend"])]
    return (HANDWRITTEN + generated)[:count]


async def seed_library(
    runtime: Runtime, tenant: uuid.UUID, texts: list[str], *, requirements: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A job with the given requirements, one candidate with one resume and one application per text."""
    async with open_store(runtime.db, runtime.settings, tenant) as store:
        job = await store.create(
            "job",
            {
                "title": "后端工程师",
                "requirements": requirements or JOB_REQUIREMENTS,
                "stages": ["APPLIED", "SCREENING"],
            },
        )
        apps, candidates = [], []
        for i, text in enumerate(texts):
            candidate = await store.create("candidate", {"first_name": f"候选人{i}", "last_name": "测"})
            await store.create("resume", {"candidate_id": candidate.id, "text": text, "language": "zh"})
            app = await store.create("application", {"candidate_id": candidate.id, "job_id": job.id})
            apps.append(app.id)
            candidates.append(candidate.id)
    return {"job": job.id, "applications": apps, "candidates": candidates}


async def apply_all(
    runtime: Runtime, tenant: uuid.UUID, candidates: list[uuid.UUID], requirements: dict[str, Any]
) -> Any:
    async with open_store(runtime.db, runtime.settings, tenant) as store:
        job = await store.create("job", {"title": "数据工程师", "requirements": requirements})
        for candidate in candidates:
            await store.create("application", {"candidate_id": candidate, "job_id": job.id})
    return job.id


def gid(type_name: str, row_id: uuid.UUID) -> str:
    return encode_global_id(type_name, row_id)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of three, so a dozen applications make four chunk jobs (no worker is listening yet)."""
    monkeypatch.setattr(screening_service, "MIN_CHUNK_SIZE", 2)
    monkeypatch.setattr(screening_service.ScreeningService, "_workers", lambda self: 0)


def test_chunks_are_planned_per_worker_and_capped() -> None:
    ids = [str(i) for i in range(80_000)]
    plan = screening_service.plan_chunks
    assert [len(c) for c in plan(ids[:400], cached_fraction=0.0, workers=2)] == [200, 200]
    assert [len(c) for c in plan(ids[:400], cached_fraction=0.0)] == [100] * 4
    assert [len(c) for c in plan(ids[:30], cached_fraction=0.0, workers=8)] == [30]
    cold, cached = plan(ids, cached_fraction=0.0, workers=2), plan(ids, cached_fraction=0.95, workers=2)
    assert len(cold) == 80 and len(cached) == 16
    assert [i for chunk in cold for i in chunk] == ids


async def _events(runtime: Runtime, tenant: uuid.UUID, prefix: str) -> list[Any]:
    async with runtime.db.session(tenant) as session:
        rows = (
            await session.scalars(select(m.Event).where(m.Event.type.startswith(prefix)).order_by(m.Event.id))
        ).all()
    return list(rows)


async def _job_runs(runtime: Runtime, tenant: uuid.UUID, function: str) -> list[Any]:
    async with runtime.db.session(tenant) as session:
        rows = (await session.scalars(select(m.JobRun).where(m.JobRun.function == function))).all()
    return list(rows)


async def run_screening(client: httpx.AsyncClient, runtime: Runtime, actor: Actor, job_id: uuid.UUID) -> dict[str, Any]:
    started = gql_ok(await post(client, actor, START, input={"jobId": gid("Job", job_id)}))["startScreeningRun"]["run"]
    await drain(runtime)
    return gql_ok(await post(client, actor, RUN, id=started["id"]))["node"]  # type: ignore[no-any-return]


def assert_explained(result: dict[str, Any]) -> None:
    """Points add up to the score; every evidence span is exactly the resume text at its offsets."""
    source = result["application"]["candidate"]["resumes"][0]["text"]
    assert sum(r["points"] for r in result["reasons"]) == result["score"]
    for reason in result["reasons"]:
        for evidence in reason["evidence"]:
            assert source[evidence["start"] : evidence["end"]] == evidence["text"], (reason, evidence)


async def test_screening_run_end_to_end(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID, small_chunks: None
) -> None:
    library = await seed_library(runtime, tenant, resume_texts(12))
    started = gql_ok(await post(client, hr, START, input={"jobId": gid("Job", library["job"])}))["startScreeningRun"]
    run = started["run"]
    assert run["status"] == "QUEUED"
    assert run["progress"] == {"done": 0, "total": 12, "percent": 0.0}
    assert run["engineVersion"] == features_version()
    assert run["requirements"]["mustHave"] == ["Java"]
    assert len(runtime.queues["low"].job_ids) == 4  # four chunks of three

    await drain(runtime)
    node = gql_ok(await post(client, hr, RUN, id=run["id"]))["node"]
    assert node["status"] == "DONE" and node["finishedAt"] is not None
    assert node["progress"] == {"done": 12, "total": 12, "percent": 100.0}
    results = [e["node"] for e in node["results"]["edges"]]
    assert node["results"]["totalCount"] == 12 and len(results) == 12
    assert [r["rank"] for r in results] == list(range(1, 13))
    for result in results:
        assert_explained(result)
        assert result["humanDecision"] is None
    assert any(
        r["code"] == "MUST_HAVE_NEGATED" or r["code"] == "MUST_HAVE_MISSING" for x in results for r in x["reasons"]
    )

    # The hub's order is the engine's: recommended first, then score, ties by application id.
    outcomes = {
        str(decode_global_id(r["application"]["id"])[1]): ScreeningOutcome(r["score"], r["passed"], ()) for r in results
    }
    expected = [key for key, _outcome, _rank in rank(outcomes)]
    assert [str(decode_global_id(r["application"]["id"])[1]) for r in results] == expected

    passed = [r for r in results if r["passed"]]
    assert node["shortlistSize"] == len(passed) > 0
    assert [e["node"]["rank"] for e in node["shortlist"]["edges"]] == list(range(1, len(passed) + 1))

    # Events: created, one progress per chunk, completed; their data carries ids only.
    events = await _events(runtime, tenant, "screening_run.")
    assert [e.type for e in events].count("screening_run.progress") == 4
    assert [e.type for e in events].count("screening_run.completed") == 1
    for event in events:
        assert set(event.data) == {"job_id"} and uuid.UUID(event.data["job_id"]) == library["job"]

    # Reachable from the job and from each application.
    related = gql_ok(
        await post(
            client,
            hr,
            """query($job: ID!, $app: ID!) { job: node(id: $job) { ... on Job { screeningRuns { totalCount
                 edges { node { id status } } } } }
               app: node(id: $app) { ... on Application { screeningResults { id rank run { id } } } } }""",
            job=gid("Job", library["job"]),
            app=results[0]["application"]["id"],
        )
    )
    assert related["job"]["screeningRuns"]["edges"][0]["node"] == {"id": run["id"], "status": "DONE"}
    assert related["app"]["screeningResults"] == [{"id": results[0]["id"], "rank": 1, "run": {"id": run["id"]}}]

    # Features are cached on every resume, keyed by engine version and the stored text.
    async with runtime.db.session(tenant) as session:
        resumes = (await session.scalars(select(m.Resume))).all()
    assert {r.features_version for r in resumes} == {features_version()}
    assert all(r.features and r.features["source_digest"] for r in resumes)
    # ... and hold no text of the (sealed) resume: evidence is cached as offsets and quoted when shown.
    for resume in resumes:
        evidence = [x["evidence"] for x in resume.features["skills"]] + resume.features["years_evidence"]
        evidence += [resume.features["education_evidence"]] if resume.features["education_evidence"] else []
        assert evidence and all(set(e) == {"start", "end"} for e in evidence)


async def test_results_page_by_rank(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID, small_chunks: None
) -> None:
    library = await seed_library(runtime, tenant, resume_texts(7))
    node = await run_screening(client, runtime, hr, library["job"])
    page_query = """query($id: ID!, $after: String) { node(id: $id) { ... on ScreeningRun {
        results(first: 3, after: $after) { pageInfo { hasNextPage endCursor } edges { node { rank } } } } } }"""
    ranks, after = [], None
    while True:
        page = gql_ok(await post(client, hr, page_query, id=node["id"], after=after))["node"]["results"]
        ranks += [e["node"]["rank"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert ranks == list(range(1, 8))
    bad = await post(client, hr, page_query, id=node["id"], after="not-a-cursor")
    assert errors(bad)[0]["extensions"]["code"] == "VALIDATION_FAILED"


async def test_rescreening_for_a_new_job_reuses_cached_features(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID, small_chunks: None
) -> None:
    library = await seed_library(runtime, tenant, resume_texts(8))
    await run_screening(client, runtime, hr, library["job"])
    first = await _job_runs(runtime, tenant, "hub.jobs.screen_applications")
    assert sum(r.result["extracted"] for r in first) == 8

    data_job = await apply_all(
        runtime,
        tenant,
        library["candidates"],
        {"must_have": ["MySQL"], "nice_to_have": [{"skill": "Python", "weight": 5}]},
    )
    node = await run_screening(client, runtime, hr, data_job)
    assert node["status"] == "DONE" and node["results"]["totalCount"] == 8
    seen = {r.id for r in first}
    second = [r for r in await _job_runs(runtime, tenant, "hub.jobs.screen_applications") if r.id not in seen]
    assert sum(r.result["extracted"] for r in second) == 0  # no NLP: every resume came from the cache
    assert sum(r.result["cached"] for r in second) == 8
    for edge in node["results"]["edges"]:
        assert_explained(edge["node"])

    # Changing a resume's text makes its cached features stale: that one resume is extracted again.
    async with open_store(runtime.db, runtime.settings, tenant) as store:
        resume = (await store.rows_by_key("resume", "candidate_id", [library["candidates"][0]]))[0][0]
        await store.update("resume", resume.id, {"text": "项目经验\n负责 MySQL 分库分表设计，独立完成数据迁移。"})
    before = {r.id for r in await _job_runs(runtime, tenant, "hub.jobs.screen_applications")}
    node = await run_screening(client, runtime, hr, data_job)
    third = [r for r in await _job_runs(runtime, tenant, "hub.jobs.screen_applications") if r.id not in before]
    assert sum(r.result["extracted"] for r in third) == 1
    for edge in node["results"]["edges"]:
        assert_explained(edge["node"])


async def test_keyword_knockouts_read_the_resume_text(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    requirements = {**JOB_REQUIREMENTS, "must_have": ["Python"], "knockouts": ["keyword:外包", "Kubernetes"]}
    library = await seed_library(runtime, tenant, HANDWRITTEN, requirements=requirements)
    node = await run_screening(client, runtime, hr, library["job"])
    results = [e["node"] for e in node["results"]["edges"]]
    hits = [r for r in results if any(x["code"] == "KNOCKOUT_HIT" for x in r["reasons"])]
    assert len(hits) == 1 and hits[0]["passed"] is False
    texts = [e["text"] for x in hits[0]["reasons"] if x["code"] == "KNOCKOUT_HIT" for e in x["evidence"]]
    assert texts == ["外包"]
    for result in results:
        assert_explained(result)
    # Again from the cache (evidence cached as offsets, quoted from the opened text): the same explanations.
    again = await run_screening(client, runtime, hr, library["job"])
    assert [e["node"]["reasons"] for e in again["results"]["edges"]] == [r["reasons"] for r in results]


async def test_unknown_skills_are_listed_and_nothing_is_queued(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    requirements = {"must_have": ["Java", "Blorfware"], "knockouts": ["Zzyzx", "keyword:外包"]}
    library = await seed_library(runtime, tenant, HANDWRITTEN[:1], requirements=requirements)
    response = await post(client, hr, START, input={"jobId": gid("Job", library["job"])})
    error = errors(response)[0]
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert error["extensions"]["unknownSkills"] == ["Blorfware", "Zzyzx"]
    assert "Blorfware" in error["message"] and "Zzyzx" in error["message"]
    assert runtime.queues["low"].count == 0
    async with runtime.db.session(tenant) as session:
        assert (await session.scalars(select(m.ScreeningRun))).all() == []


async def test_unknown_and_other_tenants_ids_answer_not_found(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    library = await seed_library(runtime, tenant, HANDWRITTEN[:2])
    other_tenant = await make_tenant(runtime.db)
    other = await make_actor(runtime.db, runtime.settings, other_tenant, "hr")
    other_library = await seed_library(runtime, other_tenant, HANDWRITTEN[:1])
    attempts = [
        (other, {"jobId": gid("Job", library["job"])}),  # another tenant's job
        (hr, {"jobId": gid("Job", uuid.uuid4())}),  # no such job
        (hr, {"jobId": "bm90LWFuLWlk"}),  # malformed id
        (hr, {"jobId": gid("Candidate", library["job"])}),  # an id of another type
        (
            hr,
            {
                "jobId": gid("Job", library["job"]),
                "applicationIds": [gid("Application", other_library["applications"][0])],
            },
        ),
    ]
    messages = set()
    for actor, payload in attempts:
        error = errors(await post(client, actor, START, input=payload))[0]
        assert error["extensions"]["code"] == "NOT_FOUND", (payload, error)
        messages.add(error["message"])
    assert len(messages) == 1
    assert runtime.queues["low"].count == 0


async def test_chunks_are_idempotent_and_skip_deleted_applications(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID, small_chunks: None
) -> None:
    library = await seed_library(runtime, tenant, resume_texts(6))
    started = gql_ok(await post(client, hr, START, input={"jobId": gid("Job", library["job"])}))["startScreeningRun"]
    run_id = decode_global_id(started["run"]["id"])[1]
    queued = runtime.queues["low"].jobs
    assert len(queued) == 3
    # RQ delivers at least once: the same chunk arrives twice ...
    runtime.queues.enqueue(
        "hub.jobs.screen_applications",
        *queued[0].args,
        idempotency_key=queued[0].kwargs["idempotency_key"],
        queue="low",
    )
    # ... and an application is deleted after the run started.
    gone = uuid.UUID(queued[1].args[2][0])
    async with runtime.db.session(tenant) as session:
        await session.execute(delete(m.Application).where(m.Application.id == gone))
        await session.commit()
    await drain(runtime)

    node = gql_ok(await post(client, hr, RUN, id=started["run"]["id"]))["node"]
    assert node["status"] == "DONE"
    assert node["progress"]["done"] == node["progress"]["total"] == 6
    assert node["results"]["totalCount"] == 5
    assert [e["node"]["rank"] for e in node["results"]["edges"]] == [1, 2, 3, 4, 5]

    # Running a chunk and the ranking job again (a retry) changes nothing.
    again = await call_job(
        jobs.screen_applications, *queued[1].args, idempotency_key=queued[1].kwargs["idempotency_key"]
    )
    ranked = await call_job(
        jobs.rank_screening_run, str(tenant), str(run_id), idempotency_key=f"screening:{run_id}:rank"
    )
    assert again["replayed"] is True and again["missing"] == 1
    assert ranked == {"status": "done", "run_status": "DONE"}  # ranked by the completing chunk: a no-op now
    await drain(runtime)  # the replayed completing chunk may enqueue the ranking again: a no-op
    async with runtime.db.session(tenant) as session:
        results = (await session.scalars(select(m.ScreeningResult).where(m.ScreeningResult.run_id == run_id))).all()
        run = (await session.scalars(select(m.ScreeningRun).where(m.ScreeningRun.id == run_id))).one()
    assert len(results) == 5 and run.done == 6
    assert len(await _events(runtime, tenant, "screening_run.completed")) == 1
    assert len(await _events(runtime, tenant, "screening_run.progress")) == 3


async def test_a_person_decides_and_the_decision_is_recorded(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    library = await seed_library(runtime, tenant, HANDWRITTEN)
    node = await run_screening(client, runtime, hr, library["job"])
    top = node["results"]["edges"][0]["node"]
    decided = gql_ok(
        await post(client, hr, DECIDE, input={"resultId": top["id"], "decision": "REJECT", "note": "薪资预期不符"})
    )["decideScreeningResult"]["result"]
    assert decided["humanDecision"] == "REJECT" and decided["decisionNote"] == "薪资预期不符"
    assert decided["decidedBy"] == f"user:{hr.principal.id}" and decided["decidedAt"] is not None
    assert decided["passed"] == top["passed"]  # the AI's recommendation stays as it was
    events = await _events(runtime, tenant, "screening_result.decided")
    assert len(events) == 1
    assert events[0].data == {
        "application_id": str(decode_global_id(top["application"]["id"])[1]),
        "run_id": str(decode_global_id(node["id"])[1]),
    }

    integrator = await make_actor(runtime.db, runtime.settings, tenant, "integrator", kind="integrator")
    refused = errors(await post(client, integrator, DECIDE, input={"resultId": top["id"], "decision": "ADVANCE"}))
    assert refused[0]["extensions"]["code"] == "FORBIDDEN"
    interviewer = await make_actor(runtime.db, runtime.settings, tenant, "interviewer")
    assert (
        errors(await post(client, interviewer, DECIDE, input={"resultId": top["id"], "decision": "ADVANCE"}))[0][
            "extensions"
        ]["code"]
        == "FORBIDDEN"
    )
    other = await make_actor(runtime.db, runtime.settings, await make_tenant(runtime.db), "hr")
    assert (
        errors(await post(client, other, DECIDE, input={"resultId": top["id"], "decision": "ADVANCE"}))[0][
            "extensions"
        ]["code"]
        == "NOT_FOUND"
    )
    assert gql_ok(await post(client, other, RUN, id=node["id"])) == {"node": None}

    # A candidate never sees screening results, not even their own.
    async with runtime.db.session(tenant) as session:
        app = (
            await session.scalars(
                select(m.Application).where(m.Application.id == decode_global_id(top["application"]["id"])[1])
            )
        ).one()
        candidate_id = app.candidate_id
    candidate = await make_actor(runtime.db, runtime.settings, tenant, "candidate", candidate_id=candidate_id)
    seen = gql_ok(
        await post(
            client,
            candidate,
            "query($a: ID!, $r: ID!) { a: node(id: $a) { ... on Application { screeningResults { id } } } "
            "r: node(id: $r) { id } }",
            a=top["application"]["id"],
            r=top["id"],
        )
    )
    assert seen == {"a": {"screeningResults": []}, "r": None}
