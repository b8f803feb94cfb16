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
