"""Outbound webhooks: integrators subscribe URLs to hub events; deliveries are signed per Standard Webhooks,
retried as RQ jobs, logged and queryable, and carry ids and types only."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
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
from hub.services.outbound import create_subscription, deliver, dispatch, matches
from hub.settings import Settings
from schema.errors import UnsafeUrl
from simulators.server import RunningServer, run_in_thread
from tests.hub.integration_support import Hub, drain, gql, gql_error

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
def settings(settings: Settings) -> Settings:
    """The receivers here listen on loopback: these tests allow private targets explicitly."""
    return dataclasses.replace(settings, outbound_allow_private=True)


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
    assert bad["extensions"]["code"] == "UNSAFE_URL" and bad["extensions"]["field"] == "url"
    for url in ("http://169.254.169.254/latest/meta-data/", "https://user:pw@example.com/hook"):
        bad = gql_error(await call(client, hub.integrator, SUBSCRIBE, url=url, types=["*"]))
        assert bad["extensions"]["code"] == "UNSAFE_URL", url
    bad = gql_error(await call(client, hub.integrator, SUBSCRIBE, url="https://example.com", types=["Candidate"]))
    assert bad["extensions"]["field"] == "eventTypes"
    denied = gql_error(await call(client, hub.hr, SUBSCRIBE, url="https://example.com", types=["*"]))
    assert denied["extensions"]["code"] == "FORBIDDEN"


async def test_loopback_and_private_targets_need_the_setting(hub: Hub, runtime: Runtime) -> None:
    strict = dataclasses.replace(runtime.settings, outbound_allow_private=False)
    assert not Settings.from_env({}, env="development").outbound_allow_private  # refused by default
    for url in ("http://127.0.0.1:9/hook", "http://[::1]:9/hook", "http://10.0.0.5/hook", "http://localhost/x"):
        with pytest.raises(UnsafeUrl):
            await create_subscription(hub.db, hub.vault, hub.tenant, url=url, event_types=["*"],
                                      allow_private=strict.outbound_allow_private)  # fmt: skip
    assert await hub.count(m.WebhookSubscription) == 0  # nothing stored
    row, _ = await create_subscription(hub.db, hub.vault, hub.tenant, url="http://127.0.0.1:9/hook",
                                       event_types=["*"], allow_private=True)  # fmt: skip
    assert row.url == "http://127.0.0.1:9/hook"


async def test_dns_rebinding_is_refused_at_delivery(hub: Hub) -> None:
    """The name resolved to a public address when subscribed; at delivery it points inside: no request
    leaves, the delivery FAILS at once (no retries) and says why."""
    answers = {"now": ["93.184.215.14"]}

    async def resolver(host: str, port: int) -> list[str]:
        assert host == "hooks.integrator.example"
        return answers["now"]

    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    transport = httpx.MockTransport(handler)
    await create_subscription(hub.db, hub.vault, hub.tenant, url="https://hooks.integrator.example/in",
                              event_types=["*"], resolver=resolver)  # fmt: skip
    await make_events(hub, 2)
    first, second = await dispatch(hub.db, hub.tenant)

    outcome = await deliver(hub.db, hub.vault, hub.tenant, first, transport=transport, resolver=resolver)
    assert outcome["status"] == "DELIVERED"
    (request,) = sent  # connected to the address checked, under the subscriber's name
    assert request.url.host == "93.184.215.14" and request.headers["host"] == "hooks.integrator.example"
    assert request.extensions["sni_hostname"] == "hooks.integrator.example"

    answers["now"] = ["169.254.169.254"]
    outcome = await deliver(hub.db, hub.vault, hub.tenant, second, transport=transport, resolver=resolver)
    assert outcome == {"status": "FAILED", "attempt": 1, "response_status": None, "retry": False}
    assert len(sent) == 1  # nothing went out
    (failed,) = await hub.rows(m.WebhookDelivery, m.WebhookDelivery.id == second)
    assert failed.error.startswith("UNSAFE_URL:") and "169.254.169.254" in failed.error


async def test_a_name_that_stops_resolving_is_retried(hub: Hub) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return answers.pop(0)

    answers = [["93.184.215.14"], []]
    await create_subscription(hub.db, hub.vault, hub.tenant, url="https://hooks.integrator.example/in",
                              event_types=["*"], resolver=resolver)  # fmt: skip
    await make_events(hub, 1)
    (delivery,) = await dispatch(hub.db, hub.tenant)
    outcome = await deliver(hub.db, hub.vault, hub.tenant, delivery, resolver=resolver)
    assert outcome["status"] == "RETRYING" and outcome["retry"] is True


async def make_events(hub: Hub, count: int) -> None:
    """``count`` sequenced events in the hub's tenant (what dispatch walks)."""
    async with hub.db.session(hub.tenant) as session:
        for index in range(count):
            session.add(m.Event(type="candidate.created", entity="candidate", data={"n": index}))
        await session.commit()
    await publish_pending(hub.db, None, hub.settings.redis_prefix)
