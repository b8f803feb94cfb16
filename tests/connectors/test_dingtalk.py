"""connectors/dingtalk.py: statuses per dialects.md, the example instance, create, callbacks."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import httpx
import pytest

from connectors.base import ConnectionConfig, RawItem
from connectors.dingtalk import DingTalkConnector
from connectors.errors import (
    NormalizationError,
    SignatureInvalid,
    TimestampOutOfTolerance,
    UpstreamAuthError,
    WebhookPayloadInvalid,
    WritePayloadInvalid,
)
from schema.records import ApprovalStatus
from simulators import signing
from tests.connectors import samples as s
from tests.connectors.harness import DT_AES, FAST, no_sleep

CONFIG = ConnectionConfig(
    "https://api.dingtalk.example",
    {"app_key": "dingappkey", "app_secret": "sec", "callback_token": "dt-token", "callback_aes_key": DT_AES},
    {"process_codes": ["PROC-1"]},
)
NOW = datetime(2025, 3, 9, 6, 46, 40, tzinfo=UTC)


def connector(handler=lambda r: httpx.Response(404), config: ConnectionConfig = CONFIG) -> DingTalkConnector:
    return DingTalkConnector(config, transport=httpx.MockTransport(handler), retry=FAST, sleep=no_sleep)


def instance(**change) -> dict:
    payload = {
        "processInstanceId": "inst-1",
        "processCode": "PROC-1",
        **copy.deepcopy(s.DINGTALK_INSTANCE_READ["result"]),
    }
    payload.update(change)
    return payload


def test_the_dialects_md_instance() -> None:
    record = connector().normalize("approval", instance())
    assert record.remote_id == "inst-1" and record.definition_code == "PROC-1"
    assert record.status is ApprovalStatus.APPROVED
    assert record.title == "张三提交的二面审批" and record.originator == "manager1"
    assert record.started_at == datetime(2025, 3, 9, 2, 10, tzinfo=UTC)  # "2025-03-09T02:10Z", to the minute
    assert record.finished_at == datetime(2025, 3, 9, 6, 45, tzinfo=UTC)
    assert record.form["DDSelectField-J2BX"] == {
        "name": "面试轮次",
        "value": "二面",
        "type": "DDSelectField",
        "ext": {"key": "round_2"},
    }  # extValue is a JSON string
    assert record.form["TextField-K2AD4O5B"]["value"] == "张伟"
    (task,) = record.tasks
    assert (task.task_id, task.approver, task.status) == ("61720098", "hr_lead_01", "APPROVED")
    assert record.custom_fields["businessId"] == "202503091010000123"


@pytest.mark.parametrize(
    ("status", "result", "expected"),
    [
        ("RUNNING", "", ApprovalStatus.PENDING),
        ("NEW", None, ApprovalStatus.PENDING),
        ("COMPLETED", "agree", ApprovalStatus.APPROVED),
        ("COMPLETED", "refuse", ApprovalStatus.REJECTED),
        ("TERMINATED", "", ApprovalStatus.CANCELED),
        ("CANCELED", "", ApprovalStatus.CANCELED),
    ],
)
def test_every_status_maps_exactly(status: str, result, expected: ApprovalStatus) -> None:
    assert connector().normalize("approval", instance(status=status, result=result)).status is expected


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"status": "PAUSED"}, "$.status"),
        ({"status": "COMPLETED", "result": "maybe"}, "$.result"),
        ({"createTime": "09/03/2025"}, "$.createTime"),
        ({"tasks": "none"}, "$.tasks"),
        ({"formComponentValues": [1]}, "$.formComponentValues[0]"),
        ({"originatorUserId": None}, "$.originatorUserId"),
    ],
)
def test_bad_instances(change: dict, path: str) -> None:
    with pytest.raises(NormalizationError) as caught:
        connector().normalize("approval", instance(**change))
    assert caught.value.path == path


def test_process_code_comes_from_the_single_configured_code() -> None:
    payload = instance()
    del payload["processCode"]
    assert connector().normalize("approval", payload).definition_code == "PROC-1"
    several = ConnectionConfig(CONFIG.base_url, CONFIG.credentials, {"process_codes": ["A", "B"]})
    with pytest.raises(NormalizationError, match="processCode"):
        connector(config=several).normalize("approval", payload)


async def test_create_sends_the_documented_body_and_requires_dept_id() -> None:
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path == "/v1.0/oauth2/accessToken":
            return httpx.Response(200, json={"accessToken": "tok", "expireIn": 7200})
        return httpx.Response(200, json={"instanceId": "inst-new"})

    dingtalk = connector(handle)
    payload = {
        "definition_code": "PROC-1",
        "originator": "manager1",
        "department_id": "2",
        "approvers": [{"user_ids": ["hr_lead_01", "cto"], "mode": "AND"}],
        "form": [{"name": "候选人", "value": "张伟"}, {"id": "Num-1", "name": "AI面试评分", "value": 86}],
        "report": {"summary": "沟通清晰", "score": 86},
    }
    result = await dingtalk.write("approval.create", payload, idempotency_key="k")
    assert result.remote_id == "inst-new"
    assert json.loads(sent[0].content) == {"appKey": "dingappkey", "appSecret": "sec"}
    body = json.loads(sent[1].content)
    assert sent[1].headers["x-acs-dingtalk-access-token"] == "tok"
    assert body["processCode"] == "PROC-1" and body["originatorUserId"] == "manager1" and body["deptId"] == 2
    assert body["approvers"] == [{"actionType": "AND", "userIds": ["hr_lead_01", "cto"]}]
    assert body["formComponentValues"][:2] == [
        {"name": "候选人", "value": "张伟"},
        {"id": "Num-1", "name": "AI面试评分", "value": "86"},
    ]
    assert body["formComponentValues"][2]["name"] == "面试报告" and "86" in body["formComponentValues"][2]["value"]
    with pytest.raises(WritePayloadInvalid, match="deptId"):
        await dingtalk.write("approval.create", {**payload, "department_id": None}, idempotency_key="k")
    with pytest.raises(WritePayloadInvalid, match="approvers"):
        await dingtalk.write("approval.create", {**payload, "approvers": [{"mode": "ALL"}]}, idempotency_key="k")


async def test_bad_app_credentials_are_an_auth_error() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1.0/oauth2/accessToken":
            return httpx.Response(200, json={"code": "invalidClientIdOrSecret"})
        return httpx.Response(200)

    with pytest.raises(UpstreamAuthError):
        await connector(handle).fetch("approval", "inst-1")


# --- callbacks -----------------------------------------------------------------------------------------


def callback(event: dict, *, at: datetime = NOW, token: str = "dt-token", receive_id: str = "dingappkey"):
    crypt = signing.MsgCrypt(token, DT_AES, receive_id)
    encrypted = crypt.encrypt(json.dumps(event, ensure_ascii=False))
    stamp = str(int(at.timestamp() * 1000))
    query = {"signature": crypt.signature(stamp, "nonce", encrypted), "timestamp": stamp, "nonce": "nonce"}
    return query, json.dumps({"encrypt": encrypted}).encode()


EVENT = {
    "EventType": "bpms_instance_change",
    "processInstanceId": "inst-1",
    "corpId": "corp",
    "type": "finish",
    "result": "refuse",
    "processCode": "PROC-1",
    "createTime": 1741486200000,
    "finishTime": 1741502700000,
}


def test_callback_decrypts_and_answers_the_encrypted_success() -> None:
    query, body = callback(EVENT)
    event = connector().verify_webhook({}, body, query=query, now=NOW)
    assert (event.model, event.remote_id, event.type) == ("approval", "inst-1", "bpms_instance_change")
    assert event.hints == {"definition_code": "PROC-1", "status": ApprovalStatus.REJECTED}
    assert event.occurred_at == datetime(2025, 3, 9, 6, 45, tzinfo=UTC)
    reply = json.loads(event.reply.body)
    crypt = signing.MsgCrypt("dt-token", DT_AES, "dingappkey")
    crypt.verify(reply["msg_signature"], reply["timeStamp"], reply["nonce"], reply["encrypt"])
    assert crypt.decrypt(reply["encrypt"]) == b"success"


@pytest.mark.parametrize(
    ("kind", "result", "status"),
    [
        ("start", None, ApprovalStatus.PENDING),
        ("finish", "agree", ApprovalStatus.APPROVED),
        ("terminate", None, ApprovalStatus.CANCELED),
    ],
)
def test_callback_types_give_status_hints(kind: str, result, status: ApprovalStatus) -> None:
    query, body = callback({**EVENT, "type": kind, "result": result})
    assert connector().verify_webhook({}, body, query=query, now=NOW).hints["status"] is status


def test_check_url_is_a_handshake() -> None:
    query, body = callback({"EventType": "check_url"})
    event = connector().verify_webhook({}, body, query=query, now=NOW)
    assert not event.actionable and json.loads(event.reply.body)["encrypt"]


def test_callback_refusals() -> None:
    query, body = callback(EVENT, token="other")
    with pytest.raises(SignatureInvalid):
        connector().verify_webhook({}, body, query=query, now=NOW)
    query, body = callback(EVENT, at=datetime(2025, 3, 9, 5, tzinfo=UTC))
    with pytest.raises(TimestampOutOfTolerance):
        connector().verify_webhook({}, body, query=query, now=NOW)
    query, body = callback(EVENT, receive_id="someone-else")
    with pytest.raises(WebhookPayloadInvalid, match="receive id"):
        connector().verify_webhook({}, body, query=query, now=NOW)
    with pytest.raises(WebhookPayloadInvalid):
        connector().verify_webhook({}, b'{"no": "encrypt"}', query=query, now=NOW)


async def test_load_event_reads_the_instance_and_keeps_the_process_code() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1.0/oauth2/accessToken":
            return httpx.Response(200, json={"accessToken": "tok", "expireIn": 7200})
        assert request.url.params["processInstanceId"] == "inst-1"
        return httpx.Response(200, json=s.DINGTALK_INSTANCE_READ)

    several = ConnectionConfig(CONFIG.base_url, CONFIG.credentials, {"process_codes": ["A", "B"]})
    dingtalk = connector(handle, several)
    query, body = callback(EVENT)
    event = dingtalk.verify_webhook({}, body, query=query, now=NOW)
    record = dingtalk.normalize_event(event, await dingtalk.load_event(event))
    assert record.definition_code == "PROC-1" and record.remote_id == "inst-1"
    # The read says agree at 06:45, the event says refuse at 06:45: on a tie the event wins (reads can lag).
    assert record.status is ApprovalStatus.REJECTED
    newer = {**s.DINGTALK_INSTANCE_READ["result"], "finishTime": "2025-03-09T07:00Z"}
    item = RawItem("inst-1", {"processInstanceId": "inst-1", "processCode": "PROC-1", **newer})
    record = dingtalk.normalize_event(event, item)
    assert record.status is ApprovalStatus.APPROVED  # a read newer than the event wins
