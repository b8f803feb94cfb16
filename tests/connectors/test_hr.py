"""connectors/hr.py: the HR dialect, from the dialects.md example to bad input, writes and webhooks."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import httpx
import pytest

from connectors.base import ConnectionConfig
from connectors.errors import (
    NormalizationError,
    SignatureInvalid,
    TimestampOutOfTolerance,
    UpstreamRejected,
    WritePayloadInvalid,
)
from connectors.hr import HrConnector
from schema.records import ContactValue
from simulators.signing import hr_signature
from tests.connectors import samples as s
from tests.connectors.harness import FAST, no_sleep

CONFIG = ConnectionConfig("https://hr.example.com/api", {"api_key": "hr-key"}, {}, "hr-secret")


def connector(handler=lambda r: httpx.Response(404)) -> HrConnector:
    return HrConnector(CONFIG, transport=httpx.MockTransport(handler), retry=FAST, sleep=no_sleep)


def test_candidate_from_the_dialects_md_example() -> None:
    record = connector().normalize("candidate", s.HR_CANDIDATE)
    assert record.remote_id == "521b18c2-4d01-4297-b451-19858d07c133"
    assert (record.first_name, record.last_name, record.company, record.title) == (
        "伟",
        "张",
        "示例机器人",
        "高级后端工程师",
    )
    assert record.phones == [ContactValue(value="+86-138-0000-0000", kind="MOBILE")]
    assert record.emails == [ContactValue(value="wei.zhang@example.com", kind="PERSONAL")]
    assert record.tags == ["campus-2025"]
    assert record.remote_updated_at == datetime(2025, 3, 9, 10, 12, 44, tzinfo=UTC)
    assert record.remote_deleted is False
    assert record.custom_fields == {"vendor_remote_id": "21198", "stage_name": "二面"}


def test_every_model() -> None:
    hr = connector()
    job = hr.normalize("job", s.HR_JOB)
    assert (job.title, job.status.value, job.mode, job.language, job.department) == (
        "高级后端工程师",
        "OPEN",
        "social",
        "zh",
        "dept-1",
    )
    app = hr.normalize("application", s.HR_APPLICATION)
    assert (app.candidate_remote_id, app.job_remote_id, app.current_stage) == (
        s.HR_CANDIDATE["id"],
        s.HR_JOB["id"],
        "stage-2",
    )
    assert app.custom_fields["stage_name"] == "二面" and app.rejected_at is None
    stage = hr.normalize("interview_stage", s.HR_STAGE)
    assert (stage.name, stage.order, stage.custom_fields["stage_name"]) == ("Second Interview", 2, "二面")
    interview = hr.normalize("interview", s.HR_INTERVIEW)
    assert interview.interviewers == ["user-2", "user-3"] and interview.status == "SCHEDULED"
    resume = hr.normalize("resume", {**s.HR_ATTACHMENT, "content_text": s.RESUME_TEXT})
    assert resume.text == s.RESUME_TEXT and resume.language == "zh"


@pytest.mark.parametrize(
    ("model", "change", "path", "fragment"),
    [
        ("candidate", {"phone_numbers": "not-a-list"}, "$.phone_numbers", "expected a list"),
        ("candidate", {"first_name": 12345}, None, None),  # numbers become strings: not an error
        ("candidate", {"first_name": ["x"]}, "$.first_name", "expected a string"),
        ("candidate", {"remote_was_deleted": "yes"}, "$.remote_was_deleted", "true or false"),
        ("candidate", {"modified_at": "yesterday"}, "$.modified_at", "ISO 8601"),
        ("candidate", {"id": None}, "$.id", "required"),
        ("candidate", {"email_addresses": [{"value": "x" * 400}]}, "$.email_addresses[0].value", "320"),
        ("job", {"status": "PAUSED"}, "$.status", "unknown job status"),
        ("job", {"name": ""}, "$.name", "required"),
        ("application", {"job": None}, "$.job", "required"),
        ("interview", {"status": "LOST"}, "$.status", "unknown interview status"),
        ("interview_stage", {"stage_order": "two"}, "$.stage_order", "integer"),
    ],
)
def test_bad_input_gives_path_and_reason(model: str, change: dict, path: str | None, fragment: str | None) -> None:
    payload = {
        "candidate": s.HR_CANDIDATE,
        "job": s.HR_JOB,
        "application": s.HR_APPLICATION,
        "interview": s.HR_INTERVIEW,
        "interview_stage": s.HR_STAGE,
    }[model] | change
    if path is None:
        connector().normalize(model, payload)
        return
    with pytest.raises(NormalizationError) as caught:
        connector().normalize(model, payload)
    assert caught.value.path == path and fragment in caught.value.reason


@pytest.mark.parametrize("key", ["first_name", "email_addresses", "modified_at"])
def test_missing_keys_and_schema_drift_are_caught(key: str) -> None:
    payload = {k: v for k, v in s.HR_CANDIDATE.items() if k != key}
    with pytest.raises(NormalizationError) as caught:
        connector().normalize("candidate", payload)
    assert caught.value.path == f"$.{key}"


async def test_reads_ask_for_deleted_records_and_increments() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"next": "c2", "previous": None, "results": [s.HR_CANDIDATE]})

    page = await connector(handle).read_page("candidate", since=datetime(2025, 3, 9, 10, tzinfo=UTC))
    params = seen[0].url.params
    assert seen[0].url.path == "/api/candidates"
    assert params["include_deleted_data"] == "true" and params["page_size"] == "100"
    assert params["modified_after"] == "2025-03-09T10:00:00Z"
    assert page.watermark == datetime(2025, 3, 9, 10, 12, 44, tzinfo=UTC)
    await connector(handle).read_page("candidate", cursor=page.next_cursor)
    assert seen[1].url.params["cursor"] == "c2"


async def test_resume_text_is_fetched_with_credentials_only_from_the_hr_host() -> None:
    local = {**s.HR_ATTACHMENT, "id": "a1", "file_url": "https://hr.example.com/api/attachments/a1/content"}
    remote = {**s.HR_ATTACHMENT, "id": "a2", "file_url": "https://files.example.net/a2.txt?sig=1"}
    pdf = {**s.HR_ATTACHMENT, "id": "a3", "file_url": "https://hr.example.com/api/attachments/a3/content"}
    gone = {**s.HR_ATTACHMENT, "id": "a4", "file_url": "https://hr.example.com/api/attachments/a4/content"}
    cover = {**s.HR_ATTACHMENT, "id": "a5", "attachment_type": "COVER_LETTER"}
    auth: dict[str, str | None] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/attachments":
            return httpx.Response(200, json={"next": None, "results": [local, remote, pdf, gone, cover]})
        auth[request.url.host + request.url.path] = request.headers.get("authorization")
        if "a3" in request.url.path:
            return httpx.Response(200, content=b"%PDF-1.7", headers={"content-type": "application/pdf"})
        if "a4" in request.url.path:
            return httpx.Response(404, json={"detail": "Not found."})
        return httpx.Response(200, text=s.RESUME_TEXT, headers={"content-type": "text/plain; charset=utf-8"})

    page = await connector(handle).read_page("resume")
    texts = {item.remote_id: connector().normalize("resume", item.payload).text for item in page.items}
    assert texts == {"a1": s.RESUME_TEXT, "a2": s.RESUME_TEXT, "a3": None, "a4": None}
    assert auth["hr.example.com/api/attachments/a1/content"] == "Bearer hr-key"
    assert auth["files.example.net/a2.txt"] is None


async def test_writes_use_the_hr_bodies_and_idempotency_keys() -> None:
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(201, json={"model": {"id": "new"}, "warnings": [], "errors": [], "logs": []})

    hr = connector(handle)
    await hr.write(
        "application.change_stage", {"application_remote_id": "app 1", "stage_remote_id": "st-3"}, idempotency_key="k1"
    )
    await hr.write(
        "application.screening_results",
        {
            "application_remote_id": "app1",
            "score": 91,
            "passed": True,
            "reasons": ["Go 5 年"],
            "rank": 1,
            "run_id": "run-7",
        },
        idempotency_key="k2",
    )
    result = await hr.write(
        "interview.create",
        {
            "application_remote_id": "app1",
            "stage_remote_id": "st-3",
            "start_at": datetime(2025, 3, 10, 6, tzinfo=UTC),
            "end_at": "2025-03-10T07:00:00Z",
            "interviewers": ["u1"],
            "location": "会议室A",
        },
        idempotency_key="k3",
    )
    assert result.remote_id == "new"
    paths = [r.url.raw_path.decode() for r in sent]
    assert paths == [
        "/api/applications/app%201/change-stage",
        "/api/applications/app1/screening-results",
        "/api/interviews",
    ]
    assert json.loads(sent[0].content) == {"job_interview_stage": "st-3"}
    assert json.loads(sent[1].content)["model"] == {
        "score": 91,
        "passed": True,
        "reasons": ["Go 5 年"],
        "rank": 1,
        "run_id": "run-7",
    }
    assert json.loads(sent[2].content)["model"]["start_at"] == "2025-03-10T06:00:00Z"
    assert [r.headers["idempotency-key"] for r in sent] == ["k1", "k2", "k3"]


async def test_note_goes_on_the_application_for_the_recruiters() -> None:
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(201, json={"model": {"id": "note-1"}, "warnings": [], "errors": [], "logs": []})

    hr = connector(handle)
    payload = {"application_remote_id": "app1", "subject": "审批被拒绝", "body": "请人工决定", "visibility": None}
    result = await hr.write("application.note", payload, idempotency_key="n1")
    with pytest.raises(WritePayloadInvalid):
        await hr.write("application.note", {"application_remote_id": "app1", "subject": "s"}, idempotency_key="n2")
    assert result.remote_id == "note-1" and len(sent) == 1, "a payload without a body is refused before sending"
    assert sent[0].url.raw_path.decode() == "/api/applications/app1/notes"
    assert json.loads(sent[0].content) == {"model": {"subject": "审批被拒绝", "body": "请人工决定"}}
    assert sent[0].headers["idempotency-key"] == "n1"


async def test_refused_write_carries_the_hr_detail() -> None:
    answer = {
        "errors": [
            {
                "title": "Invalid Field",
                "detail": "job_interview_stage is not a stage of this job.",
                "problem_type": "INVALID_FIELD",
            }
        ],
        "warnings": [],
    }
    hr = connector(lambda r: httpx.Response(400, json=answer))
    with pytest.raises(UpstreamRejected, match="not a stage of this job"):
        await hr.write(
            "application.change_stage", {"application_remote_id": "a", "stage_remote_id": "b"}, idempotency_key="k"
        )


NOW = datetime(2025, 3, 9, 10, 13, tzinfo=UTC)


def delivery(body: dict, secret: str = "hr-secret") -> tuple[dict[str, str], bytes]:
    raw = s.dumps(body)
    return {"X-HR-Signature": hr_signature(secret, raw), "X-HR-Event": body.get("event", "")}, raw


def test_webhook_carries_the_full_record() -> None:
    headers, raw = delivery(
        {
            "id": "e1",
            "event": "candidate.changed",
            "model": "Candidate",
            "created_at": "2025-03-09T10:12:50Z",
            "data": s.HR_CANDIDATE,
        }
    )
    event = connector().verify_webhook(headers, raw, now=NOW)
    assert (event.event_id, event.model, event.type) == ("e1", "candidate", "candidate.changed")
    assert event.item is not None and event.item.remote_id == s.HR_CANDIDATE["id"]


def test_attachment_events_are_fetched_for_their_text() -> None:
    headers, raw = delivery(
        {
            "id": "e2",
            "event": "attachment.changed",
            "model": "Attachment",
            "created_at": "2025-03-09T10:12:50Z",
            "data": s.HR_ATTACHMENT,
        }
    )
    event = connector().verify_webhook(headers, raw, now=NOW)
    assert event.model == "resume" and event.item is None and event.remote_id == "att-1"


def test_webhook_wrong_secret_tamper_and_stale() -> None:
    body = {"id": "e1", "event": "x", "model": "Job", "created_at": "2025-03-09T10:12:50Z", "data": s.HR_JOB}
    headers, raw = delivery(body, "wrong")
    with pytest.raises(SignatureInvalid):
        connector().verify_webhook(headers, raw, now=NOW)
    headers, raw = delivery(body)
    with pytest.raises(SignatureInvalid):
        connector().verify_webhook(headers, raw.replace(b"OPEN", b"DRAFT"), now=NOW)
    headers, raw = delivery({**body, "created_at": "2025-03-09T09:00:00Z"})
    with pytest.raises(TimestampOutOfTolerance):
        connector().verify_webhook(headers, raw, now=NOW)


def test_rotated_webhook_secrets() -> None:
    rotated = HrConnector(ConnectionConfig(CONFIG.base_url, CONFIG.credentials, {}, "new-secret hr-secret"))
    headers, raw = delivery({"id": "e1", "event": "x", "model": "Job", "data": copy.deepcopy(s.HR_JOB)})
    assert rotated.verify_webhook(headers, raw, now=NOW).model == "job"
