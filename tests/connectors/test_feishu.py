"""connectors/feishu.py: statuses per dialects.md (REVERTED and OVERTIME_CLOSE from events), callbacks."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import httpx
import pytest

from connectors.base import ConnectionConfig
from connectors.errors import (
    NormalizationError,
    RateLimited,
    SignatureInvalid,
    TimestampOutOfTolerance,
    UpstreamAuthError,
    WebhookPayloadInvalid,
)
from connectors.feishu import FeishuConnector
from schema.records import ApprovalStatus
from simulators import signing
from tests.connectors import samples as s
from tests.connectors.harness import FAST, no_sleep

CONFIG = ConnectionConfig(
    "https://open.feishu.example",
    {"app_id": "cli_1", "app_secret": "sec", "encrypt_key": "fs-key", "verification_token": "fs-verify"},
    {"approval_codes": ["7C46"]},
)
NOW = datetime(2025, 3, 9, 6, 46, 40, tzinfo=UTC)


def connector(handler=lambda r: httpx.Response(404)) -> FeishuConnector:
    return FeishuConnector(CONFIG, transport=httpx.MockTransport(handler), retry=FAST, sleep=no_sleep)


def data(**change) -> dict:
    return {**copy.deepcopy(s.FEISHU_INSTANCE["data"]), **change}


def test_the_dialects_md_instance() -> None:
    record = connector().normalize("approval", data())
    assert record.remote_id == "81D31358-93AF-92D6-7425-01A5D67C4E71" and record.definition_code.startswith("7C468A54")
    assert record.status is ApprovalStatus.APPROVED and record.originator == "f3ta757q"
    assert record.started_at == datetime(2025, 3, 9, 2, 10, tzinfo=UTC)  # "1741486200000", ms as a string
    assert record.finished_at == datetime(2025, 3, 9, 6, 45, tzinfo=UTC)
    assert record.form == {"widget1": {"name": None, "value": "张伟", "type": "input"}}  # form is a JSON string
    (task,) = record.tasks
    assert (task.task_id, task.approver, task.status, task.comment) == ("1234", "f7cb567e", "APPROVED", "同意")


def test_open_instance_end_time_zero_is_null() -> None:
    record = connector().normalize("approval", data(status="PENDING", end_time="0"))
    assert record.status is ApprovalStatus.PENDING and record.finished_at is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("PENDING", ApprovalStatus.PENDING),
        ("APPROVED", ApprovalStatus.APPROVED),
        ("REJECTED", ApprovalStatus.REJECTED),
        ("CANCELED", ApprovalStatus.CANCELED),
        ("DELETED", ApprovalStatus.DELETED),
        ("REVERTED", ApprovalStatus.REVERTED),
        ("OVERTIME_CLOSE", ApprovalStatus.EXPIRED),
    ],
)
def test_every_status_maps_exactly(status: str, expected: ApprovalStatus) -> None:
    assert connector().normalize("approval", data(status=status)).status is expected


def test_a_reverted_read_is_reverted() -> None:
    assert connector().normalize("approval", data(status="CANCELED", reverted=True)).status is ApprovalStatus.REVERTED


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"status": "DONE"}, "$.status"),
        ({"form": "[{oops"}, "$.form"),
        ({"start_time": "soon"}, "$.start_time"),
        ({"form": '{"id": 1}'}, "$.form"),
        ({"task_list": [{"id": "1"}]}, "$.task_list[0].status"),
    ],
)
def test_bad_instances(change: dict, path: str) -> None:
    with pytest.raises(NormalizationError) as caught:
        connector().normalize("approval", data(**change))
    assert caught.value.path == path


async def test_create_uses_uuid_for_idempotency_and_a_json_string_form() -> None:
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if "tenant_access_token" in request.url.path:
            return httpx.Response(200, json={"code": 0, "tenant_access_token": "t", "expire": 7200})
        sent.append(request)
        if len(sent) == 1:
            return httpx.Response(500, json={"code": 99991500, "msg": "internal error"})
        return httpx.Response(200, json={"code": 0, "data": {"instance_code": "NEW"}})

    payload = {
        "definition_code": "7C46",
        "originator": "ou_123",
        "form": [{"id": "widget1", "value": "张伟"}],
        "report": {"summary": "推荐"},
    }
    result = await connector(handle).write("approval.create", payload, idempotency_key="x" * 100)
    assert result.remote_id == "NEW" and len(sent) == 2  # retried: the uuid makes it safe
    bodies = [json.loads(r.content) for r in sent]
    assert bodies[0] == bodies[1] and len(bodies[0]["uuid"]) == 64 and bodies[0]["open_id"] == "ou_123"
    assert json.loads(bodies[0]["form"]) == [
        {"id": "widget1", "type": "input", "value": "张伟"},
        {"id": "report", "type": "textarea", "value": "推荐"},
    ]


async def test_error_codes_map_onto_the_tree() -> None:
    def handle(code: int, status: int):
        def answer(request: httpx.Request) -> httpx.Response:
            if "tenant_access_token" in request.url.path:
                return httpx.Response(200, json={"code": 0, "tenant_access_token": "t", "expire": 7200})
            return httpx.Response(status, json={"code": code, "msg": "x"}, headers={"x-ogw-ratelimit-reset": "9999"})

        return answer

    with pytest.raises(RateLimited) as caught:
        await connector(handle(99991400, 429)).fetch("approval", "x")
    assert caught.value.retry_after == 9999
    with pytest.raises(UpstreamAuthError):
        await connector(handle(99991663, 400)).fetch("approval", "x")


# --- callbacks -------------------------------------------------------------------------------------------


def signed(payload: dict, *, key: str = "fs-key", at: datetime = NOW, encrypt: bool = False):
    plain = json.dumps(payload, ensure_ascii=False)
    body = (json.dumps({"encrypt": signing.feishu_encrypt(key, plain)}) if encrypt else plain).encode()
    stamp = str(int(at.timestamp()))
    headers = {
        "X-Lark-Request-Timestamp": stamp,
        "X-Lark-Request-Nonce": "n",
        "X-Lark-Signature": signing.feishu_signature(stamp, "n", key, body),
    }
    return headers, body


def event(status: str, operate_time) -> dict:
    return {
        "ts": "1741502800.1",
        "uuid": f"u-{status}",
        "token": "fs-verify",
        "type": "event_callback",
        "event": {
            "type": "approval_instance",
            "approval_code": "7C46",
            "instance_code": "81D3",
            "status": status,
            "operate_time": operate_time,
        },
    }


@pytest.mark.parametrize("encrypt", [False, True])
@pytest.mark.parametrize(
    ("status", "operate_time", "expected"),
    [
        ("APPROVED", "1741502700000", ApprovalStatus.APPROVED),
        ("REVERTED", 1741502700000, ApprovalStatus.REVERTED),
        ("OVERTIME_CLOSE", "1741502700000", ApprovalStatus.EXPIRED),
    ],
)
def test_callbacks_carry_event_only_statuses_as_hints(encrypt: bool, status: str, operate_time, expected) -> None:
    headers, body = signed(event(status, operate_time), encrypt=encrypt)
    received = connector().verify_webhook(headers, body, now=NOW)
    assert (received.event_id, received.model, received.remote_id) == (f"u-{status}", "approval", "81D3")
    assert received.hints["status"] is expected
    assert received.occurred_at == datetime(2025, 3, 9, 6, 45, tzinfo=UTC)  # string or integer ms


async def test_hints_overlay_a_read_that_does_not_show_the_event_status_yet() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if "tenant_access_token" in request.url.path:
            return httpx.Response(200, json={"code": 0, "tenant_access_token": "t", "expire": 7200})
        return httpx.Response(200, json={"code": 0, "data": data(status="CANCELED")})

    feishu = connector(handle)
    headers, body = signed(event("OVERTIME_CLOSE", "1741502700000"))
    received = feishu.verify_webhook(headers, body, now=NOW)
    record = feishu.normalize_event(received, await feishu.load_event(received))
    assert record.status is ApprovalStatus.EXPIRED


def test_url_verification_echoes_the_challenge() -> None:
    headers, body = signed({"challenge": "c-123", "token": "fs-verify", "type": "url_verification"})
    received = connector().verify_webhook(headers, body, now=NOW)
    assert not received.actionable and json.loads(received.reply.body) == {"challenge": "c-123"}


def test_callback_refusals() -> None:
    headers, body = signed(event("APPROVED", "1"), key="other")
    with pytest.raises(SignatureInvalid):
        connector().verify_webhook(headers, body, now=NOW)
    headers, body = signed({**event("APPROVED", "1"), "token": "wrong"})
    with pytest.raises(SignatureInvalid, match="verification token"):
        connector().verify_webhook(headers, body, now=NOW)
    headers, body = signed(event("APPROVED", "1"), at=datetime(2025, 3, 9, 5, tzinfo=UTC))
    with pytest.raises(TimestampOutOfTolerance):
        connector().verify_webhook(headers, body, now=NOW)
    with pytest.raises(SignatureInvalid, match="missing"):
        connector().verify_webhook({}, json.dumps(event("APPROVED", "1")).encode(), now=NOW)
    headers, body = signed(event("SHREDDED", "1"))
    with pytest.raises(WebhookPayloadInvalid):
        connector().verify_webhook(headers, body, now=NOW)
