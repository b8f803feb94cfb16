"""connectors/wecom.py: sp_status per dialects.md, the example detail, errcodes, create, XML callbacks."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import httpx
import pytest

from connectors.base import ConnectionConfig
from connectors.errors import NormalizationError, SignatureInvalid, UpstreamRejected, WritePayloadInvalid
from connectors.wecom import WeComConnector
from schema.records import ApprovalStatus
from simulators import signing
from tests.connectors import samples as s
from tests.connectors.harness import FAST, WC_AES, no_sleep

CONFIG = ConnectionConfig(
    "https://qyapi.example",
    {"corp_id": "wwcorp", "corp_secret": "sec", "callback_token": "wc-token", "callback_aes_key": WC_AES},
)
NOW = datetime(2025, 3, 9, 6, 46, 40, tzinfo=UTC)


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def connector(handler=lambda r: httpx.Response(404), sleep=no_sleep) -> WeComConnector:
    return WeComConnector(CONFIG, transport=httpx.MockTransport(handler), retry=FAST, sleep=sleep)


def info(**change) -> dict:
    return {**copy.deepcopy(s.WECOM_DETAIL["info"]), **change}


def test_the_dialects_md_detail() -> None:
    record = connector().normalize("approval", info())
    assert (record.remote_id, record.definition_code, record.title) == (
        "202503090001",
        "3WLJF6naF5jhnXvwisuPmE85wVMYcy2F4",
        "二面审批",
    )
    assert record.status is ApprovalStatus.APPROVED and record.originator == "ZhangSan"
    assert record.started_at == datetime(2025, 3, 9, 2, 10, tzinfo=UTC)  # epoch seconds 1741486200
    assert record.finished_at == datetime(2025, 3, 9, 6, 45, tzinfo=UTC)
    assert record.form == {"Text-1511": {"name": "候选人", "value": "张伟", "type": "Text"}}
    (task,) = record.tasks
    assert (task.approver, task.status, task.comment) == ("HrLead", "APPROVED", "同意")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (1, ApprovalStatus.PENDING),
        (2, ApprovalStatus.APPROVED),
        (3, ApprovalStatus.REJECTED),
        (4, ApprovalStatus.CANCELED),
        (6, ApprovalStatus.REVERTED),
        (7, ApprovalStatus.DELETED),
        (10, ApprovalStatus.APPROVED),
        ("2", ApprovalStatus.APPROVED),
    ],
)
def test_every_sp_status_maps_exactly(code, expected: ApprovalStatus) -> None:
    assert connector().normalize("approval", info(sp_status=code)).status is expected


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"sp_status": 5}, "$.sp_status"),
        ({"sp_status": "approved"}, "$.sp_status"),
        ({"apply_time": "today"}, "$.apply_time"),
        ({"applyer": None}, "$.applyer.userid"),
        ({"sp_record": [{"details": [{"sp_status": "x"}]}]}, "$.sp_record[0].details[0].sp_status"),
    ],
)
def test_bad_details(change: dict, path: str) -> None:
    with pytest.raises(NormalizationError) as caught:
        connector().normalize("approval", info(**change))
    assert caught.value.path == path


async def test_errcode_45009_is_rate_limited_and_retried_with_retry_after() -> None:
    answers = iter(
        [
            httpx.Response(200, json={"errcode": 0, "access_token": "t", "expires_in": 7200}),
            httpx.Response(
                200, json={"errcode": 45009, "errmsg": "api freq out of limit"}, headers={"Retry-After": "2"}
            ),
            httpx.Response(200, json=s.WECOM_DETAIL),
        ]
    )
    sleeps = Sleeps()
    item = await connector(lambda r: next(answers), sleeps).fetch("approval", "202503090001")
    assert item.remote_id == "202503090001" and sleeps == [2.0]


async def test_expired_token_is_refreshed_once() -> None:
    tokens: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/gettoken":
            tokens.append(f"t{len(tokens)}")
            return httpx.Response(200, json={"errcode": 0, "access_token": tokens[-1], "expires_in": 7200})
        if request.url.params["access_token"] == "t0":
            return httpx.Response(200, json={"errcode": 42001, "errmsg": "access_token expired"})
        return httpx.Response(200, json=s.WECOM_DETAIL)

    await connector(handle).fetch("approval", "x")
    assert tokens == ["t0", "t1"]


async def test_other_errcodes_are_rejections_with_the_vendor_code() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/gettoken":
            return httpx.Response(200, json={"errcode": 0, "access_token": "t", "expires_in": 7200})
        return httpx.Response(200, json={"errcode": 301025, "errmsg": "sp_no not exist"})

    with pytest.raises(UpstreamRejected) as caught:
        await connector(handle).fetch("approval", "nope")
    assert caught.value.vendor_code == 301025


async def test_create_body() -> None:
    sent: list[dict] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/gettoken":
            return httpx.Response(200, json={"errcode": 0, "access_token": "t", "expires_in": 7200})
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok", "sp_no": "202503090099"})

    wecom = connector(handle)
    payload = {
        "definition_code": "tpl",
        "originator": "ZhangSan",
        "form": [{"id": "Text-1511", "value": "张伟"}],
        "approvers": [{"user_ids": ["HrLead"], "mode": "OR"}],
        "report": {"summary": "推荐二面"},
        "summary": "张伟 二面",
    }
    assert (await wecom.write("approval.create", payload, idempotency_key="k")).remote_id == "202503090099"
    body = sent[0]
    assert body["creator_userid"] == "ZhangSan" and body["template_id"] == "tpl" and body["use_template_approver"] == 0
    assert body["process"] == {"node_list": [{"type": 1, "apv_rel": 1, "userid": ["HrLead"]}]}
    assert body["apply_data"]["contents"][0] == {"control": "Text", "id": "Text-1511", "value": {"text": "张伟"}}
    assert body["apply_data"]["contents"][1]["control"] == "Textarea"
    assert body["summary_list"] == [{"summary_info": [{"text": "张伟 二面", "lang": "zh_CN"}]}]
    with pytest.raises(WritePayloadInvalid, match="control id"):
        await wecom.write(
            "approval.create", {**payload, "form": [{"name": "候选人", "value": "x"}]}, idempotency_key="k"
        )


# --- callbacks -------------------------------------------------------------------------------------------

INNER = (
    "<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
    "<CreateTime>1741502700</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[sys_approval_change]]></Event><AgentID>3010040</AgentID><ApprovalInfo><SpNo>202503090001</SpNo>"
    "<SpName><![CDATA[二面审批]]></SpName><SpStatus>{status}</SpStatus><TemplateId><![CDATA[tpl]]></TemplateId>"
    "<StatuChangeEvent>{change}</StatuChangeEvent></ApprovalInfo></xml>"
)


def callback(status: int = 2, change: int = 2, *, token: str = "wc-token", at: datetime = NOW):
    crypt = signing.MsgCrypt(token, WC_AES, "wwcorp")
    encrypted = crypt.encrypt(INNER.format(status=status, change=change))
    stamp = str(int(at.timestamp()))
    query = {"msg_signature": crypt.signature(stamp, "n1", encrypted), "timestamp": stamp, "nonce": "n1"}
    return query, f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()


@pytest.mark.parametrize(
    ("status", "change", "expected", "kind"),
    [
        (1, 1, ApprovalStatus.PENDING, "submitted"),
        (2, 2, ApprovalStatus.APPROVED, "agreed"),
        (3, 3, ApprovalStatus.REJECTED, "rejected"),
        (4, 6, ApprovalStatus.CANCELED, "revoked"),
        (6, 6, ApprovalStatus.REVERTED, "revoked"),
    ],
)
def test_callback_events(status: int, change: int, expected: ApprovalStatus, kind: str) -> None:
    query, body = callback(status, change)
    event = connector().verify_webhook({}, body, query=query, now=NOW)
    assert (event.model, event.remote_id) == ("approval", "202503090001")
    assert event.hints["status"] is expected and event.type == f"sys_approval_change:{kind}"
    assert event.reply.status == 200 and event.reply.body == b""


def test_url_verification_answers_the_decrypted_echostr() -> None:
    crypt = signing.MsgCrypt("wc-token", WC_AES, "wwcorp")
    echo = crypt.encrypt("1234567890")
    stamp = str(int(NOW.timestamp()))
    query = {"msg_signature": crypt.signature(stamp, "n", echo), "timestamp": stamp, "nonce": "n", "echostr": echo}
    event = connector().verify_webhook({}, b"", query=query, now=NOW)
    assert not event.actionable and event.reply.body == b"1234567890"
    with pytest.raises(SignatureInvalid):
        connector().verify_webhook({}, b"", query={**query, "nonce": "other"}, now=NOW)


def test_callback_with_a_wrong_token_is_refused() -> None:
    query, body = callback(token="other")
    with pytest.raises(SignatureInvalid):
        connector().verify_webhook({}, body, query=query, now=NOW)
