"""End to end: a real uvicorn server on loopback, real HTTP and WebSocket clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets

from hub.app import create_app
from hub.settings import Settings
from tests.factories import make_actor, make_tenant
from tests.servers import LoopbackServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(settings: Settings) -> Iterator[LoopbackServer]:
    with LoopbackServer(create_app(settings)) as running:
        yield running


async def _hr(settings: Settings) -> Any:
    from hub.db import Database

    db = Database(settings)
    try:
        tenant = await make_tenant(db)
        return await make_actor(db, settings, tenant, "hr")
    finally:
        await db.dispose()


async def test_health_and_readiness(server: LoopbackServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}
        assert ready.headers["x-content-type-options"] == "nosniff"


async def test_http_round_trip(server: LoopbackServer, settings: Settings) -> None:
    hr = await _hr(settings)
    async with httpx.AsyncClient(base_url=server.url, headers=hr.headers) as client:
        created = await client.post(
            "/graphql", json={"query": 'mutation { createJob(input: {title: "测试工程师"}) { job { id title } } }'}
        )
        assert created.status_code == 200, created.text
        assert created.headers["content-type"].startswith("application/graphql-response+json")
        listed = await client.post("/graphql", json={"query": "{ jobs { totalCount edges { node { title } } } }"})
        assert listed.json()["data"]["jobs"] == {"totalCount": 1, "edges": [{"node": {"title": "测试工程师"}}]}


async def _ws(server: LoopbackServer) -> Any:
    return await websockets.connect(
        server.url.replace("http", "ws") + "/graphql", subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    )


async def test_websocket_graphql_transport_ws(server: LoopbackServer, settings: Settings) -> None:
    hr = await _hr(settings)
    ws = await _ws(server)
    try:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {hr.token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ viewer { roles } }"}}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert message == {"id": "1", "type": "next", "payload": {"data": {"viewer": {"roles": ["hr"]}}}}
        assert json.loads(await ws.recv()) == {"id": "1", "type": "complete"}
    finally:
        await ws.close()


async def test_websocket_refuses_bad_credentials(server: LoopbackServer) -> None:
    ws = await _ws(server)
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer nope"}}))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
