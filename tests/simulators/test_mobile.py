"""The mobile app simulator: camelCase sessions in epoch ms, invitations, notifications, Standard Webhooks."""

from __future__ import annotations

import json

import httpx
import pytest

from simulators.mobile import MOBILE_API_KEY, MobileConfig, create_mobile_app
from simulators.seed import Sizes, World, build_world
from simulators.signing import new_webhook_secret
from tests.simulators import independent
from tests.simulators.conftest import FakeClock, asgi_client
from tests.simulators.receivers import plain_receiver

AUTH = {"Authorization": f"Bearer {MOBILE_API_KEY}"}
STATUSES = {"INVITED", "STARTED", "SUBMITTED", "SCORING", "COMPLETED", "EXPIRED", "CANCELED"}


@pytest.mark.e2e
def test_walk_sessions_over_real_http(serve) -> None:  # type: ignore[no-untyped-def]
    world = build_world(5, Sizes(candidates=600, jobs=4))
    server = serve(create_mobile_app(world))
    seen, cursor = [], None
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        while True:
            page = client.get("/v1/interview-sessions", params={"limit": 45, **({"cursor": cursor} if cursor else {})})
            body = page.json()
            seen.extend(body["items"])
            cursor = body["nextCursor"]
            assert body["hasMore"] is (cursor is not None)
            if cursor is None:
                break
    assert len(seen) == len({s["sessionId"] for s in seen}) == len(world.sessions) > 100
    assert {s["status"] for s in seen} == STATUSES


async def test_session_shape(world: World) -> None:
    async with asgi_client(create_mobile_app(world), headers=AUTH) as client:
        items = (await client.get("/v1/interview-sessions", params={"status": "COMPLETED", "limit": 5})).json()["items"]
        one = (await client.get(f"/v1/interview-sessions/{items[0]['sessionId']}")).json()
        missing = await client.get("/v1/interview-sessions/nope")
        unauthorized = await client.get("/v1/interview-sessions", headers={"Authorization": "Bearer x"})
    assert one == items[0] and all(item["status"] == "COMPLETED" for item in items)
    assert isinstance(one["updatedAt"], int) and one["submittedAt"] > one["startedAt"] > one["invitedAt"] > 10**12
    assert {"remoteId", "email", "phone"} <= set(one["candidate"]) and one["application"]["remoteId"]
    assert one["answers"] and {"questionId", "question", "durationMs", "transcript"} == set(one["answers"][0])
    assert isinstance(one["consent"]["aiScoring"], bool)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    assert unauthorized.status_code == 401


async def test_updated_after_invite_idempotency_and_submit_webhook(world: World, clock: FakeClock) -> None:
    receiver_app, receiver = plain_receiver()
    secret = new_webhook_secret()
    config = MobileConfig(webhook_url="http://receiver/hook", webhook_secret=secret)
    app = create_mobile_app(world, clock=clock, config=config, transport=httpx.ASGITransport(app=receiver_app))
    since = int(clock.now * 1000)
    candidate = world.candidates[0]
    body = {
        "candidate": {"remoteId": candidate.remote_id},
        "application": {"remoteId": "90000"},
        "job": {"remoteId": world.jobs[0].remote_id},
        "packageId": "pkg_backend_experienced",
    }
    async with asgi_client(app, headers=AUTH) as client:
        assert (await client.get("/v1/interview-sessions", params={"updatedAfter": since})).json()["items"] == []
        first = await client.post("/v1/interview-sessions", json=body, headers={"Idempotency-Key": "inv-1"})
        again = await client.post("/v1/interview-sessions", json=body, headers={"Idempotency-Key": "inv-1"})
        conflict = await client.post(
            "/v1/interview-sessions", json={**body, "packageId": "other"}, headers={"Idempotency-Key": "inv-1"}
        )
        invalid = await client.post("/v1/interview-sessions", json={"packageId": "p"})
        session_id = first.json()["sessionId"]
        clock.advance(600)
        submitted = (
            await client.post(
                f"/_sim/sessions/{session_id}/submit",
                json={"answers": [{"questionId": "q1", "transcript": "我们用 Kafka 削峰", "durationMs": 60000}]},
            )
        ).json()
        twice = await client.post(f"/_sim/sessions/{session_id}/submit")
        fresh = (await client.get("/v1/interview-sessions", params={"updatedAfter": since})).json()["items"]
    assert first.status_code == 201 and again.json() == first.json() and conflict.status_code == 422
    assert invalid.status_code == 400 and invalid.json()["error"]["field"] == "candidate.remoteId"
    session = first.json()
    assert session["status"] == "INVITED" and session["candidate"]["name"] == candidate.full_name
    assert session["job"]["name"] == world.jobs[0].name and len(session["questions"]) == 4
    assert [s["sessionId"] for s in fresh] == [session_id]
    after = submitted["session"]
    assert after["status"] == "SUBMITTED" and after["consent"]["aiScoring"] is True
    assert after["answers"][0]["transcript"] == "我们用 Kafka 削峰" and len(after["answers"]) == 4
    assert after["submittedAt"] == int(clock.now * 1000)
    assert twice.status_code == 409
    (delivery,) = receiver.received
    assert independent.standard_webhooks_valid(secret, delivery.headers, delivery.body)
    assert delivery.headers["webhook-id"].startswith("msg_") and delivery.headers["webhook-timestamp"] == str(
        int(clock.now)
    )
    event = json.loads(delivery.body)
    assert event["type"] == "session.submitted" and event["data"]["sessionId"] == session_id
    assert event["timestamp"] == int(clock.now * 1000)


async def test_notifications_delivery_and_ack(world: World, clock: FakeClock) -> None:
    receiver_app, receiver = plain_receiver()
    config = MobileConfig(webhook_url="http://receiver/hook")
    app = create_mobile_app(world, clock=clock, config=config, transport=httpx.ASGITransport(app=receiver_app))
    push = {
        "to": world.candidates[3].remote_id,
        "title": "二面通知",
        "body": "3月10日 10:00 北京总部",
        "deepLink": "hrapp://interviews/123",
        "data": {"interviewId": "123"},
    }
    async with asgi_client(app, headers=AUTH) as client:
        sent = await client.post("/v1/notifications", json=push, headers={"Idempotency-Key": "n-1"})
        replay = await client.post("/v1/notifications", json=push, headers={"Idempotency-Key": "n-1"})
        stranger = (await client.post("/v1/notifications", json={**push, "to": "nobody"})).json()
        missing_title = await client.post("/v1/notifications", json={**push, "title": ""})
        notification_id = sent.json()["notificationId"]
        acked = (await client.post(f"/_sim/notifications/{notification_id}/ack")).json()
        status = (await client.get(f"/v1/notifications/{notification_id}")).json()
        status_missing = await client.get("/v1/notifications/nope")
    assert sent.status_code == 202 and sent.json()["status"] == "DELIVERED" and replay.json() == sent.json()
    assert stranger["status"] == "FAILED" and stranger["failureReason"] == "UNKNOWN_RECIPIENT"
    assert missing_title.status_code == 400
    assert (
        acked["delivery"]["accepted"]
        and status["status"] == "ACKNOWLEDGED"
        and isinstance(status["acknowledgedAt"], int)
    )
    assert status_missing.status_code == 404
    assert json.loads(receiver.received[0].body)["type"] == "notification.acknowledged"


async def test_status_controls(world: World, clock: FakeClock) -> None:
    async with asgi_client(create_mobile_app(world, clock=clock), headers=AUTH) as client:
        invited = (await client.get("/v1/interview-sessions", params={"status": "INVITED"})).json()["items"][0]
        sid = invited["sessionId"]
        started = (await client.post(f"/_sim/sessions/{sid}/start", json={"consent": False, "platform": "ios"})).json()
        skip = await client.post(f"/_sim/sessions/{sid}/status", json={"status": "SCORING"})
        unknown = await client.post(f"/_sim/sessions/{sid}/status", json={"status": "PAUSED"})
        canceled = (await client.post(f"/_sim/sessions/{sid}/status", json={"status": "CANCELED"})).json()
    assert started["session"]["consent"] == {"aiScoring": False, "grantedAt": None}
    assert started["session"]["device"]["platform"] == "ios" and started["delivery"] is None
    assert skip.status_code == 409 and unknown.status_code == 400
    assert canceled["session"]["status"] == "CANCELED"
