"""A fake upstream per connector kind, for the one contract suite.

Each `Harness` knows how to build its connector over an ``httpx.MockTransport`` that speaks the dialect
(two or more pages per readable model), a valid canonical payload per write operation, and how to sign a
webhook delivery the way the vendor does. Signing uses `simulators.signing`, written independently of
`connectors.webhooks`, so every webhook test is also an interoperability check.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.base import ConnectionConfig, Connector
from connectors.http import RetryPolicy
from connectors.mock import MOCK_WEBHOOK_SECRET, MockUpstream
from connectors.registry import Registry
from simulators import signing
from tests.connectors import samples as s

NOW = 1741502800.0  # 2025-03-09T06:46:40Z, just after the sample events
FAST = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0)


async def no_sleep(seconds: float) -> None:
    return None


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class Harness:
    kind: str
    config: ConnectionConfig
    handler: Callable[[httpx.Request], httpx.Response]
    writes: dict[str, dict[str, Any]]
    sign: Callable[[float], Delivery]  # a valid delivery whose signed timestamp is the given epoch
    expected_models: set[str]  # readable models the fake upstream serves

    def connector(
        self, registry: Registry, handler: Callable[[httpx.Request], httpx.Response] | None = None, **options: Any
    ) -> Connector:
        options.setdefault("retry", FAST)
        options.setdefault("sleep", no_sleep)
        return registry.create(
            self.kind, self.config, transport=httpx.MockTransport(handler or self.handler), **options
        )


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, content=s.dumps(data), headers={"content-type": "application/json", **(headers or {})}
    )


def _body(request: httpx.Request) -> dict[str, Any]:
    return json.loads(request.content or b"{}")


# --- HR system -----------------------------------------------------------------------------------------


def hr() -> Harness:
    tables = {
        "candidates": [s.variant(s.HR_CANDIDATE, n, "id") for n in range(3)],
        "jobs": [s.variant(s.HR_JOB, n, "id") for n in range(2)],
        "applications": [s.variant(s.HR_APPLICATION, n, "id") for n in range(3)],
        "job-interview-stages": [s.variant(s.HR_STAGE, n, "id") for n in range(3)],
        "interviews": [s.variant(s.HR_INTERVIEW, n, "id") for n in range(2)],
        "attachments": [s.variant(s.HR_ATTACHMENT, n, "id") for n in range(3)],
    }
    for n, attachment in enumerate(tables["attachments"]):
        attachment["file_url"] = f"https://hr.example.com/api/attachments/att-1-{n}/content"

    def handle(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Bearer hr-key":
            return _json({"detail": "Invalid API key."}, 401)
        path = request.url.path.removeprefix("/api/")
        if path.endswith("/content"):
            return httpx.Response(200, text=s.RESUME_TEXT, headers={"content-type": "text/plain; charset=utf-8"})
        if request.method == "POST":
            body = _body(request)
            model = body.get("model", body)
            return _json({"model": {"id": "new-1", **model}, "warnings": [], "errors": [], "logs": []}, 201)
        if path in tables:
            start = int(request.url.params.get("cursor") or 0)
            rows = tables[path][start : start + 2]
            more = start + 2 < len(tables[path])
            return _json({"next": str(start + 2) if more else None, "previous": None, "results": rows})
        table, _, record_id = path.partition("/")
        found = [r for r in tables.get(table, []) if r["id"] == record_id]
        return _json(found[0]) if found else _json({"detail": "Not found."}, 404)

    def sign(at: float) -> Delivery:
        stamp = _iso(at)
        body = s.dumps(
            {
                "id": "evt-1",
                "event": "candidate.changed",
                "model": "Candidate",
                "created_at": stamp,
                "data": s.HR_CANDIDATE,
            }
        )
        return Delivery({"X-HR-Signature": signing.hr_signature("hr-secret", body), "X-HR-Event": "x"}, body)

    return Harness(
        "hr",
        ConnectionConfig("https://hr.example.com/api", {"api_key": "hr-key"}, {"page_size": 2}, "hr-secret"),
        handle,
        {
            "application.change_stage": {"application_remote_id": "app-1", "stage_remote_id": "stage-2"},
            "application.screening_results": {
                "application_remote_id": "app-1",
                "score": 86,
                "passed": True,
                "reasons": ["Go 5 年"],
            },
            "interview.create": {
                "application_remote_id": "app-1",
                "start_at": "2025-03-10T06:00:00Z",
                "end_at": "2025-03-10T07:00:00Z",
                "interviewers": ["u1"],
            },
        },
        sign,
        {"candidate", "job", "application", "interview_stage", "interview", "resume"},
    )


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- DingTalk -----------------------------------------------------------------------------------------

DT_AES = "c2ltLWRpbmd0YWxrLWFlcy1rZXktMzItYnl0ZXMhISE"


def dingtalk() -> Harness:
    ids = ["inst-a", "inst-b", "inst-c"]

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1.0/oauth2/accessToken":
            return _json({"accessToken": "tok-1", "expireIn": 7200})
        if request.headers.get("x-acs-dingtalk-access-token") != "tok-1":
            return _json({"code": "InvalidAuthentication", "message": "不合法的access_token"}, 401)
        if request.url.path == "/v1.0/workflow/processes/instanceIds/query":
            body = _body(request)
            start = int(body.get("nextToken") or 0)
            result: dict[str, Any] = {"list": ids[start : start + 2]}
            if start + 2 < len(ids):
                result["nextToken"] = start + 2
            return _json({"success": True, "result": result})
        if request.url.path == "/v1.0/workflow/processInstances" and request.method == "GET":
            return _json(s.DINGTALK_INSTANCE_READ)
        if request.url.path == "/v1.0/workflow/processInstances" and request.method == "POST":
            return _json({"instanceId": "inst-new"})
        return _json({"code": "NotFound"}, 404)

    def sign(at: float) -> Delivery:
        crypt = signing.MsgCrypt("dt-token", DT_AES, "dingappkey")
        event = {
            "EventType": "bpms_instance_change",
            "processInstanceId": "inst-a",
            "corpId": "corp",
            "createTime": 1741486200000,
            "type": "finish",
            "result": "agree",
            "processCode": "PROC-1",
            "finishTime": 1741502700000,
        }
        encrypted = crypt.encrypt(json.dumps(event))
        timestamp = str(int(at * 1000))
        query = {
            "signature": crypt.signature(timestamp, "nonce1", encrypted),
            "timestamp": timestamp,
            "nonce": "nonce1",
        }
        return Delivery({"content-type": "application/json"}, s.dumps({"encrypt": encrypted}), query)

    return Harness(
        "dingtalk",
        ConnectionConfig(
            "https://api.dingtalk.example",
            {"app_key": "dingappkey", "app_secret": "sec", "callback_token": "dt-token", "callback_aes_key": DT_AES},
            {"process_codes": ["PROC-1"]},
        ),
        handle,
        {"approval.create": _approval_payload()},
        sign,
        {"approval"},
    )


def _approval_payload() -> dict[str, Any]:
    return {
        "definition_code": "PROC-1",
        "originator": "manager1",
        "department_id": "2",
        "form": [{"id": "Text-1511", "name": "候选人", "value": "张伟"}],
        "report": {"summary": "沟通清晰，Kafka 经验扎实", "score": 86, "url": "https://hub.example/r/1"},
    }


# --- WeCom ----------------------------------------------------------------------------------------------

WC_AES = "c2ltLXdlY29tLWFlcy1rZXktaXMtMzItYnl0ZXMhISE"


def wecom() -> Harness:
    numbers = ["202503090001", "202503090002", "202503090003"]

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/gettoken":
            return _json({"errcode": 0, "errmsg": "ok", "access_token": "wtok", "expires_in": 7200})
        if request.url.params.get("access_token") != "wtok":
            return _json({"errcode": 40014, "errmsg": "invalid access_token"})
        body = _body(request)
        if request.url.path == "/cgi-bin/oa/getapprovalinfo":
            assert 0 < body["endtime"] - body["starttime"] <= 31 * 86400, "WeCom allows 31 days per query"
            inside = body["starttime"] <= s.WECOM_DETAIL["info"]["apply_time"] < body["endtime"]
            found = numbers if inside else []
            start = int(body.get("new_cursor") or 0)
            more = start + 2 < len(found)
            return _json(
                {
                    "errcode": 0,
                    "errmsg": "ok",
                    "sp_no_list": found[start : start + 2],
                    "new_next_cursor": str(start + 2) if more else "",
                }
            )
        if request.url.path == "/cgi-bin/oa/getapprovaldetail":
            detail = copy.deepcopy(s.WECOM_DETAIL)
            detail["info"]["sp_no"] = body["sp_no"]
            return _json(detail)
        if request.url.path == "/cgi-bin/oa/applyevent":
            return _json({"errcode": 0, "errmsg": "ok", "sp_no": "202503090099"})
        return _json({"errcode": 40058, "errmsg": "invalid Request Parameter"})

    def sign(at: float) -> Delivery:
        crypt = signing.MsgCrypt("wc-token", WC_AES, "wwcorp")
        inner = (
            "<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><CreateTime>1741502700</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[sys_approval_change]]></Event>"
            "<ApprovalInfo><SpNo>202503090001</SpNo><SpStatus>2</SpStatus>"
            "<TemplateId><![CDATA[tpl]]></TemplateId><StatuChangeEvent>2</StatuChangeEvent></ApprovalInfo></xml>"
        )
        encrypted = crypt.encrypt(inner)
        timestamp = str(int(at))
        query = {"msg_signature": crypt.signature(timestamp, "n1", encrypted), "timestamp": timestamp, "nonce": "n1"}
        body = f"<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        return Delivery({"content-type": "text/xml"}, body.encode(), query)

    return Harness(
        "wecom",
        ConnectionConfig(
            "https://qyapi.example",
            {"corp_id": "wwcorp", "corp_secret": "sec", "callback_token": "wc-token", "callback_aes_key": WC_AES},
            {"history_start": NOW - 5 * 86400},
        ),
        handle,
        {"approval.create": _approval_payload()},
        sign,
        {"approval"},
    )


# --- Feishu -----------------------------------------------------------------------------------------------


def feishu() -> Harness:
    codes = ["81D3-A", "81D3-B", "81D3-C"]

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/open-apis/auth/v3/tenant_access_token/internal":
            return _json({"code": 0, "msg": "ok", "tenant_access_token": "t-1", "expire": 7200})
        if request.headers.get("authorization") != "Bearer t-1":
            return _json({"code": 99991663, "msg": "Invalid access token"}, 400)
        base = "/open-apis/approval/v4/instances"
        if request.url.path == base and request.method == "GET":
            start = int(request.url.params.get("page_token") or 0)
            more = start + 2 < len(codes)
            return _json(
                {
                    "code": 0,
                    "msg": "success",
                    "data": {
                        "instance_code_list": codes[start : start + 2],
                        "has_more": more,
                        "page_token": str(start + 2) if more else "",
                    },
                }
            )
        if request.url.path == base and request.method == "POST":
            return _json({"code": 0, "msg": "success", "data": {"instance_code": "81D3-NEW"}})
        if request.url.path.startswith(base + "/"):
            data = copy.deepcopy(s.FEISHU_INSTANCE)
            data["data"]["instance_code"] = request.url.path.rsplit("/", 1)[1]
            return _json(data)
        return _json({"code": 1390001, "msg": "param is invalid"}, 400)

    def sign(at: float) -> Delivery:
        payload = {
            "ts": str(at),
            "uuid": "evt-uuid-1",
            "token": "fs-verify",
            "type": "event_callback",
            "event": {
                "type": "approval_instance",
                "approval_code": "7C46",
                "instance_code": "81D3-A",
                "status": "REVERTED",
                "operate_time": 1741502700000,
            },
        }
        body = s.dumps(payload)
        timestamp = str(int(at))
        headers = {
            "X-Lark-Request-Timestamp": timestamp,
            "X-Lark-Request-Nonce": "nonce",
            "X-Lark-Signature": signing.feishu_signature(timestamp, "nonce", "fs-encrypt", body),
        }
        return Delivery(headers, body)

    return Harness(
        "feishu",
        ConnectionConfig(
            "https://open.feishu.example",
            {"app_id": "cli_1", "app_secret": "sec", "encrypt_key": "fs-encrypt", "verification_token": "fs-verify"},
            {"approval_codes": ["7C46"], "page_size": 2},
        ),
        handle,
        {"approval.create": _approval_payload()},
        sign,
        {"approval"},
    )


# --- mobile app -------------------------------------------------------------------------------------------

MOBILE_SECRET = "whsec_" + base64.b64encode(b"mobile-secret-0123456789abcdef").decode()


def _standard(secret: str, body: bytes, at: float, msg_id: str = "msg_1") -> Delivery:
    stamp = int(at)
    signature = signing.standard_webhook_signature(secret, msg_id, stamp, body)
    return Delivery({"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": signature}, body)


def mobile() -> Harness:
    sessions = [s.variant(s.MOBILE_SESSION, n, "sessionId") for n in range(3)]

    def handle(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Bearer m-key":
            return _json({"error": {"code": "UNAUTHENTICATED", "message": "no"}}, 401)
        if request.url.path == "/v1/interview-sessions" and request.method == "GET":
            start = int(request.url.params.get("cursor") or 0)
            more = start + 2 < len(sessions)
            return _json(
                {"items": sessions[start : start + 2], "nextCursor": str(start + 2) if more else None, "hasMore": more}
            )
        if request.url.path == "/v1/interview-sessions":
            return _json({**s.MOBILE_SESSION, "sessionId": "ais_new", "status": "INVITED"}, 201)
        if request.url.path == "/v1/notifications":
            return _json({"notificationId": "ntf_1", "status": "DELIVERED"}, 202)
        return _json({**s.MOBILE_SESSION, "sessionId": request.url.path.rsplit("/", 1)[1]})

    def sign(at: float) -> Delivery:
        body = s.dumps({"type": "session.submitted", "timestamp": int(at * 1000), "data": s.MOBILE_SESSION})
        return _standard(MOBILE_SECRET, body, at)

    return Harness(
        "mobile",
        ConnectionConfig("https://m.example", {"api_key": "m-key"}, {"page_size": 2}, MOBILE_SECRET),
        handle,
        {
            "session.invite": {"candidate_remote_id": "21198", "package_id": "pkg_backend_l3"},
            "notification.push": {"to": "21198", "title": "二面安排", "body": "3月10日 14:00"},
        },
        sign,
        {"interview_session"},
    )


# --- mock -----------------------------------------------------------------------------------------------


def mock() -> Harness:
    upstream = MockUpstream(
        {
            "job": [
                {"remote_id": f"J{n}", "title": f"Job {n}", "remote_updated_at": "2025-03-01T00:00:00Z"}
                for n in range(3)
            ],
            "candidate": [{"remote_id": "C1", "first_name": "伟"}],
        }
    )

    def sign(at: float) -> Delivery:
        body = s.dumps({"type": "job.updated", "model": "job", "data": {"remote_id": "J1", "title": "Job 1"}})
        return _standard(MOCK_WEBHOOK_SECRET, body, at)

    return Harness(
        "mock",
        ConnectionConfig("http://mock.test", {}, {}, MOCK_WEBHOOK_SECRET),
        upstream.handler,
        {op: {"x": 1} for op in ("application.change_stage", "approval.create", "session.invite")},
        sign,
        {"job", "candidate"},
    )


# --- manifest connectors (the shipped examples) ---------------------------------------------------------

GH_SECRET = "whsec_" + base64.b64encode(b"greenhouse-style-secret-0123").decode()


def greenhouse_style() -> Harness:
    people = [
        {
            "id": 100 + n,
            "first_name": "Ada",
            "last_name": f"L{n}",
            "updated_at": "2025-03-09T10:12:44Z",
            "phone_numbers": [{"value": "+1 555 0100", "type": "Mobile"}],
            "email_addresses": [{"value": f"ada{n}@example.com", "type": "personal"}],
            "addresses": [{"value": "London", "type": "home"}],
            "tags": ["referral"],
        }
        for n in range(3)
    ]
    jobs = [
        {
            "id": 7,
            "name": "Engineer",
            "status": "open",
            "updated_at": "2025-03-01T00:00:00Z",
            "departments": [{"name": "R&D"}],
        }
    ]
    apps = [
        {
            "id": 900 + n,
            "candidate_id": 100 + n,
            "jobs": [{"id": 7}],
            "status": "active",
            "last_activity_at": "2025-03-09T10:12:44Z",
            "current_stage": {"id": 3, "name": "Onsite"},
            "source": {"public_name": "LinkedIn"},
        }
        for n in range(3)
    ]
    tables = {"/v1/candidates": people, "/v1/jobs": jobs, "/v1/applications": apps}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Basic " + base64.b64encode(b"gh-key:").decode():
            return _json({"message": "Invalid Basic Auth credentials"}, 401)
        if request.method == "POST":
            return _json({"id": 555})
        if request.url.path in tables:
            page, size = int(request.url.params["page"]), int(request.url.params["per_page"])
            return _json(tables[request.url.path][(page - 1) * size : page * size])
        return _json(people[0])

    def sign(at: float) -> Delivery:
        body = s.dumps({"action": "application_updated", "payload": {"application": apps[0]}})
        return _standard(GH_SECRET, body, at, "msg_gh_1")

    return Harness(
        "greenhouse_style",
        ConnectionConfig("https://harvest.example/v1", {"api_key": "gh-key"}, {"page_size": 2}, GH_SECRET),
        handle,
        {
            "application.change_stage": {
                "application_remote_id": "900",
                "stage_remote_id": "4",
                "from_stage_remote_id": "3",
            },
            "interview.create": {
                "application_remote_id": "900",
                "start_at": "2025-03-10T06:00:00Z",
                "end_at": "2025-03-10T07:00:00Z",
            },
        },
        sign,
        {"candidate", "job", "application"},
    )


def moka_style() -> Harness:
    people = [
        {
            "candidateId": 1000 + n,
            "name": "张伟",
            "phone": "13800000000",
            "email": f"z{n}@example.com",
            "updatedAt": "2025-03-09 18:12:44",
            "createdAt": 1741486200000,
            "isDeleted": 0,
            "labels": ["内推"],
            "customFields": '{"expectedSalary": "30k"}',
            "city": "北京",
        }
        for n in range(3)
    ]
    jobs = [
        {
            "jobId": f"J{n}",
            "title": "后端",
            "status": 1,
            "mode": "社招",
            "updatedAt": "2025-03-01 08:00:00",
            "department": {"name": "研发"},
        }
        for n in range(3)
    ]
    apps = [
        {
            "applicationId": f"A{n}",
            "candidateId": 1000 + n,
            "jobId": "J0",
            "stageName": "二面",
            "appliedAt": "1741486200000",
            "rejectedAt": "0",
            "updatedAt": 1741502700000,
        }
        for n in range(3)
    ]
    stages = [{"stageId": 1, "stageName": "初筛", "jobId": "J0", "order": "1"}]

    def ok(data: Any) -> httpx.Response:
        return _json({"code": 0, "msg": "success", "data": data})

    def handle(request: httpx.Request) -> httpx.Response:
        if not request.headers.get("x-moka-signature") or request.headers.get("x-moka-key") != "mk":
            return _json({"code": 40100, "msg": "bad signature"}, 401)
        path, params = request.url.path.removeprefix("/api-platform/v1"), request.url.params
        if request.method == "POST":
            return ok({"applicationId": "A0", "resultId": "R1"})
        if path == "/candidates":
            offset, limit = int(params["offset"]), int(params["limit"])
            return ok({"list": people[offset : offset + limit], "total": len(people)})
        if path == "/jobs":
            start = int(params.get("pageToken") or 0)
            return ok({"jobs": jobs[start : start + 2], "nextPageToken": str(start + 2), "hasMore": start + 2 < 3})
        if path == "/applications":
            start = int(params.get("cursor") or 0)
            return ok({"list": apps[start : start + 2], "next": str(start + 2) if start + 2 < 3 else None})
        if path == "/stages":
            return ok({"list": stages})
        return ok(people[0])

    def sign(at: float) -> Delivery:
        body = s.dumps(
            {"eventId": "e-1", "eventType": "application.stage_changed", "occurredAt": int(at * 1000), "data": apps[0]}
        )
        digest = hmac.new(b"moka-hook", body, hashlib.sha256).hexdigest()
        return Delivery({"X-Moka-Webhook-Signature": f"sha256={digest}"}, body)

    return Harness(
        "moka_style",
        ConnectionConfig(
            "https://moka.example/api-platform/v1", {"api_key": "mk", "api_secret": "ms"}, {"page_size": 2}, "moka-hook"
        ),
        handle,
        {
            "application.change_stage": {"application_remote_id": "A0", "stage_remote_id": "S2"},
            "application.screening_results": {"application_remote_id": "A0", "score": 80, "passed": True},
        },
        sign,
        {"candidate", "job", "application", "interview_stage"},
    )


HARNESSES: dict[str, Callable[[], Harness]] = {
    "hr": hr,
    "dingtalk": dingtalk,
    "wecom": wecom,
    "feishu": feishu,
    "mobile": mobile,
    "mock": mock,
    "greenhouse_style": greenhouse_style,
    "moka_style": moka_style,
}

__all__ = ["FAST", "HARNESSES", "NOW", "Delivery", "Harness", "no_sleep"]
