"""The automated chain on the event log: rules fire once, steps are idempotent, nobody is
rejected by a machine."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
from sqlalchemy import func, select, text

from hub import jobs
from hub.db import models as m
from hub.jobs.runtime import release_thread
from hub.runtime import Runtime
from hub.workflows import DEFAULT_RULES, parse_rules
from schema.relay import encode_global_id
from tests.factories import Actor, gql_ok, open_store


def _run(tenant: uuid.UUID) -> dict:
    try:
        return jobs.run_workflows(str(tenant), idempotency_key=f"t:{uuid.uuid4()}")
    finally:
        release_thread()


async def _world(runtime: Runtime, tenant: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    async with open_store(runtime.db, runtime.settings, tenant) as store:
        job = await store.create(
            "job",
            {
                "title": "后端",
                "stages": ["APPLIED", "AI_INTERVIEW", "SECOND_ROUND"],
                "automation": [dict(r) for r in DEFAULT_RULES],
            },
        )
        cand = await store.create("candidate", {"first_name": "伟", "last_name": "张"})
        app = await store.create("application", {"candidate_id": cand.id, "job_id": job.id})
    return job.id, app.id


async def _emit(runtime: Runtime, tenant: uuid.UUID, *events: m.Event) -> None:
    async with runtime.db.session(tenant) as session:
        session.add_all(events)
        await session.commit()
    await runtime.events.publish()


async def _rejected(runtime: Runtime, tenant: uuid.UUID, *, deliveries: int) -> uuid.UUID:
    """An application whose approval was rejected in the OA system, the event delivered that many times."""
    jobs.configure(runtime.settings)
    _job, app_id = await _world(runtime, tenant)
    async with runtime.db.session(tenant) as session:
        approval = m.ApprovalInstance(
            definition_code="PROC", status="REJECTED", subject_type="application", subject_id=app_id
        )
        session.add(approval)
        await session.commit()
    rejected = {"status": "REJECTED", "application_id": str(app_id)}
    await _emit(
        runtime,
        tenant,
        *(
            m.Event(type="approval.status_changed", entity="approval", entity_id=approval.id, data=rejected)
            for _ in range(deliveries)
        ),
    )
    return app_id


async def _count(runtime: Runtime, tenant: uuid.UUID, model: type, *where: object) -> int:
    async with runtime.db.session(tenant) as session:
        return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def test_default_chain_runs_once_per_step(runtime: Runtime, tenant: uuid.UUID) -> None:
    jobs.configure(runtime.settings)
    _job, app_id = await _world(runtime, tenant)
    async with runtime.db.session(tenant) as session:
        evaluation = m.Evaluation(
            application_id=app_id, total=86.0, recommendation="advance", dimension_scores=[], missing_must_have=[]
        )
        low = m.Evaluation(
            application_id=app_id, total=62.0, recommendation="hold", dimension_scores=[], missing_must_have=[]
        )
        session.add_all([evaluation, low])
        await session.commit()
    created = m.Event(
        type="evaluation.created", entity="evaluation", entity_id=evaluation.id, data={"application_id": str(app_id)}
    )
    await _emit(
        runtime,
        tenant,
        created,
        m.Event(type="evaluation.created", entity="evaluation", entity_id=low.id, data={"application_id": str(app_id)}),
        m.Event(
            type="evaluation.created",
            entity="evaluation",
            entity_id=evaluation.id,
            data={"application_id": str(app_id)},
        ),
    )  # a duplicated delivery
    await asyncio.to_thread(_run, tenant)
    await asyncio.to_thread(_run, tenant)  # a retried job changes nothing twice
    assert await _count(runtime, tenant, m.ApprovalInstance) == 1
    async with runtime.db.session(tenant) as session:
        approval = (await session.scalars(select(m.ApprovalInstance))).one()
        assert approval.status == "PENDING" and approval.subject_id == app_id
        approval.status = "APPROVED"
        await session.commit()
    approved = {"status": "APPROVED", "application_id": str(app_id)}
    await _emit(
        runtime,
        tenant,
        m.Event(type="approval.status_changed", entity="approval", entity_id=approval.id, data=approved),
        m.Event(type="approval.status_changed", entity="approval", entity_id=approval.id, data=approved),
    )
    await asyncio.to_thread(_run, tenant)
    assert await _count(runtime, tenant, m.Interview, m.Interview.round == 2) == 1
    assert await _count(runtime, tenant, m.Notification, m.Notification.recipient_kind == "candidate") == 1
    async with runtime.db.session(tenant) as session:
        history = (
            await session.scalars(
                select(m.StageChange).where(m.StageChange.application_id == app_id).order_by(m.StageChange.created_at)
            )
        ).all()
        app = (await session.scalars(select(m.Application).where(m.Application.id == app_id))).one()
    workflow_steps = [h.reason for h in history if h.actor_kind == "workflow"]
    assert any("approval requested" in r for r in workflow_steps)
    assert any("interview scheduled" in r for r in workflow_steps)
    assert any("did not fire" in r for r in workflow_steps)  # the 62-point evaluation, explained
    assert app.outcome == "ACTIVE"


async def test_rejected_approval_tells_hr_and_rejects_nobody(runtime: Runtime, tenant: uuid.UUID) -> None:
    app_id = await _rejected(runtime, tenant, deliveries=2)
    await asyncio.to_thread(_run, tenant)
    assert await _count(runtime, tenant, m.Notification, m.Notification.recipient_kind == "hr") == 1
    assert await _count(runtime, tenant, m.Interview) == 0
    async with runtime.db.session(tenant) as session:
        app = (await session.scalars(select(m.Application).where(m.Application.id == app_id))).one()
    assert app.outcome == "ACTIVE" and app.rejected_at is None


async def test_set_job_automation_validates(client: httpx.AsyncClient, hr: Actor, runtime: Runtime) -> None:
    _job, _app = await _world(runtime, hr.tenant_id)
    job_gid = encode_global_id("Job", _job)
    query = "mutation($i: SetJobAutomationInput!) { setJobAutomation(input: $i) { rules } }"
    ok = gql_ok(
        await client.post(
            "/graphql",
            headers=hr.headers,
            json={"query": query, "variables": {"i": {"jobId": job_gid, "useDefault": True}}},
        )
    )
    assert [r["do"] for r in ok["setJobAutomation"]["rules"]][:2] == ["start_approval", "schedule_interview"]
    for bad in (
        [{"on": "evaluation.created", "do": "reject_candidate"}],
        [{"on": "nonsense", "do": "notify_hr"}],
        [{"on": "evaluation.created", "do": "start_approval", "when": {"min_total": 180}}],
    ):
        response = await client.post(
            "/graphql", headers=hr.headers, json={"query": query, "variables": {"i": {"jobId": job_gid, "rules": bad}}}
        )
        assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED", bad


async def test_a_runner_that_finds_the_tenant_busy_leaves_at_once(runtime: Runtime, tenant: uuid.UUID) -> None:
    """Another runner holds the tenant's lock: the job returns instead of holding a worker while it waits,
    and the holder processes what was published meanwhile."""
    await _rejected(runtime, tenant, deliveries=1)
    key = int.from_bytes(tenant.bytes[8:], "big", signed=True)
    async with runtime.db.engine.connect() as holder:
        await holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        started = time.perf_counter()
        busy = await asyncio.to_thread(_run, tenant)
        assert busy == {"status": "busy", "processed": 0} and time.perf_counter() - started < 5
        assert await _count(runtime, tenant, m.Notification) == 0
        await holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    done = await asyncio.to_thread(_run, tenant)
    assert done["status"] == "ok" and done["processed"] >= 1
    assert await _count(runtime, tenant, m.Notification, m.Notification.recipient_kind == "hr") == 1


def test_a_condition_the_trigger_cannot_check_is_refused() -> None:
    for rule in (
        {"on": "approval.approved", "do": "notify_hr", "when": {"min_total": 50}},
        {"on": "screening_result.passed", "do": "invite_ai_interview", "when": {"recommendation_in": ["x"]}},
    ):
        try:
            parse_rules([rule])
        except ValueError as exc:
            assert f"cannot be checked on {rule['on']}" in str(exc)
        else:
            raise AssertionError(f"accepted {rule}")
    assert parse_rules([{"on": "screening_result.passed", "do": "invite_ai_interview", "when": {"min_total": 70}}])


def test_no_rule_can_reject() -> None:
    assert all(r.do != "reject" for r in parse_rules(DEFAULT_RULES))
    try:
        parse_rules([{"on": "evaluation.created", "do": "reject"}])
    except ValueError as exc:
        assert "automation.0.do" in str(exc)
    else:
        raise AssertionError("a rejecting action must not validate")


async def test_a_runner_queued_for_a_tenant_deleted_since_does_nothing(runtime: Runtime) -> None:
    jobs.configure(runtime.settings)
    gone = uuid.uuid4()  # a tenant deleted after its events were published (or never there)
    assert await asyncio.to_thread(_run, gone) == {"status": "tenant_gone", "processed": 0}
    async with runtime.db.system_session() as session:
        cursors = (await session.execute(select(func.count()).select_from(m.WorkflowCursor).where(
            m.WorkflowCursor.tenant_id == gone))).scalar()  # fmt: skip
    assert cursors == 0
