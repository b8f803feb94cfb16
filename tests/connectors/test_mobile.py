"""connectors/mobile.py: sessions with answers and consent, invites, notifications, Standard Webhooks."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import httpx
import pytest

from connectors.base import ConnectionConfig
from connectors.errors import NormalizationError, SignatureInvalid, TimestampOutOfTolerance, WritePayloadInvalid
from connectors.mobile import MobileConnector
from schema.records import SessionStatus
from simulators import signing
from tests.connectors import samples as s
from tests.connectors.harness import FAST, MOBILE_SECRET, no_sleep

CONFIG = ConnectionConfig("https://m.example", {"api_key": "m-key"}, {}, MOBILE_SECRET)
NOW = datetime(2025, 3, 9, 6, 46, 40, tzinfo=UTC)


def connector(handler=lambda r: httpx.Response(404), config: ConnectionConfig = CONFIG) -> MobileConnector:
    return MobileConnector(config, transport=httpx.MockTransport(handler), retry=FAST, sleep=no_sleep)


def test_the_dialects_md_session() -> None:
    record = connector().normalize("interview_session", s.MOBILE_SESSION)
    assert (record.remote_id, record.package_id, record.status) == (
        "ais_01HQ7Z6K8M",
        "pkg_backend_l3",
        SessionStatus.SUBMITTED,
    )
    assert (record.candidate_remote_id, record.application_remote_id, record.job_remote_id) == (
        "21198",
        "98796",
        "J-2025-017",
    )
    assert record.channel == "android"
    (consent,) = record.consent
    assert consent.granted and consent.purpose == "ai_scoring"
    assert consent.granted_at == datetime.fromtimestamp(1741500000, UTC)  # epoch ms as a number
    assert record.started_at == datetime.fromtimestamp(1741500012, UTC)
    (answer,) = record.answers
    assert (answer.question_id, answer.duration_ms) == ("q1", 118000) and answer.transcript.startswith("嗯")


@pytest.mark.parametrize("status", [s.value for s in SessionStatus])
def test_every_status(status: str) -> None:
    assert connector().normalize("interview_session", {**s.MOBILE_SESSION, "status": status}).status.value == status


def test_no_consent_recorded_and_refused_consent() -> None:
    session = {k: v for k, v in s.MOBILE_SESSION.items() if k != "consent"}
    assert connector().normalize("interview_session", session).consent == []
    refused = connector().normalize(
        "interview_session", {**session, "consent": {"aiScoring": False, "grantedAt": None}}
    )
    assert refused.consent[0].granted is False


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"status": "PAUSED"}, "$.status"),
        ({"answers": [{"question": "q"}]}, "$.answers[0].questionId"),
        ({"answers": [{"questionId": "q1", "durationMs": "long"}]}, "$.answers[0].durationMs"),
        ({"consent": {"aiScoring": "yes"}}, "$.consent.aiScoring"),
        ({"updatedAt": None}, "$.updatedAt"),
        ({"startedAt": "soon"}, "$.startedAt"),
    ],
)
def test_bad_sessions(change: dict, path: str) -> None:
    with pytest.raises(NormalizationError) as caught:
        connector().normalize("interview_session", {**copy.deepcopy(s.MOBILE_SESSION), **change})
    assert caught.value.path == path


async def test_invite_and_push_with_idempotency_and_delivery_status() -> None:
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path == "/v1/interview-sessions":
            return httpx.Response(201, json={**s.MOBILE_SESSION, "sessionId": "ais_new", "status": "INVITED"})
        if request.method == "POST":
            return httpx.Response(202, json={"notificationId": "ntf_1", "status": "FAILED", "failureReason": "UNKNOWN"})
        return httpx.Response(200, json={"notificationId": "ntf_1", "status": "ACKNOWLEDGED"})

    mobile = connector(handle)
    invite = await mobile.write(
        "session.invite",
        {
            "candidate_remote_id": "21198",
            "package_id": "pkg",
            "email": "a@b.c",
            "application_remote_id": "98796",
            "expires_at": "2025-03-16T00:00:00Z",
        },
        idempotency_key="inv-1",
    )
    assert (invite.remote_id, invite.status) == ("ais_new", "INVITED")
    body = json.loads(sent[0].content)
    assert body["candidate"] == {"remoteId": "21198", "email": "a@b.c"} and body["expiresAt"] == 1742083200000
    push = await mobile.write(
        "notification.push",
        {"to": "21198", "title": "二面", "body": "周一 14:00", "deep_link": "hr://interview/1", "data": {"k": 1}},
        idempotency_key="ntf-1",
    )
    assert (push.remote_id, push.status) == ("ntf_1", "FAILED")
    assert json.loads(sent[1].content)["deepLink"] == "hr://interview/1"
    assert [r.headers.get("idempotency-key") for r in sent] == ["inv-1", "ntf-1"]
    assert (await mobile.delivery_status("ntf_1")).status == "ACKNOWLEDGED"
    with pytest.raises(WritePayloadInvalid, match="package_id"):
        await mobile.write("session.invite", {"candidate_remote_id": "1"}, idempotency_key="k")


def hook(body: dict, *, secret: str = MOBILE_SECRET, at: datetime = NOW, msg_id: str = "msg_1"):
    raw = json.dumps(body).encode()
    stamp = int(at.timestamp())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signing.standard_webhook_signature(secret, msg_id, stamp, raw),
    }, raw


def test_session_webhooks_carry_the_session() -> None:
    headers, raw = hook({"type": "session.submitted", "timestamp": 1741502700000, "data": s.MOBILE_SESSION})
    event = connector().verify_webhook(headers, raw, now=NOW)
    assert (event.event_id, event.model, event.remote_id) == ("msg_1", "interview_session", "ais_01HQ7Z6K8M")
    assert event.item is not None


def test_notification_receipts() -> None:
    headers, raw = hook(
        {"type": "notification.acknowledged", "data": {"notificationId": "ntf_1", "status": "ACKNOWLEDGED"}}
    )
    event = connector().verify_webhook(headers, raw, now=NOW)
    assert (event.model, event.remote_id, event.hints) == ("notification", "ntf_1", {"status": "ACKNOWLEDGED"})


def test_rotation_wrong_secret_and_stale() -> None:
    old = "whsec_" + "b2xkLXNlY3JldC0wMTIzNDU2Nzg5YWI="
    rotating = connector(config=ConnectionConfig(CONFIG.base_url, CONFIG.credentials, {}, f"{MOBILE_SECRET} {old}"))
    headers, raw = hook({"type": "session.started", "data": s.MOBILE_SESSION}, secret=old)
    assert rotating.verify_webhook(headers, raw, now=NOW).model == "interview_session"
    with pytest.raises(SignatureInvalid):
        connector().verify_webhook(headers, raw, now=NOW)
    headers, raw = hook({"type": "session.started", "data": s.MOBILE_SESSION}, at=datetime(2025, 3, 9, 6, tzinfo=UTC))
    with pytest.raises(TimestampOutOfTolerance):
        connector().verify_webhook(headers, raw, now=NOW)
