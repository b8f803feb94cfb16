"""The production topology on loopback: two hub processes, two ``hub worker`` processes, one Redis, one
PostgreSQL. A mutation on hub A asks for an AI interview to be scored; one of the workers scores it; a
subscriber connected to hub B receives the evaluation event with the result, loaded for it by hub B.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import select

from hub.db import models as m
from hub.runtime import Runtime
from hub.settings import Settings
from schema.relay import encode_global_id
from tests.factories import Actor, gql_ok
from tests.hub.reliability_support import HubServer, Processes, WorkerProcess, hub_env, wait_until
from tests.hub.test_scoring import SCORE, SET_RUBRIC, record, seed_application
from tests.hub.test_screening import gid, post

pytestmark = pytest.mark.e2e

RESULTS = """subscription { events(after: "0", types: ["evaluation.created"]) {
  cursor type node { id ... on Evaluation { total recommendation application { id } } } } }"""


async def _first_result(url: str, actor: Actor, subscribed: asyncio.Event) -> dict[str, Any]:
    async with websockets.connect(url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {actor.token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": RESULTS}}))
        subscribed.set()
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
                continue
            assert message["type"] == "next" and "errors" not in message["payload"], message
            return message["payload"]["data"]["events"]  # type: ignore[no-any-return]
    raise AssertionError("the subscription ended without a result")


async def test_mutation_on_hub_a_job_on_a_worker_result_on_hub_b(
    running: Processes, runtime: Runtime, hr: Actor, tenant: Any, settings: Settings
) -> None:
    env = hub_env(settings)
    hub_a = running.add(HubServer("hub-a", env, running.log_dir), start=False)
    hub_b = running.add(HubServer("hub-b", env, running.log_dir), start=False)
    workers = [running.add(WorkerProcess(f"worker-{i}", env, running.log_dir), start=False) for i in (1, 2)]
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in (hub_a, hub_b, *workers)))
    ids = await seed_application(runtime, tenant)
    try:
        subscribed = asyncio.Event()
        result = asyncio.create_task(_first_result(hub_b.ws_url, hr, subscribed))
        await asyncio.wait_for(subscribed.wait(), 30)
        async with httpx.AsyncClient(base_url=hub_a.url, timeout=30) as on_a:
            rubric = {"jobId": gid("Job", ids["job"]), "rubricId": "backend_engineer"}
            gql_ok(await post(on_a, hr, SET_RUBRIC, input=rubric))
            session = await record(on_a, hr, ids["application"], consent=True)
            queued = gql_ok(await post(on_a, hr, SCORE, input={"sessionId": session["id"]}))["scoreInterviewSession"]
        assert queued["status"] == "QUEUED"
        event = await asyncio.wait_for(result, 90)
    except BaseException:
        print(running.logs())
        raise

    async with runtime.db.session(tenant) as db_session:
        (evaluation,) = (await db_session.scalars(select(m.Evaluation))).all()
        (run,) = (await db_session.scalars(select(m.JobRun).where(m.JobRun.function.like("%score_interview%")))).all()
    assert event["type"] == "evaluation.created"
    assert event["node"] == {
        "id": encode_global_id("Evaluation", evaluation.id),
        "total": evaluation.total,
        "recommendation": evaluation.recommendation,
        "application": {"id": gid("Application", ids["application"])},
    }
    assert run.status == "DONE"
    names = {w.argv[w.argv.index("--name") + 1] for w in workers}

    def scorers() -> set[str]:  # the job publishes its event before RQ records it finished
        finished = [
            Job.fetch(job_id, connection=runtime.redis, serializer=JSONSerializer)
            for queue in runtime.queues.all()
            for job_id in queue.finished_job_registry.get_job_ids()
        ]
        return {str(j.worker_name) for j in finished if j.func_name == "hub.jobs.score_interview_session"
                and j.args[1] == str(evaluation.session_id)}  # fmt: skip

    ran_on = await asyncio.to_thread(wait_until, scorers, 30, "the scoring job to be recorded finished")
    assert ran_on <= names, (ran_on, names)
