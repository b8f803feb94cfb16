"""Workflow steps against the simulated HR system, where the chain test does not reach: an interview
that came from the HR system is not put on its calendar a second time, and without a mobile app the
candidate's invitation waits for a channel (recorded, not lost)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from hub import jobs
from hub.db import Database
from hub.db import models as m
from hub.db.base import utcnow
from hub.events import publish_pending
from hub.jobs.runtime import release_thread
from hub.redis import async_redis
from hub.services.sync import run_sync, start_sync
from hub.settings import Settings
from simulators.hr import create_hr_app
from simulators.seed import Sizes, World, build_world
from tests.hub.integration_support import Hub, connect_hr, drop_tenant, make_hub, serving

RULES = [{"id": "schedule", "on": "approval.approved", "do": "schedule_interview",
          "with": {"round": 2, "location": "总部 3F", "interviewers": [{"id": "u-1", "name": "李雷"}]}}]  # fmt: skip


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(5, Sizes(candidates=4, jobs=1))


@pytest.fixture
async def hub(settings: Settings, db: Database) -> AsyncIterator[Hub]:
    made = await make_hub(settings, db)
    yield made
    await drop_tenant(db, made.tenant)


def _run_workflows(hub: Hub) -> None:
    try:
        jobs.configure(hub.settings)
        jobs.run_workflows(str(hub.tenant), idempotency_key=f"t:{uuid.uuid4()}")
    finally:
        release_thread()


async def _approved(hub: Hub, application_id: uuid.UUID) -> None:
    """The approval for the application comes back approved (as the OA callback leaves it)."""
    async with hub.db.session(hub.tenant) as session:
        approval = m.ApprovalInstance(definition_code="PROC", title="二面审批", status="APPROVED",
                                      subject_type="application", subject_id=application_id)  # fmt: skip
        session.add(approval)
        await session.flush()
        session.add(m.Event(type="approval.status_changed", entity="approval", entity_id=approval.id,
                            data={"status": "APPROVED", "application_id": str(application_id)}))  # fmt: skip
        await session.commit()
    redis = async_redis(hub.settings.redis_url)
    try:
        await publish_pending(hub.db, redis, hub.settings.redis_prefix)
    finally:
        await redis.aclose()


async def test_an_interview_from_the_hr_system_is_not_put_on_its_calendar_again(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    tables = app.state.sim.tables
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app)
        for run in await start_sync(hub.db, hub.tenant, hr.id, ["job", "candidate", "application"], full=True):
            await run_sync(hub.db, hub.vault, hub.tenant, hr.id, run.model, run_id=run.id)
        (link,) = await hub.rows(m.RemoteLink, m.RemoteLink.entity == "application",
                                 m.RemoteLink.remote_id == tables["applications"].rows[0].record["id"])  # fmt: skip
        (application,) = await hub.rows(m.Application, m.Application.id == link.entity_id)
        async with hub.db.session(hub.tenant) as session:
            job = await session.get(m.Job, application.job_id)
            assert job is not None
            job.automation = RULES
            start = utcnow() + timedelta(days=3)
            interview = m.Interview(application_id=application.id, round=2, mode="ONSITE", interviewers=["u-1"],
                                    start_at=start, end_at=start + timedelta(hours=1), location="总部 3F")  # fmt: skip
            session.add(interview)
            await session.flush()
            session.add(m.RemoteLink(connection_id=hr.id, entity="interview", entity_id=interview.id,
                                     remote_id="hr-interview-1"))  # it came from the HR system  # fmt: skip
            await session.commit()
        before = len(tables["interviews"])
        await _approved(hub, application.id)
        await asyncio.to_thread(_run_workflows, hub)
        await asyncio.to_thread(_run_workflows, hub)
        assert len(tables["interviews"]) == before, "no second entry on the HR calendar"

    assert [i.id for i in await hub.rows(m.Interview)] == [interview.id]
    (note,) = await hub.rows(m.Notification)
    assert note.status == "PENDING_CHANNEL" and "李雷" in note.body and "总部 3F" in note.body
    history = [h.reason for h in await hub.rows(m.StageChange, m.StageChange.application_id == application.id)]
    assert sum(r.startswith("candidate not notified: no mobile app connection") for r in history) == 1
    assert not any("HR calendar" in r for r in history)
    run = (await hub.rows(m.JobRun, m.JobRun.function == "workflow.schedule_interview"))[0]
    assert run.status == "DONE" and run.result["notified"] == "PENDING_CHANNEL"
    assert run.result["calendar"] == "hr-interview-1"
