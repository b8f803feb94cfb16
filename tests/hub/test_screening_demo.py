"""The engines on the demo data, from GraphQL: screening every demo job, scoring the demo's AI interviews
(with and without consent) and an outline, on PostgreSQL with Redis and in the embedded mode (SQLite, the
in-process Redis stand-in), each time with a real RQ worker."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
from rq.serializers import JSONSerializer

from hub import jobs
from hub.app import create_app
from hub.demo import seed_demo
from hub.embedded import prepare_embedded
from hub.queues import Queues
from hub.redis import sync_redis
from hub.runtime import Runtime
from hub.settings import Settings
from hub.worker import _ThreadWorker
from tests.factories import make_actor
from tests.hub.test_screening import RUN, START, assert_explained

JOBS = "{ jobs(first: 10) { edges { node { id title rubric { rubricId } } } } }"
SESSIONS = """{ applications(first: 100) { edges { node { id interviewSessions { id } } } } }"""
SCORE = """mutation($id: ID!) { scoreInterviewSession(input: {sessionId: $id}) { status } }"""
EVALUATIONS = """query($id: ID!) { node(id: $id) { ... on InterviewSession { answers { transcript }
  evaluations { total recommendation dimensions { key score evidence { answerIndex text start end } } } } } }"""
OUTLINE = """mutation($id: ID!) { generateInterviewOutline(input: {applicationId: $id}) { queued } }"""
READ_OUTLINE = (
    """query($id: ID!) { node(id: $id) { ... on Application { outline { coverage questions { purpose } } } } }"""
)


def _drain(settings: Settings) -> None:
    connection = sync_redis(settings.redis_url)
    jobs.configure(settings)
    worker = _ThreadWorker(
        Queues(connection, prefix=settings.redis_prefix).all(), connection=connection, serializer=JSONSerializer
    )
    worker.work(burst=True)


async def _gql(client: httpx.AsyncClient, headers: dict[str, str], query: str, **variables: Any) -> dict[str, Any]:
    body = (await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


async def _scenario(client: httpx.AsyncClient, headers: dict[str, str], settings: Settings) -> None:
    demo_jobs = [e["node"] for e in (await _gql(client, headers, JOBS))["jobs"]["edges"]]
    assert len(demo_jobs) == 4 and all(j["rubric"] for j in demo_jobs)
    runs = [
        (await _gql(client, headers, START, input={"jobId": j["id"]}))["startScreeningRun"]["run"] for j in demo_jobs
    ]
    await asyncio.to_thread(_drain, settings)
    screened = 0
    for run in runs:
        node = (await _gql(client, headers, RUN, id=run["id"]))["node"]
        assert node["status"] == "DONE" and node["progress"]["done"] == node["progress"]["total"] > 0
        for edge in node["results"]["edges"]:
            assert_explained(edge["node"])
            screened += 1
            met = [r for r in edge["node"]["reasons"] if r["code"] in ("MUST_HAVE_MET", "NICE_TO_HAVE_MET")]
            assert all(r["evidence"] for r in met)  # evidence read back, on PostgreSQL and on SQLite
    assert screened == 40

    apps = [e["node"] for e in (await _gql(client, headers, SESSIONS))["applications"]["edges"]]
    sessions = [s["id"] for a in apps for s in a["interviewSessions"]]
    assert sessions
    statuses = []
    for session in sessions:
        response = (
            await client.post("/graphql", json={"query": SCORE, "variables": {"id": session}}, headers=headers)
        ).json()
        statuses.append(
            response["data"]["scoreInterviewSession"]["status"]
            if response.get("data")
            else response["errors"][0]["extensions"]["code"]
        )
    assert "QUEUED" in statuses and "CONSENT_REQUIRED" in statuses  # some demo candidates did not consent
    await asyncio.to_thread(_drain, settings)
    for session, status in zip(sessions, statuses, strict=True):
        node = (await _gql(client, headers, EVALUATIONS, id=session))["node"]
        assert len(node["evaluations"]) == (1 if status == "QUEUED" else 0)
        transcripts = [a["transcript"] for a in node["answers"]]
        for evaluation in node["evaluations"]:
            assert evaluation["total"] is not None
            for dimension in evaluation["dimensions"]:
                for e in dimension["evidence"]:
                    assert transcripts[e["answerIndex"]][e["start"] : e["end"]] == e["text"]

    app = apps[0]["id"]
    assert (await _gql(client, headers, OUTLINE, id=app))["generateInterviewOutline"]["queued"] is True
    await asyncio.to_thread(_drain, settings)
    outline = (await _gql(client, headers, READ_OUTLINE, id=app))["node"]["outline"]
    assert outline["coverage"] == 1.0 and outline["questions"]


async def test_engines_on_the_demo_data_with_postgres_and_redis(runtime: Runtime, client: httpx.AsyncClient) -> None:
    tenant, _created = await seed_demo(runtime.db, runtime.vault)
    hr = await make_actor(runtime.db, runtime.settings, tenant, "hr")
    await _scenario(client, hr.headers, runtime.settings)


async def test_engines_on_the_demo_data_in_the_embedded_mode(tmp_path: Path) -> None:
    settings, banner = await asyncio.to_thread(prepare_embedded, home=tmp_path / "hub-home", port=8766)
    token = re.search(r"Token:\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
            await _scenario(client, {"authorization": f"Bearer {token}"}, settings)
    finally:
        await app.state.runtime.close()
