"""Rubrics, interview sessions and AI scoring from GraphQL, scored by a real RQ worker.

Scoring needs the candidate's recorded consent; every dimension's evidence is checked against the
transcript it quotes; a session is scored once per rubric version however often the job is delivered.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import delete, select

from hub import jobs
from hub.db import models as m
from hub.runtime import Runtime
from policies.crypto import looks_encrypted
from schema.relay import decode_global_id
from tests.factories import Actor, gql_ok, make_actor, make_tenant, open_store
from tests.hub.test_screening import HANDWRITTEN, call_job, drain, errors, gid, post

SET_RUBRIC = """
mutation($input: SetJobRubricInput!) { setJobRubric(input: $input) {
  job { id rubric { rubricId version name dimensions { key weight kind mustHave levels { score anchor } } } } } }
"""
RECORD = """
mutation($input: RecordInterviewSessionInput!) { recordInterviewSession(input: $input) {
  session { id status channel answers { questionId question transcript dimensionKeys }
    consent { purpose granted source } application { id } } } }
"""
SCORE = """
mutation($input: ScoreInterviewSessionInput!) { scoreInterviewSession(input: $input) {
  status session { id } evaluation { id total } } }
"""
SESSION = """
query($id: ID!) { node(id: $id) { ... on InterviewSession { id
  answers { transcript }
  evaluations { id total recommendation engineVersion rubricVersion coverage missingMustHave
    application { id }
    override { total recommendation note decidedBy decidedAt }
    dimensions { key score confidence needsHuman keywords levelAnchor rationale
      evidence { answerIndex questionId signal text start end } } } } } }
"""
OVERRIDE = """
mutation($input: OverrideEvaluationInput!) { overrideEvaluation(input: $input) {
  evaluation { id total recommendation override { total recommendation note decidedBy decidedAt } } } }
"""

ANSWERS = [
    {
        "questionId": "q1",
        "question": "请讲一个你做过的后端服务。",
        "transcript": "嗯，我主导了订单服务的重构，用 Java 和 Spring Boot 重新设计了接口，上线后延迟降低了百分之四十。",
        "dimensionKeys": ["backend_development"],
    },
    {
        "questionId": "q2",
        "question": "讲讲你做过的数据库优化。",
        "transcript": "库存系统的 MySQL 表结构是我独立设计的，慢查询从两秒优化到两百毫秒。",
        "dimensionKeys": ["databases"],
    },
    {
        "questionId": "q3",
        "question": "Tell me about a disagreement with your team.",
        "transcript": "I wrote the design doc first and we reviewed it together with QA and product.",
    },
]


async def seed_application(
    runtime: Runtime, tenant: uuid.UUID, *, consent: list[dict[str, Any]] | None = None
) -> dict[str, uuid.UUID]:
    async with open_store(runtime.db, runtime.settings, tenant) as store:
        job = await store.create("job", {"title": "后端工程师", "requirements": {"must_have": ["Java"]}})
        candidate = await store.create("candidate", {"first_name": "伟", "last_name": "张", "consent": consent or []})
        await store.create("resume", {"candidate_id": candidate.id, "text": HANDWRITTEN[0]})
        app = await store.create("application", {"candidate_id": candidate.id, "job_id": job.id})
    return {"job": job.id, "candidate": candidate.id, "application": app.id}


async def record(client: httpx.AsyncClient, hr: Actor, application: uuid.UUID, *, consent: bool) -> dict[str, Any]:
    payload = {"applicationId": gid("Application", application), "answers": ANSWERS, "consent": {"aiScoring": consent}}
    return gql_ok(await post(client, hr, RECORD, input=payload))["recordInterviewSession"]["session"]  # type: ignore[no-any-return]


async def scored_session(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> tuple[dict[str, uuid.UUID], dict[str, Any]]:
    ids = await seed_application(runtime, tenant)
    gql_ok(await post(client, hr, SET_RUBRIC, input={"jobId": gid("Job", ids["job"]), "rubricId": "backend_engineer"}))
    session = await record(client, hr, ids["application"], consent=True)
    queued = gql_ok(await post(client, hr, SCORE, input={"sessionId": session["id"]}))["scoreInterviewSession"]
    assert queued["status"] == "QUEUED" and queued["evaluation"] is None
    await drain(runtime)
    return ids, gql_ok(await post(client, hr, SESSION, id=session["id"]))["node"]


async def test_rubrics_shipped_and_custom_with_clear_errors(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    ids = await seed_application(runtime, tenant)
    shipped = gql_ok(await post(client, hr, "{ defaultRubrics { rubricId dimensions { key } } }"))["defaultRubrics"]
    assert {r["rubricId"] for r in shipped} == {
        "backend_engineer",
        "mechanical_designer",
        "customer_service_lead",
        "sales",
    }

    job = gql_ok(
        await post(client, hr, SET_RUBRIC, input={"jobId": gid("Job", ids["job"]), "rubricId": "mechanical_designer"})
    )
    rubric = job["setJobRubric"]["job"]["rubric"]
    assert rubric["rubricId"] == "mechanical_designer" and rubric["dimensions"][0]["key"] == "modeling_3d"

    custom = {
        "rubricId": "cad_lead",
        "version": "2",
        "dimensions": [
            {
                "key": "modeling",
                "name": "三维建模",
                "weight": 2,
                "mustHave": True,
                "levels": [{"score": 5, "anchor": "能独立完成三维建模"}, {"score": 3, "anchor": "参与过项目但未主导"}],
            },
            {
                "key": "communication",
                "name": "沟通",
                "weight": 1,
                "kind": "SOFT",
                "levels": [{"score": 4, "anchor": "表达清楚"}],
            },
        ],
    }
    saved = gql_ok(await post(client, hr, SET_RUBRIC, input={"jobId": gid("Job", ids["job"]), "rubric": custom}))
    dims = saved["setJobRubric"]["job"]["rubric"]["dimensions"]
    assert [(d["key"], d["kind"], d["mustHave"]) for d in dims] == [
        ("modeling", "HARD", True),
        ("communication", "SOFT", False),
    ]

    bad_levels = {
        **custom,
        "dimensions": [
            {**custom["dimensions"][0], "levels": [{"score": 5, "anchor": "a"}, {"score": 5, "anchor": "b"}]}
        ],
    }
    attempts = [
        ({"rubricId": "astronaut"}, "unknown rubricId"),
        ({"rubricId": "sales", "rubric": custom}, "either"),
        ({}, "either"),
        ({"rubric": bad_levels}, "'modeling'"),
        ({"rubric": {**custom, "dimensions": [{**custom["dimensions"][0], "weight": -1}]}}, "weight"),
        (
            {
                "rubric": {
                    **custom,
                    "dimensions": [{**custom["dimensions"][0], "levels": [{"score": 9, "anchor": "x"}]}],
                }
            },
            "9",
        ),
    ]
    for extra, needle in attempts:
        error = errors(await post(client, hr, SET_RUBRIC, input={"jobId": gid("Job", ids["job"]), **extra}))[0]
        assert error["extensions"]["code"] == "VALIDATION_FAILED", (extra, error)
        assert needle in error["message"], (needle, error["message"])

    interviewer = await make_actor(runtime.db, runtime.settings, tenant, "interviewer")
    refused = errors(
        await post(client, interviewer, SET_RUBRIC, input={"jobId": gid("Job", ids["job"]), "rubricId": "sales"})
    )
    assert refused[0]["extensions"]["code"] == "FORBIDDEN"
    other = await make_actor(runtime.db, runtime.settings, await make_tenant(runtime.db), "hr")
    hidden = errors(await post(client, other, SET_RUBRIC, input={"jobId": gid("Job", ids["job"]), "rubricId": "sales"}))
    assert hidden[0]["extensions"]["code"] == "NOT_FOUND"


async def test_recorded_answers_are_sealed_and_shown_per_policy(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    ids = await seed_application(runtime, tenant)
    session = await record(client, hr, ids["application"], consent=True)
    assert session["status"] == "SUBMITTED" and session["channel"] == "api"
    assert [a["transcript"] for a in session["answers"]] == [a["transcript"] for a in ANSWERS]
    assert session["answers"][0]["dimensionKeys"] == ["backend_development"]
    assert session["consent"] == [{"purpose": "ai_scoring", "granted": True, "source": f"user:{hr.principal.id}"}]
    async with runtime.db.session(tenant) as db_session:
        row = (await db_session.scalars(select(m.InterviewSession))).one()
    assert looks_encrypted(row.answers) and "订单服务" not in row.answers

    approver = await make_actor(runtime.db, runtime.settings, tenant, "approver")
    seen = gql_ok(await post(client, approver, SESSION, id=session["id"]))["node"]
    assert seen["answers"] is None  # the default policy hides answers from approvers

    bad = {"applicationId": gid("Application", ids["application"]), "answers": [], "consent": {"aiScoring": True}}
    assert errors(await post(client, hr, RECORD, input=bad))[0]["extensions"]["code"] == "VALIDATION_FAILED"
    twice = {**bad, "answers": [ANSWERS[0], ANSWERS[0]]}
    assert errors(await post(client, hr, RECORD, input=twice))[0]["extensions"]["code"] == "VALIDATION_FAILED"
    missing = {**bad, "applicationId": gid("Application", uuid.uuid4()), "answers": ANSWERS}
    assert errors(await post(client, hr, RECORD, input=missing))[0]["extensions"]["code"] == "NOT_FOUND"


async def test_scoring_without_consent_is_refused_and_enqueues_nothing(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    ids = await seed_application(runtime, tenant)
    gql_ok(await post(client, hr, SET_RUBRIC, input={"jobId": gid("Job", ids["job"]), "rubricId": "backend_engineer"}))
    session = await record(client, hr, ids["application"], consent=False)
    before = runtime.queues["high"].count
    error = errors(await post(client, hr, SCORE, input={"sessionId": session["id"]}))[0]
    assert error["extensions"]["code"] == "CONSENT_REQUIRED"
    assert runtime.queues["high"].count == before
    async with runtime.db.session(tenant) as db_session:
        assert (await db_session.scalars(select(m.Evaluation))).all() == []


async def test_scoring_end_to_end_with_evidence_once_per_rubric_version(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    ids, session = await scored_session(client, runtime, hr, tenant)
    (evaluation,) = session["evaluations"]
    assert evaluation["engineVersion"].startswith("interview-scoring-")
    assert evaluation["rubricVersion"].startswith("backend_engineer@1.0.0#")
    assert evaluation["recommendation"] in {"advance", "hold", "needs_review"}
    assert evaluation["application"]["id"] == gid("Application", ids["application"])
    by_key = {d["key"]: d for d in evaluation["dimensions"]}
    assert by_key["backend_development"]["score"] >= 4 and by_key["backend_development"]["evidence"]
    assert by_key["system_design"]["score"] is None  # nothing said about it: insufficient evidence, not 0
    assert by_key["communication"]["needsHuman"] is True
    transcripts = [a["transcript"] for a in ANSWERS]
    for dimension in evaluation["dimensions"]:
        for e in dimension["evidence"]:
            assert transcripts[e["answerIndex"]][e["start"] : e["end"]] == e["text"], e

    async with runtime.db.session(tenant) as db_session:
        events = (await db_session.scalars(select(m.Event).where(m.Event.type == "evaluation.created"))).all()
    assert len(events) == 1 and events[0].data["application_id"] == str(ids["application"])

    # Asking again answers the existing evaluation; a redelivered job and a second key change nothing.
    again = gql_ok(await post(client, hr, SCORE, input={"sessionId": session["id"]}))["scoreInterviewSession"]
    assert again["status"] == "ALREADY_SCORED" and again["evaluation"]["id"] == evaluation["id"]
    session_id = str(decode_global_id(session["id"])[1])
    async with runtime.db.session(tenant) as db_session:
        (run,) = (
            await db_session.scalars(select(m.JobRun).where(m.JobRun.function == "hub.jobs.score_interview_session"))
        ).all()
    replay = await call_job(jobs.score_interview_session, str(tenant), session_id, idempotency_key=run.idempotency_key)
    assert replay["replayed"] is True
    other_key = await call_job(jobs.score_interview_session, str(tenant), session_id, idempotency_key="score:again")
    assert other_key["status"] == "exists"
    async with runtime.db.session(tenant) as db_session:
        assert len((await db_session.scalars(select(m.Evaluation))).all()) == 1

    # A new rubric version is a new evaluation.
    gql_ok(await post(client, hr, SET_RUBRIC, input={"jobId": gid("Job", ids["job"]), "rubricId": "sales"}))
    assert (
        gql_ok(await post(client, hr, SCORE, input={"sessionId": session["id"]}))["scoreInterviewSession"]["status"]
        == "QUEUED"
    )
    await drain(runtime)
    assert len(gql_ok(await post(client, hr, SESSION, id=session["id"]))["node"]["evaluations"]) == 2


async def test_a_person_overrides_an_evaluation(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    _ids, session = await scored_session(client, runtime, hr, tenant)
    evaluation = session["evaluations"][0]
    payload = {"evaluationId": evaluation["id"], "total": 55, "recommendation": "REJECT", "note": "项目经历与岗位不符"}
    overridden = gql_ok(await post(client, hr, OVERRIDE, input=payload))["overrideEvaluation"]["evaluation"]
    assert overridden["total"] == evaluation["total"]  # the AI's result stays, explainable
    override = overridden["override"]
    assert (override["total"], override["recommendation"], override["note"]) == (55.0, "REJECT", "项目经历与岗位不符")
    assert override["decidedBy"] == f"user:{hr.principal.id}" and override["decidedAt"]
    async with runtime.db.session(tenant) as db_session:
        assert (
            len((await db_session.scalars(select(m.Event).where(m.Event.type == "evaluation.overridden"))).all()) == 1
        )

    integrator = await make_actor(runtime.db, runtime.settings, tenant, "integrator", kind="integrator")
    assert errors(await post(client, integrator, OVERRIDE, input=payload))[0]["extensions"]["code"] == "FORBIDDEN"
    out_of_range = {**payload, "total": 150}
    assert errors(await post(client, hr, OVERRIDE, input=out_of_range))[0]["extensions"]["code"] == "VALIDATION_FAILED"
    unknown = {**payload, "evaluationId": gid("Evaluation", uuid.uuid4())}
    assert errors(await post(client, hr, OVERRIDE, input=unknown))[0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_job_for_a_deleted_application_does_nothing_twice(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    ids = await seed_application(runtime, tenant)
    gql_ok(await post(client, hr, SET_RUBRIC, input={"jobId": gid("Job", ids["job"]), "rubricId": "backend_engineer"}))
    session = await record(client, hr, ids["application"], consent=True)
    gql_ok(await post(client, hr, SCORE, input={"sessionId": session["id"]}))
    (queued,) = [j for j in runtime.queues["high"].jobs if j.func_name == "hub.jobs.score_interview_session"]
    async with runtime.db.session(tenant) as db_session:
        await db_session.execute(delete(m.Application).where(m.Application.id == ids["application"]))
        await db_session.commit()
    await drain(runtime)
    queued.refresh()
    assert queued.return_value() == {"status": "missing"}
    again = await call_job(jobs.score_interview_session, *queued.args, **queued.kwargs)
    assert again == {"status": "missing", "replayed": True}
    async with runtime.db.session(tenant) as db_session:
        assert (await db_session.scalars(select(m.Evaluation))).all() == []
    gone = errors(await post(client, hr, SCORE, input={"sessionId": session["id"]}))[0]
    assert gone["extensions"]["code"] == "NOT_FOUND"


async def test_consent_withdrawn_before_the_job_runs_stops_scoring(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    granted = [{"purpose": "ai_scoring", "granted": True, "granted_at": "2025-01-01T00:00:00+00:00"}]
    ids = await seed_application(runtime, tenant, consent=granted)
    gql_ok(await post(client, hr, SET_RUBRIC, input={"jobId": gid("Job", ids["job"]), "rubricId": "backend_engineer"}))
    session = await record(client, hr, ids["application"], consent=True)
    gql_ok(await post(client, hr, SCORE, input={"sessionId": session["id"]}))
    # The candidate withdraws consent (in the HR system) after scoring was requested: the latest record wins.
    withdrawn = {"purpose": "ai_scoring", "granted": False, "granted_at": datetime.now(UTC).isoformat()}
    async with runtime.db.session(tenant) as db_session:
        candidate = (await db_session.scalars(select(m.Candidate).where(m.Candidate.id == ids["candidate"]))).one()
        candidate.consent = [*granted, withdrawn]
        await db_session.commit()
    await drain(runtime)
    async with runtime.db.session(tenant) as db_session:
        (run,) = (
            await db_session.scalars(select(m.JobRun).where(m.JobRun.function == "hub.jobs.score_interview_session"))
        ).all()
        assert (await db_session.scalars(select(m.Evaluation))).all() == []
    assert run.result == {"status": "consent_required"}
