"""Outbound webhooks: integrators subscribe URLs to hub events; deliveries are signed per Standard Webhooks,
retried as RQ jobs, logged and queryable, and carry ids and types only."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.errors import WebhookError
from connectors.webhooks import verify_standard_webhook
from hub.db import models as m
from hub.events import publish_pending
from hub.jobs.sync import enqueue_deliveries
from hub.runtime import Runtime
from hub.services.outbound import dispatch, matches
from simulators.server import RunningServer, run_in_thread
from tests.hub.integration_support import Hub, drain, drop_tenant, gql, gql_error, make_hub

pytestmark = pytest.mark.e2e

SUBSCRIBE = """mutation($url: String!, $types: [String!]!) {
  createWebhookSubscription(input: {url: $url, eventTypes: $types}) {
    secret subscription { id url eventTypes active } } }"""
LOG = """{ webhookSubscriptions { edges { node { url deliveries(first: 10) { totalCount edges { node {
  eventType attempt status responseStatus error deliveredAt } } } } } } }"""
CREATE_CANDIDATE = """mutation {
  createCandidate(input: {firstName: "伟", lastName: "张", emails: ["wei@example.com"]}) { candidate { id } } }"""


@dataclass
class Receiver:
    """An integrator's endpoint: verifies every delivery, fails the first ``fail`` attempts."""

    secret: str = ""
    fail: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        try:
            verify_standard_webhook({k.lower(): v for k, v in request.headers.items()}, body, [self.secret],
                                    now=time.time())  # fmt: skip
        except WebhookError:
            self.refused += 1
            return Response(status_code=401)
        if self.fail > 0:
            self.fail -= 1
            return Response(status_code=503)
        self.received.append({"id": request.headers["webhook-id"], "body": body})
        return Response(status_code=204)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, RunningServer]]:
    target = Receiver()
    server = run_in_thread(Starlette(routes=[Route("/hooks", target.endpoint, methods=["POST"])]))
    yield target, server
    server.stop()


@pytest.fixture
async def hub(runtime: Runtime) -> AsyncIterator[Hub]:
    made = await make_hub(runtime.settings, runtime.db)
    yield made
    await drop_tenant(runtime.db, made.tenant)


async def call(client: httpx.AsyncClient, actor: Any, query: str, **variables: Any) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=actor.headers)


def test_event_type_patterns() -> None:
    assert matches(["candidate.created"], "candidate.created") and not matches(["candidate.created"], "job.created")
    assert matches(["approval.*"], "approval.status_changed") and not matches(["approval.*"], "approvals.x")
    assert matches(["*"], "anything.at_all")


async def test_subscribe_deliver_signed_ids_only(
    client: httpx.AsyncClient, hub: Hub, runtime: Runtime, receiver: tuple[Receiver, RunningServer]
) -> None:
    target, server = receiver
    answer = gql(await call(client, hub.integrator, SUBSCRIBE, url=server.url + "/hooks",
                            types=["candidate.*"]))["createWebhookSubscription"]  # fmt: skip
    assert answer["secret"].startswith("whsec_") and answer["subscription"]["eventTypes"] == ["candidate.*"]
    target.secret = answer["secret"]
    (row,) = await hub.rows(m.WebhookSubscription)
    assert row.secret.startswith("enc:") and answer["secret"] not in row.secret  # shown once, stored sealed

    gql(await call(client, hub.hr, CREATE_CANDIDATE))
    gql(await call(client, hub.hr, 'mutation { createJob(input: {title: "不订阅的事件"}) { job { id } } }'))
    await runtime.events.publish()  # the relay's work: sequence, then fan out (dispatch queued)
    await drain(hub.settings)  # dispatch, then the delivery

    assert target.refused == 0 and len(target.received) == 1
    body = target.received[0]["body"].decode()
    assert '"type":"candidate.created"' in body and "wei@example.com" not in body and "张" not in body
    log = gql(await call(client, hub.integrator, LOG))["webhookSubscriptions"]["edges"][0]["node"]["deliveries"]
    assert log["totalCount"] == 1
    entry = log["edges"][0]["node"]
    assert entry["status"] == "DELIVERED" and entry["attempt"] == 1 and entry["responseStatus"] == 204


async def test_failed_deliveries_are_retried_and_logged(
    client: httpx.AsyncClient, hub: Hub, runtime: Runtime, receiver: tuple[Receiver, RunningServer]
) -> None:
    target, server = receiver
    answer = gql(await call(client, hub.integrator, SUBSCRIBE, url=server.url + "/hooks",
                            types=["*"]))["createWebhookSubscription"]  # fmt: skip
    target.secret, target.fail = answer["secret"], 2
    gql(await call(client, hub.hr, CREATE_CANDIDATE))
    await publish_pending(hub.db, None, hub.settings.redis_prefix)
    created = await dispatch(hub.db, hub.tenant)
    assert len(created) == 1 and await dispatch(hub.db, hub.tenant) == []  # the cursor moved on
    enqueue_deliveries(runtime.queues, str(hub.tenant), [str(i) for i in created], intervals=[0, 0, 0, 0, 0])
    await drain(hub.settings)
    assert len(target.received) == 1
    (delivery,) = await hub.rows(m.WebhookDelivery)
    assert delivery.status == "DELIVERED" and delivery.attempt == 3 and delivery.response_status == 204
    ids = {r["id"] for r in target.received}
    assert ids == {f"msg_{delivery.event_id.hex}"}  # one id for every attempt: receivers dedupe on it


async def test_subscriptions_are_validated_and_for_integrators(client: httpx.AsyncClient, hub: Hub) -> None:
    bad = gql_error(await call(client, hub.integrator, SUBSCRIBE, url="ftp://example.com", types=["*"]))
    assert bad["extensions"]["code"] == "VALIDATION_FAILED" and bad["extensions"]["field"] == "url"
    bad = gql_error(await call(client, hub.integrator, SUBSCRIBE, url="https://example.com", types=["Candidate"]))
    assert bad["extensions"]["field"] == "eventTypes"
    denied = gql_error(await call(client, hub.hr, SUBSCRIBE, url="https://example.com", types=["*"]))
    assert denied["extensions"]["code"] == "FORBIDDEN"
