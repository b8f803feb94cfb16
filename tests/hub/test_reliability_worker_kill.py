"""A ``hub worker`` killed with SIGKILL in the middle of scoring an AI interview (the worker, its work
horse and its scheduler at once: the container died). Another worker retries the job; the evaluation
is written once, and the candidate is notified once through the mobile app (the workflow's step that
follows the evaluation; the simulated mobile server counts the pushes it received).

Catching the job mid-scoring without a test hook: this test holds a PostgreSQL lock the job needs and
waits until the job's connection is queued behind it, so the kill lands at a known point:

- ``before commit``: ``LOCK evaluations IN SHARE MODE``: the job has read the session, opened the
  answers and scored them; its INSERT of the evaluation (and its event) waits. Nothing is committed.
- ``after commit``: the evaluation and its event are committed, but the job's own bookkeeping
  (``job_runs`` DONE) waits on a row lock, so it never publishes the event or records the run.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from hub.db import models as m
from hub.queues import Queues
from hub.redis import sync_redis
from hub.runtime import Runtime
from hub.services.interviews import rubric_key
from hub.settings import Settings
from schema.relay import decode_global_id
from simulators.mobile import create_mobile_app
from simulators.seed import Sizes, World, build_world
from tests.factories import Actor, gql_ok
from tests.hub.integration_support import connect_mobile, drop_tenant, make_hub, serving
from tests.hub.reliability_support import (
    Processes,
    WorkerProcess,
    hub_env,
    true,
    wait_until,
    wait_until_async,
)
from tests.hub.test_scoring import SCORE, SET_RUBRIC, record, seed_application
from tests.hub.test_screening import gid, post

pytestmark = pytest.mark.e2e

RULES = [
    {
        "id": "invite-second-round",
        "on": "evaluation.created",
        "do": "schedule_interview",
        "with": {"round": 2, "mode": "ONSITE", "location": "总部 3F", "interviewers": ["hr_lead"]},
    }
]


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(31, Sizes(candidates=4, jobs=1))


@pytest.fixture
async def hub(runtime: Runtime) -> AsyncIterator[Any]:
    made = await make_hub(runtime.settings, runtime.db)
    yield made
    await drop_tenant(runtime.db, made.tenant)


def _libpq(settings: Settings) -> str:
    return settings.database_url.replace("postgresql+psycopg://", "postgresql://")


def _waiting_on(admin: psycopg.Connection[Any], sql_prefix: str) -> bool:
    """Whether some session of this database is blocked on a lock running a statement like ``sql_prefix``."""
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
        "AND query ILIKE %s",
        (sql_prefix + "%",),
    ).fetchone()
    return bool(row and row[0])


def _started_jobs(settings: Settings) -> int:
    queues = Queues(sync_redis(settings.redis_url), prefix=settings.redis_prefix)
    try:
        return sum(len(q) + q.started_job_registry.get_job_count(cleanup=False) for q in queues.all())
    finally:
        queues.connection.close()


async def _count(runtime: Runtime, tenant: uuid.UUID, model: Any, *where: Any) -> int:
    async with runtime.db.session(tenant) as session:
        return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


@pytest.mark.parametrize("kill_point", ["before commit", "after commit"])
async def test_worker_killed_mid_scoring_retries_once_and_notifies_once(
    running: Processes,
    runtime: Runtime,
    client: httpx.AsyncClient,
    hub: Any,
    world: World,
    settings: Settings,
    kill_point: str,
) -> None:
    hr: Actor = hub.hr
    app = create_mobile_app(world)
    pushes = app.state.sim.state.notifications
    with serving(app) as (mobile_server,):
        mobile = await connect_mobile(hub, mobile_server, app)
        ids = await seed_application(runtime, hub.tenant, consent=None)
        async with runtime.db.session(hub.tenant) as session:
            job = (await session.scalars(select(m.Job).where(m.Job.id == ids["job"]))).one()
            job.automation = RULES
            session.add(m.RemoteLink(connection_id=mobile.id, entity="candidate", entity_id=ids["candidate"],
                                     remote_id=world.candidates[0].remote_id))  # fmt: skip
            await session.commit()
        rubric_input = {"jobId": gid("Job", ids["job"]), "rubricId": "backend_engineer"}
        gql_ok(await post(client, hr, SET_RUBRIC, input=rubric_input))
        scoring = await record(client, hr, ids["application"], consent=True)
        session_id = decode_global_id(scoring["id"], expect="InterviewSession")[1]
        async with runtime.db.session(hub.tenant) as session:
            rubric = (await session.scalars(select(m.Job.rubric).where(m.Job.id == ids["job"]))).one()
        key = f"score:{session_id}:{rubric_key(rubric)}"
        env = hub_env(settings)
        with (
            psycopg.connect(_libpq(settings), autocommit=True) as admin,
            psycopg.connect(_libpq(settings)) as table_lock,
            psycopg.connect(_libpq(settings)) as row_lock,
        ):
            table_lock.execute("LOCK TABLE evaluations IN SHARE MODE")
            queued = gql_ok(await post(client, hr, SCORE, input={"sessionId": scoring["id"]}))
            assert queued["scoreInterviewSession"]["status"] == "QUEUED"
            first = running.add(WorkerProcess("worker-1", env, running.log_dir))
            try:
                await asyncio.to_thread(
                    wait_until, lambda: _waiting_on(admin, "INSERT INTO evaluations"), 60, "the job to score"
                )
                if kill_point == "after commit":
                    row_lock.execute("SELECT 1 FROM job_runs WHERE idempotency_key = %s FOR UPDATE", (key,))
                    table_lock.commit()  # the evaluation and its event commit; the job's bookkeeping waits
                    await asyncio.to_thread(
                        wait_until, lambda: _waiting_on(admin, "UPDATE job_runs"), 30, "the evaluation to commit"
                    )
                    assert await _count(runtime, hub.tenant, m.Evaluation) == 1
                first.kill_tree()  # SIGKILL: worker, work horse and scheduler
                assert not first.alive()
            finally:
                table_lock.rollback()
                row_lock.rollback()
            # The scoring job the kill interrupted (the session's queues are shared with earlier tests).
            started = Job.fetch_many(
                [j for q in Queues(runtime.redis, prefix=settings.redis_prefix).all()
                 for j in q.started_job_registry.get_job_ids(cleanup=False)],
                connection=runtime.redis, serializer=JSONSerializer,
            )  # fmt: skip
            (rq_job_id,) = [
                j.id for j in started
                if j is not None and j.func_name == "hub.jobs.score_interview_session" and str(session_id) in j.args
            ]  # fmt: skip
            assert await _count(runtime, hub.tenant, m.Evaluation) == (1 if kill_point == "after commit" else 0)

            second = running.add(WorkerProcess("worker-2", env, running.log_dir))
            try:
                await wait_until_async(
                    lambda: _notified(runtime, hub.tenant, pushes), 90, "the evaluation and the candidate's push"
                )
                await asyncio.to_thread(wait_until, lambda: _started_jobs(settings) == 0, 60, "the queues to drain")
            except AssertionError:
                print(running.logs())
                raise

    rq_job = Job.fetch(rq_job_id, connection=runtime.redis, serializer=JSONSerializer)
    assert rq_job.get_status() == "finished" and rq_job.retries_left == 2, "retried once"
    # The whole log: the worker also takes jobs earlier tests left on the session's shared queues.
    assert f"job {rq_job_id} (hub.jobs.score_interview_session) was abandoned" in second.log_tail(10**6)
    async with runtime.db.session(hub.tenant) as session:
        evaluations = (await session.scalars(select(m.Evaluation))).all()
        run = (await session.scalars(select(m.JobRun).where(m.JobRun.idempotency_key == key))).one()
        notes = (await session.scalars(select(m.Notification))).all()
        interviews = (await session.scalars(select(m.Interview))).all()
    assert len(evaluations) == 1 and evaluations[0].session_id == session_id
    assert (run.status, run.attempts) == ("DONE", 2)
    assert [(n.recipient_id, n.status) for n in notes] == [(ids["candidate"], "DELIVERED")]  # the app's delivery status
    assert [(i.round, i.location) for i in interviews] == [(2, "总部 3F")]
    assert [p["to"] for p in pushes.values()] == [world.candidates[0].remote_id], "the candidate is notified once"


async def _notified(runtime: Runtime, tenant: uuid.UUID, pushes: dict[str, Any]) -> bool:
    sent = await _count(runtime, tenant, m.Notification, m.Notification.status == "DELIVERED")
    return await true(sent >= 1 and len(pushes) >= 1)
