"""Subscriptions end to end: a real server, real WebSocket and SSE clients, the real event bus."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import delete

from hub.app import create_app
from hub.db import Database
from hub.db import models as m
from hub.settings import Settings
from tests.factories import Actor, make_actor, make_tenant, open_store
from tests.servers import LoopbackServer

pytestmark = pytest.mark.e2e

EVENTS = """subscription($after: String, $types: [String!]) { events(after: $after, types: $types) {
  cursor type entityType node { id ... on Job { title } ... on Application { stage } } } }"""


@pytest.fixture
def server(settings: Settings) -> Iterator[LoopbackServer]:
    with LoopbackServer(create_app(settings)) as running:
        yield running


class Client:
    """A minimal graphql-transport-ws client (the protocol edge cases are ours to see)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    async def connect(cls, server: LoopbackServer, actor: Actor) -> Client:
        ws = await websockets.connect(
            server.url.replace("http", "ws") + "/graphql", subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        )
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {actor.token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        return cls(ws)

    async def subscribe(self, query: str, **variables: Any) -> None:
        await self.ws.send(
            json.dumps({"id": "s1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
        )

    async def next(self, timeout: float = 10) -> dict[str, Any]:  # noqa: ASYNC109
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            return message

    async def close(self) -> None:
        await self.ws.close()


_settings: list[Settings] = []


async def _setup(settings: Settings) -> tuple[Database, uuid.UUID, Actor]:
    _settings[:] = [settings]
    db = Database(settings)
    tenant = await make_tenant(db)
    return db, tenant, await make_actor(db, settings, tenant, "hr")


async def _create_jobs(db: Database, tenant: uuid.UUID, count: int, prefix: str = "job") -> None:
    async with open_store(db, _settings[0], tenant) as store:
        for i in range(count):
            await store.create("job", {"title": f"{prefix} {i}"})


async def test_live_event_reaches_a_websocket_subscriber(server: LoopbackServer, settings: Settings) -> None:
    db, _tenant, hr = await _setup(settings)
    client = await Client.connect(server, hr)
    try:
        await client.subscribe(EVENTS)
        await asyncio.sleep(0.3)
        async with httpx.AsyncClient(base_url=server.url, headers=hr.headers) as http:
            await http.post(
                "/graphql", json={"query": 'mutation { createJob(input: {title: "直播岗位"}) { job { id } } }'}
            )
        message = await client.next()
        assert message["type"] == "next" and "errors" not in message["payload"], message
        event = message["payload"]["data"]["events"]
        assert event["type"] == "job.created" and event["node"]["title"] == "直播岗位"
        assert event["cursor"] == "1"
    finally:
        await client.close()
        await db.dispose()


async def test_reconnect_with_cursor_receives_every_missed_event_in_order(
    server: LoopbackServer, settings: Settings
) -> None:
    db, tenant, hr = await _setup(settings)
    try:
        await _create_jobs(db, tenant, 1, "before")
        await published(db, tenant)
        client = await Client.connect(server, hr)
        await client.subscribe(EVENTS)
        await asyncio.sleep(0.2)
        await _create_jobs(db, tenant, 1, "seen")
        first = (await client.next())["payload"]["data"]["events"]
        assert first["node"]["title"] == "seen 0"
        await client.close()  # the phone loses its network

        await _create_jobs(db, tenant, 1000, "missed")
        client = await Client.connect(server, hr)
        await client.subscribe(EVENTS, after=first["cursor"])
        titles, cursors = [], []
        for _ in range(1000):
            event = (await client.next())["payload"]["data"]["events"]
            titles.append(event["node"]["title"])
            cursors.append(int(event["cursor"]))
        assert titles == [f"missed {i}" for i in range(1000)]
        assert cursors == list(range(int(first["cursor"]) + 1, int(first["cursor"]) + 1001))
        await _create_jobs(db, tenant, 1, "live again")
        assert (await client.next())["payload"]["data"]["events"]["node"]["title"] == "live again 0"
        await client.close()
    finally:
        await db.dispose()


async def test_cursor_past_retention_is_resync_required(server: LoopbackServer, settings: Settings) -> None:
    db, tenant, hr = await _setup(settings)
    try:
        await _create_jobs(db, tenant, 5)
        await published(db, tenant)
        async with db.session(tenant) as session:  # retention removed the oldest events
            await session.execute(delete(m.Event).where(m.Event.seq <= 3))
            await session.commit()
        client = await Client.connect(server, hr)
        await client.subscribe(EVENTS, after="1")
        message = await client.next()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "RESYNC_REQUIRED"
        assert errors[0]["extensions"]["oldest_cursor"] == "3"
        await client.close()
    finally:
        await db.dispose()


async def published(db: Database, tenant: uuid.UUID) -> None:
    """Wait until the server's relay has sequenced every event of ``tenant`` (it sweeps every second)."""
    from sqlalchemy import func, select

    for _ in range(100):
        async with db.session(tenant) as session:
            pending = (await session.execute(select(func.count()).where(m.Event.seq.is_(None)))).scalar_one()
        if not pending:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("events were not published")


async def test_tenants_never_see_each_others_events(server: LoopbackServer, settings: Settings) -> None:
    db, tenant_a, hr_a = await _setup(settings)
    tenant_b = await make_tenant(db)
    try:
        client = await Client.connect(server, hr_a)
        await client.subscribe(EVENTS)
        await asyncio.sleep(0.2)
        for i in range(10):
            await _create_jobs(db, tenant_b, 1, f"b{i}")
            await _create_jobs(db, tenant_a, 1, f"a{i}")
        received = [(await client.next())["payload"]["data"]["events"]["node"]["title"] for _ in range(10)]
        assert received == [f"a{i} 0" for i in range(10)]
        with pytest.raises(TimeoutError):
            await client.next(timeout=1.5)
        await client.close()
    finally:
        await db.dispose()


async def test_candidate_sees_only_their_own_applications(server: LoopbackServer, settings: Settings) -> None:
    db, tenant, _hr = await _setup(settings)
    try:
        async with open_store(db, settings, tenant) as store:
            job = await store.create("job", {"title": "j", "stages": ["A", "B"]})
            mine = await store.create("candidate", {"first_name": "me"})
            other = await store.create("candidate", {"first_name": "other"})
            app_mine = await store.create("application", {"candidate_id": mine.id, "job_id": job.id})
            app_other = await store.create("application", {"candidate_id": other.id, "job_id": job.id})
        candidate = await make_actor(db, settings, tenant, "candidate", candidate_id=mine.id)
        await published(db, tenant)
        client = await Client.connect(server, candidate)
        await client.subscribe("subscription { applicationEvents { type node { ... on Application { stage } } } }")
        await asyncio.sleep(0.3)
        async with open_store(db, settings, tenant) as store:
            await store.move_stage(app_other.id, "B", "other's news")
            await store.move_stage(app_mine.id, "B", "my news")
        event = (await client.next())["payload"]["data"]["applicationEvents"]
        assert event == {"type": "application.stage_changed", "node": {"stage": "B"}}
        with pytest.raises(TimeoutError):
            await client.next(timeout=1.5)
        await client.close()
    finally:
        await db.dispose()


async def test_sse_subscription_and_teardown(server: LoopbackServer, settings: Settings) -> None:
    db, tenant, hr = await _setup(settings)
    runtime = server.server.config.app.state.runtime if hasattr(server.server.config.app, "state") else None
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=hr.headers, timeout=15) as http:
            async with http.stream(
                "POST", "/graphql", headers={"accept": "text/event-stream"}, json={"query": EVENTS}
            ) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                await asyncio.sleep(0.3)
                await _create_jobs(db, tenant, 1, "sse")
                lines = response.aiter_lines()
                data = None
                async for line in lines:
                    if line.startswith("data: "):
                        data = json.loads(line[len("data: ") :])
                        break
                assert data is not None and data["data"]["events"]["node"]["title"] == "sse 0"
        if runtime is not None:
            for _ in range(50):
                if not runtime.events.subscriber_count():
                    break
                await asyncio.sleep(0.1)
            assert runtime.events.subscriber_count() == {}
    finally:
        await db.dispose()


async def test_role_changed_mid_stream_applies_from_the_next_event(server: LoopbackServer, settings: Settings) -> None:
    from schema.relay import encode_global_id

    db, tenant, admin = await _setup(settings)
    try:
        viewer_actor = await make_actor(db, settings, tenant, "interviewer")
        async with open_store(db, settings, tenant) as store:
            cand = await store.create("candidate", {"first_name": "伟", "phones": ["+86-138-1234-5678"]})
        await published(db, tenant)
        client = await Client.connect(server, viewer_actor)
        await client.subscribe(
            'subscription { events(types: ["candidate.updated"]) { node { ... on Candidate { phones } } } }'
        )
        await asyncio.sleep(0.3)
        async with open_store(db, settings, tenant) as store:
            await store.update("candidate", cand.id, {"tags": ["first"]})
        first = (await client.next())["payload"]["data"]["events"]["node"]
        assert first == {"phones": ["+86138****5678"]}  # an interviewer sees it masked
        async with httpx.AsyncClient(base_url=server.url, headers=admin.headers) as http:
            admin_actor = await make_actor(db, settings, tenant, "admin")
            response = await http.post(
                "/graphql",
                headers=admin_actor.headers,
                json={
                    "query": "mutation($i: SetPrincipalAccessInput!) "
                "{ setPrincipalAccess(input: $i) { principal { roles } } }",
                    "variables": {
                        "i": {"principalId": encode_global_id("Principal", viewer_actor.principal.id), "roles": ["hr"]}
                    },
                },
            )
            assert response.json()["data"]["setPrincipalAccess"]["principal"]["roles"] == ["hr"]
        await asyncio.sleep(0.5)
        async with open_store(db, settings, tenant) as store:
            await store.update("candidate", cand.id, {"tags": ["second"]})
        second = (await client.next())["payload"]["data"]["events"]["node"]
        assert second == {"phones": ["+86-138-1234-5678"]}  # now HR: in clear
        await client.close()
    finally:
        await db.dispose()


# -- one execution per group of identical subscribers ----------------------------------------------

PHONES = 'subscription { events(types: ["candidate.updated"]) { node { ... on Candidate { phones } } } }'


def _runtime(server: LoopbackServer) -> Any:
    return server.server.config.app.state.runtime


async def _phones(client: Client) -> list[str]:
    message = await client.next()
    assert message["type"] == "next" and "errors" not in message["payload"], message
    return message["payload"]["data"]["events"]["node"]["phones"]


async def _audited_reads(db: Database, tenant: uuid.UUID, actor: Actor, field: str) -> int:
    from sqlalchemy import func, select

    async with db.session(tenant) as session:
        return (
            await session.execute(
                select(func.count()).where(
                    m.AuditLog.actor == f"user:{actor.principal.id}",
                    m.AuditLog.action == "read",
                    m.AuditLog.entity == "candidate",
                    m.AuditLog.field == field,
                )
            )
        ).scalar_one()


async def test_grouped_subscribers_get_their_roles_view_of_one_shared_execution(
    server: LoopbackServer, settings: Settings
) -> None:
    db, tenant, _hr = await _setup(settings)
    try:
        actors = [await make_actor(db, settings, tenant, role) for role in ("hr", "hr", "interviewer", "interviewer")]
        async with open_store(db, settings, tenant) as store:
            cand = await store.create("candidate", {"first_name": "伟", "phones": ["+86-138-1234-5678"]})
        await published(db, tenant)
        clients = [await Client.connect(server, actor) for actor in actors]
        for client in clients:
            await client.subscribe(PHONES)
        await asyncio.sleep(0.5)
        fanout = _runtime(server).extras["fanout"]
        executions, shared = fanout.executions, fanout.shared
        async with open_store(db, settings, tenant) as store:
            await store.update("candidate", cand.id, {"tags": ["x"]})
        received = [await _phones(client) for client in clients]
        assert received == [["+86-138-1234-5678"]] * 2 + [["+86138****5678"]] * 2  # per role, same event
        assert (fanout.executions - executions, fanout.shared - shared) == (2, 2)  # one execution per role
        for client in clients:
            await client.close()
        for actor in actors:  # every member's read is audited under its own principal
            for _ in range(50):
                if await _audited_reads(db, tenant, actor, "phones"):
                    break
                await asyncio.sleep(0.1)
            assert await _audited_reads(db, tenant, actor, "phones") >= 1, actor.principal.roles
    finally:
        await db.dispose()


async def test_a_member_whose_role_changes_leaves_its_group(server: LoopbackServer, settings: Settings) -> None:
    from schema.relay import encode_global_id

    db, tenant, _hr = await _setup(settings)
    try:
        changing, staying = [await make_actor(db, settings, tenant, "interviewer") for _ in range(2)]
        admin = await make_actor(db, settings, tenant, "admin")
        async with open_store(db, settings, tenant) as store:
            cand = await store.create("candidate", {"first_name": "芳", "phones": ["+86-139-8765-4321"]})
        await published(db, tenant)
        one, two = await Client.connect(server, changing), await Client.connect(server, staying)
        await one.subscribe(PHONES)
        await two.subscribe(PHONES)
        await asyncio.sleep(0.5)
        fanout = _runtime(server).extras["fanout"]
        executions = fanout.executions
        async with open_store(db, settings, tenant) as store:
            await store.update("candidate", cand.id, {"tags": ["first"]})
        assert await _phones(one) == await _phones(two) == ["+86139****4321"]
        assert fanout.executions - executions == 1  # the two interviewers shared one execution

        async with httpx.AsyncClient(base_url=server.url, headers=admin.headers) as http:
            response = await http.post(
                "/graphql",
                json={
                    "query": "mutation($i: SetPrincipalAccessInput!) "
                    "{ setPrincipalAccess(input: $i) { principal { id } } }",
                    "variables": {
                        "i": {"principalId": encode_global_id("Principal", changing.principal.id), "roles": ["hr"]}
                    },
                },
            )
            assert "errors" not in response.json(), response.json()
        await asyncio.sleep(0.5)
        executions = fanout.executions
        async with open_store(db, settings, tenant) as store:
            await store.update("candidate", cand.id, {"tags": ["second"]})
        assert await _phones(one) == ["+86-139-8765-4321"]  # now HR: its own group, in clear
        assert await _phones(two) == ["+86139****4321"]  # the other interviewer still masked
        assert fanout.executions - executions == 2
        await one.close()
        await two.close()
    finally:
        await db.dispose()


async def test_a_leader_that_disconnects_does_not_cost_its_group_the_event(
    server: LoopbackServer, settings: Settings
) -> None:
    db, tenant, hr = await _setup(settings)
    try:
        clients = [await Client.connect(server, hr) for _ in range(5)]
        for client in clients:
            await client.subscribe(EVENTS)
        await asyncio.sleep(0.5)
        await clients[0].close()  # may be the group's leader for the next event
        await _create_jobs(db, tenant, 1, "still delivered")
        for client in clients[1:]:
            assert (await client.next())["payload"]["data"]["events"]["node"]["title"] == "still delivered 0"
            await client.close()
    finally:
        await db.dispose()


# -- the live views: interview results, screening runs, approvals, a candidate's notifications -----


async def _commit(db: Database, tenant: uuid.UUID, row: Any, event_type: str, entity: str, **data: Any) -> Any:
    """A row and its event in one transaction, as the services write them."""
    async with db.session(tenant) as session:
        session.add(row)
        await session.flush()
        ids = {k: str(v) for k, v in data.items()}
        session.add(m.Event(type=event_type, entity=entity, entity_id=row.id, data=ids))
        await session.commit()
    return row


def _gid(type_name: str, row_id: uuid.UUID) -> str:
    from schema.relay import encode_global_id

    return encode_global_id(type_name, row_id)


def _errors(message: dict[str, Any]) -> list[dict[str, Any]]:
    return message["payload"] if message["type"] == "error" else message["payload"].get("errors", [])


async def _two_applications(db: Database, settings: Settings, tenant: uuid.UUID) -> tuple[Any, Any]:
    async with open_store(db, settings, tenant) as store:
        jobs = [await store.create("job", {"title": t, "stages": ["A", "B"]}) for t in ("一号岗", "二号岗")]
        cands = [await store.create("candidate", {"first_name": n}) for n in ("甲", "乙")]
        apps = [
            await store.create("application", {"candidate_id": c.id, "job_id": j.id})
            for c, j in zip(cands, jobs, strict=True)
        ]
    return apps[0], apps[1]


INTERVIEW_RESULTS = """subscription($job: ID, $candidate: ID, $session: ID, $after: String) {
  interviewResults(jobId: $job, candidateId: $candidate, sessionId: $session, after: $after) {
    cursor type evaluation { id total recommendation } } }"""


async def test_interview_results_by_job_and_for_the_candidate_themselves(
    server: LoopbackServer, settings: Settings
) -> None:
    db, tenant, hr = await _setup(settings)
    try:
        first, second = await _two_applications(db, settings, tenant)
        candidate = await make_actor(db, settings, tenant, "candidate", candidate_id=second.candidate_id)
        await published(db, tenant)
        by_job, by_candidate, own = [await Client.connect(server, a) for a in (hr, hr, candidate)]
        await by_job.subscribe(INTERVIEW_RESULTS, job=_gid("Job", first.job_id))
        await by_candidate.subscribe(INTERVIEW_RESULTS, candidate=_gid("Candidate", second.candidate_id))
        await own.subscribe(INTERVIEW_RESULTS)
        await asyncio.sleep(0.5)
        for app, total in ((first, 91.0), (second, 64.0)):
            row = m.Evaluation(application_id=app.id, total=total, recommendation="advance", dimension_scores=[])
            await _commit(db, tenant, row, "evaluation.created", "evaluation", application_id=app.id)
        seen = (await by_job.next())["payload"]["data"]["interviewResults"]
        assert (seen["type"], seen["evaluation"]["total"]) == ("evaluation.created", 91.0)
        for client in (by_candidate, own):  # the second candidate's result, and only theirs
            assert (await client.next())["payload"]["data"]["interviewResults"]["evaluation"]["total"] == 64.0
        for client in (by_job, by_candidate, own):
            with pytest.raises(TimeoutError):
                await client.next(timeout=1.0)
        await own.close()

        await by_job.close()  # resumes from its cursor: the result scored while it was away arrives
        row = m.Evaluation(application_id=first.id, total=77.0, recommendation="hold", dimension_scores=[])
        await _commit(db, tenant, row, "evaluation.overridden", "evaluation", application_id=first.id)
        await published(db, tenant)
        by_job = await Client.connect(server, hr)
        await by_job.subscribe(INTERVIEW_RESULTS, job=_gid("Job", first.job_id), after=seen["cursor"])
        missed = (await by_job.next())["payload"]["data"]["interviewResults"]
        assert (missed["type"], missed["evaluation"]["total"]) == ("evaluation.overridden", 77.0)
        await by_job.close()
        await by_candidate.close()
    finally:
        await db.dispose()


SCREENING_RUN = """subscription($run: ID!, $after: String) { screeningRunEvents(runId: $run, after: $after) {
  cursor type run { status progress { done total percent } shortlistSize } result { score passed } } }"""


async def test_screening_run_progress_and_completion(server: LoopbackServer, settings: Settings) -> None:
    db, tenant, hr = await _setup(settings)
    try:
        first, _second = await _two_applications(db, settings, tenant)
        candidate = await make_actor(db, settings, tenant, "candidate", candidate_id=first.candidate_id)
        runs = []
        for _ in range(2):
            run = m.ScreeningRun(job_id=first.job_id, status="RUNNING", total=400)
            runs.append(await _commit(db, tenant, run, "screening_run.created", "screening_run", job_id=first.job_id))
        await published(db, tenant)
        client = await Client.connect(server, hr)
        await client.subscribe(SCREENING_RUN, run=_gid("ScreeningRun", runs[0].id))
        await asyncio.sleep(0.5)

        async def step(run: Any, done: int, status: str, kind: str) -> None:
            async with db.session(tenant) as session:
                row = await session.get(m.ScreeningRun, run.id)
                row.done, row.status, row.shortlist_size = done, status, 12 if status == "DONE" else None
                session.add(m.Event(type=f"screening_run.{kind}", entity="screening_run", entity_id=run.id, data={}))
                await session.commit()

        await step(runs[1], 400, "DONE", "completed")  # another run: not this subscription's
        await step(runs[0], 200, "RUNNING", "progress")
        progress = (await client.next())["payload"]["data"]["screeningRunEvents"]
        assert progress["type"] == "screening_run.progress"
        assert progress["run"]["progress"] == {"done": 200, "total": 400, "percent": 50.0}
        await step(runs[0], 400, "DONE", "completed")  # the run as it is when the event is pushed
        completed = (await client.next())["payload"]["data"]["screeningRunEvents"]
        assert completed["type"] == "screening_run.completed"
        assert (completed["run"]["status"], completed["run"]["shortlistSize"]) == ("DONE", 12)
        assert completed["result"] is None
        with pytest.raises(TimeoutError):
            await client.next(timeout=1.0)
        await client.close()

        for actor, run_id in ((candidate, runs[0].id), (hr, uuid.uuid4())):  # not theirs / no such run
            client = await Client.connect(server, actor)
            await client.subscribe(SCREENING_RUN, run=_gid("ScreeningRun", run_id))
            assert _errors(await client.next())[0]["extensions"]["code"] == "NOT_FOUND"
            await client.close()
    finally:
        await db.dispose()


APPROVALS = """subscription($application: ID, $approval: ID) {
  approvalEvents(applicationId: $application, approvalId: $approval) { type approval { id status subjectId } } }"""


async def test_approval_status_changes_by_application_and_by_instance(
    server: LoopbackServer, settings: Settings
) -> None:
    db, tenant, hr = await _setup(settings)
    try:
        first, second = await _two_applications(db, settings, tenant)
        approvals = []
        for app in (first, second):
            row = m.ApprovalInstance(definition_code="second_round", subject_type="application", subject_id=app.id)
            approvals.append(await _commit(db, tenant, row, "approval.created", "approval", application_id=app.id))
        await published(db, tenant)
        by_app, by_instance = await Client.connect(server, hr), await Client.connect(server, hr)
        await by_app.subscribe(APPROVALS, application=_gid("Application", first.id))
        await by_instance.subscribe(APPROVALS, approval=_gid("ApprovalInstance", approvals[1].id))
        await asyncio.sleep(0.5)
        async with db.session(tenant) as session:
            for approval, status in ((approvals[1], "REJECTED"), (approvals[0], "APPROVED")):
                row = await session.get(m.ApprovalInstance, approval.id)
                row.status = status
                change = m.Event(
                    type="approval.status_changed", entity="approval", entity_id=approval.id, data={"status": status}
                )
                session.add(change)
            await session.commit()
        event = (await by_app.next())["payload"]["data"]["approvalEvents"]
        assert event == {
            "type": "approval.status_changed",
            "approval": {
                "id": _gid("ApprovalInstance", approvals[0].id),
                "status": "APPROVED",
                "subjectId": _gid("Application", first.id),
            },
        }
        assert (await by_instance.next())["payload"]["data"]["approvalEvents"]["approval"]["status"] == "REJECTED"
        for client in (by_app, by_instance):
            with pytest.raises(TimeoutError):
                await client.next(timeout=1.0)
            await client.close()
    finally:
        await db.dispose()


NOTIFICATIONS = """subscription($after: String) { myNotifications(after: $after) {
  cursor type notification { title status } } }"""


async def test_a_candidate_receives_only_their_own_notifications(server: LoopbackServer, settings: Settings) -> None:
    db, tenant, hr = await _setup(settings)
    try:
        first, second = await _two_applications(db, settings, tenant)
        me = await make_actor(db, settings, tenant, "candidate", candidate_id=first.candidate_id)
        await published(db, tenant)
        client = await Client.connect(server, me)
        await client.subscribe(NOTIFICATIONS)
        await asyncio.sleep(0.5)
        for app, title in ((second, "not mine"), (first, "面试安排 Interview scheduled")):
            row = m.Notification(recipient_kind="candidate", recipient_id=app.candidate_id, title=title)
            await _commit(db, tenant, row, "notification.created", "notification", candidate_id=app.candidate_id)
        event = (await client.next())["payload"]["data"]["myNotifications"]
        assert (event["type"], event["notification"]) == (
            "notification.created",
            {"title": "面试安排 Interview scheduled", "status": "PENDING"},
        )
        with pytest.raises(TimeoutError):
            await client.next(timeout=1.0)
        await client.close()

        staff = await Client.connect(server, hr)  # notifications are a candidate's sign-in's
        await staff.subscribe(NOTIFICATIONS)
        assert _errors(await staff.next())[0]["extensions"]["code"] == "FORBIDDEN"
        await staff.close()

        async with db.session(tenant) as session:  # retention removed the oldest events
            await session.execute(delete(m.Event).where(m.Event.seq <= 3))
            await session.commit()
        client = await Client.connect(server, me)
        await client.subscribe(NOTIFICATIONS, after="1")
        assert _errors(await client.next())[0]["extensions"]["code"] == "RESYNC_REQUIRED"
        await client.close()
    finally:
        await db.dispose()
