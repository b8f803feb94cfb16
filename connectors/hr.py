"""The HR system (ATS/HRIS) in the unified-HR-API dialect of dialects.md, Chinese ATS quirks included.

Reads ``GET /{path}`` answering ``{"next", "previous", "results"}`` with an opaque ``cursor``,
``page_size`` up to 100, ``modified_after`` for incremental reads and ``include_deleted_data=true`` so
deletions arrive as ``remote_was_deleted`` flags (what a full read needs to detect them).

======================  =========================  ============================================
canonical model         path                       notes
======================  =========================  ============================================
``candidate``           ``/candidates``            phones/emails become `ContactValue` lists
``job``                 ``/jobs``                  ``mode`` (social/campus) from the record or remote_data
``application``         ``/applications``          ``current_stage`` is the stage's id; its Chinese
                                                   ``stageName`` lands in ``custom_fields.stage_name``
``interview_stage``     ``/job-interview-stages``
``interview``           ``/interviews``            scheduled interviews (the calendar)
``resume``              ``/attachments``           RESUME attachments only; the text is fetched from
                                                   ``file_url`` (text/*) into ``content_text``
======================  =========================  ============================================

Identity: ``id`` (the API's id, used by every reference and write) is the remote id; the vendor's own
``remote_id`` is kept as ``custom_fields.vendor_remote_id``. ``modified_at`` is the watermark.

Writes (``Idempotency-Key`` = the job's key; bodies as the HR API takes them):

- ``application.change_stage``: ``POST /applications/{id}/change-stage {job_interview_stage}``
- ``application.screening_results``: ``POST /applications/{id}/screening-results {model: {...}}``
- ``application.note``: ``POST /applications/{id}/notes {model: {subject, body, visibility?, remote_user_id?}}``
  (what the recruiters read on the application, e.g. that an approval was turned down)
- ``interview.create``: ``POST /interviews {model: {...}}``

Webhooks: ``X-HR-Signature: sha256=<hex HMAC-SHA256(webhook_secret, raw body)>``; body ``{id, event,
model, created_at, data}``; the event id is ``id`` (deliveries repeat: dedupe on it).

Connection: ``credentials.api_key`` (Bearer); settings ``page_size`` (≤100), ``fetch_resume_text``
(default true), ``resume_text_concurrency`` (default 8), ``webhook_tolerance_seconds`` (default 300).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from connectors import _normalize as n
from connectors.auth import BearerAuth
from connectors.base import (
    Capability,
    ConnectionConfig,
    Connector,
    Page,
    RawItem,
    SeenCallback,
    WebhookEvent,
    WriteResult,
    decode_cursor,
    encode_cursor,
    epoch_now,
    headers_lower,
    require_keys,
)
from connectors.errors import (
    NormalizationError,
    ReplayDetected,
    UnsupportedOperation,
    UpstreamBadResponse,
    UpstreamRejected,
    WebhookPayloadInvalid,
)
from connectors.times import format_time
from connectors.webhooks import check_timestamp, parse_json_body, verify_hmac_signature
from schema.records import (
    ApplicationRecord,
    CandidateRecord,
    CanonicalRecord,
    InterviewRecord,
    InterviewStageRecord,
    JobRecord,
    ResumeRecord,
)

__all__ = ["HrConnector"]

_READ = frozenset({Capability.READ, Capability.WEBHOOK})
_READ_WRITE = frozenset({Capability.READ, Capability.WRITE, Capability.WEBHOOK})
PATHS = {
    "candidate": "candidates",
    "job": "jobs",
    "application": "applications",
    "interview_stage": "job-interview-stages",
    "interview": "interviews",
    "resume": "attachments",
}
WEBHOOK_MODELS = {
    "Candidate": "candidate",
    "Job": "job",
    "Application": "application",
    "JobInterviewStage": "interview_stage",
    "ScheduledInterview": "interview",
    "Attachment": "resume",
}
_JOB_STATUSES = frozenset({"OPEN", "CLOSED", "DRAFT", "ARCHIVED", "PENDING"})
_INTERVIEW_STATUSES = frozenset({"SCHEDULED", "AWAITING_FEEDBACK", "COMPLETE", "CANCELED"})


def _remote_data(p: Mapping[str, Any]) -> Mapping[str, Any]:
    """The vendor payload of the first ``remote_data`` entry (Chinese quirks live there); lenient."""
    entries = p.get("remote_data")
    if isinstance(entries, list) and entries and entries[0].__class__ is dict:
        data = entries[0].get("data")
        if data.__class__ is dict:
            return data
    return {}


# Keys the dialect always sends (null when unknown): a record without one is malformed or has drifted.
_EXPECTED = {
    "candidate": ("first_name", "last_name", "email_addresses", "phone_numbers"),
    "job": ("name", "status"),
    "application": ("candidate", "job", "current_stage"),
    "interview_stage": ("name", "job"),
    "interview": ("application", "start_at", "end_at"),
    "resume": ("candidate", "file_url"),
}


def _common(p: Mapping[str, Any], model: str) -> dict[str, Any]:
    for key in _EXPECTED[model]:
        if key not in p:
            raise n.fail(f"$.{key}", "key is missing (malformed record or schema drift)", model)
    custom = dict(n.opt_obj(p, "custom_fields", "$"))
    vendor_id = n.text(p, "remote_id", "$")
    if vendor_id is not None:
        custom["vendor_remote_id"] = vendor_id
    return {
        "remote_id": n.text(p, "id", "$", required=True),
        "remote_created_at": n.when(p, "remote_created_at", "$", "iso8601") or n.when(p, "created_at", "$", "iso8601"),
        "remote_updated_at": n.when(p, "modified_at", "$", "iso8601", required=True),
        "remote_deleted": n.flag(p, "remote_was_deleted", "$"),
        "custom_fields": custom,
    }


def _contacts(p: Mapping[str, Any], key: str, kind_key: str) -> list[dict[str, Any]]:
    out = []
    for index, entry in enumerate(n.items(p, key, "$")):
        where = f"$.{key}[{index}]"
        entry = n.obj(entry, where)
        value = n.text(entry, "value", where)
        if value:
            out.append({"value": value, "kind": n.text(entry, kind_key, where)})
    return out


_SOURCES = {
    "remote_id": "$.id",
    "remote_updated_at": "$.modified_at",
    "title": "$.name",
    "name": "$.name",
    "emails": "$.email_addresses",
    "phones": "$.phone_numbers",
    "candidate_remote_id": "$.candidate",
    "job_remote_id": "$.job",
    "application_remote_id": "$.application",
    "order": "$.stage_order",
    "stage_name": "$.job_interview_stage",
}


def _sources(record: type[CanonicalRecord]) -> dict[str, str]:
    return {**{k: f"$.{k}" for k in record.model_fields}, **_SOURCES}


_CANDIDATE, _JOB, _APPLICATION, _STAGE, _INTERVIEW, _RESUME = (
    _sources(r)
    for r in (CandidateRecord, JobRecord, ApplicationRecord, InterviewStageRecord, InterviewRecord, ResumeRecord)
)


def _candidate(p: Mapping[str, Any]) -> CanonicalRecord:
    data = _common(p, "candidate")
    urls = [u.get("value") for u in n.items(p, "urls", "$") if isinstance(u, dict) and u.get("value")]
    if urls:
        data["custom_fields"]["urls"] = urls
    extra = _remote_data(p)
    if isinstance(extra.get("stageName"), str):
        data["custom_fields"]["stage_name"] = extra["stageName"]
    data.update(
        first_name=n.text(p, "first_name", "$"),
        last_name=n.text(p, "last_name", "$"),
        company=n.text(p, "company", "$"),
        title=n.text(p, "title", "$"),
        emails=_contacts(p, "email_addresses", "email_address_type"),
        phones=_contacts(p, "phone_numbers", "phone_number_type"),
        locations=n.strings(p, "locations", "$"),
        tags=n.strings(p, "tags", "$"),
    )
    return n.validate(CandidateRecord, data, _CANDIDATE, "candidate")


def _job(p: Mapping[str, Any]) -> CanonicalRecord:
    data = _common(p, "job")
    status = n.text(p, "status", "$", required=True)
    if status not in _JOB_STATUSES:
        raise n.fail("$.status", f"unknown job status {status!r}; expected one of {', '.join(sorted(_JOB_STATUSES))}")
    departments = n.strings(p, "departments", "$")
    mode = n.text(p, "mode", "$") or n.text(_remote_data(p), "mode", "$.remote_data[0].data")
    language = data["custom_fields"].get("language")
    data.update(
        title=n.text(p, "name", "$", required=True),
        code=n.text(p, "code", "$"),
        description=n.text(p, "description", "$"),
        status=status,
        department=departments[0] if departments else None,
        mode=mode,
        language=language if isinstance(language, str) else None,
    )
    return n.validate(JobRecord, data, _JOB, "job")


def _application(p: Mapping[str, Any]) -> CanonicalRecord:
    data = _common(p, "application")
    extra = _remote_data(p)
    if isinstance(extra.get("stageName"), str):
        data["custom_fields"]["stage_name"] = extra["stageName"]
    data.update(
        candidate_remote_id=n.text(p, "candidate", "$", required=True),
        job_remote_id=n.text(p, "job", "$", required=True),
        applied_at=n.when(p, "applied_at", "$", "iso8601"),
        rejected_at=n.when(p, "rejected_at", "$", "iso8601"),
        current_stage=n.text(p, "current_stage", "$"),
        source=n.text(p, "source", "$"),
        reject_reason=n.text(p, "reject_reason", "$"),
    )
    return n.validate(ApplicationRecord, data, _APPLICATION, "application")


def _stage(p: Mapping[str, Any]) -> CanonicalRecord:
    data = _common(p, "interview_stage")
    extra = _remote_data(p)
    if isinstance(extra.get("stageName"), str):
        data["custom_fields"]["stage_name"] = extra["stageName"]
    order = p.get("stage_order")
    if order is not None and (not isinstance(order, int) or isinstance(order, bool)):
        raise n.fail("$.stage_order", f"expected an integer, got {order!r}")
    data.update(name=n.text(p, "name", "$", required=True), job_remote_id=n.text(p, "job", "$"), order=order)
    return n.validate(InterviewStageRecord, data, _STAGE, "interview_stage")


def _interview(p: Mapping[str, Any]) -> CanonicalRecord:
    data = _common(p, "interview")
    status = n.text(p, "status", "$") or "SCHEDULED"
    if status not in _INTERVIEW_STATUSES:
        raise n.fail("$.status", f"unknown interview status {status!r}")
    stage_name = n.text(_remote_data(p), "stageName", "$.remote_data[0].data") or n.text(p, "job_interview_stage", "$")
    if p.get("job_interview_stage") is not None:
        data["custom_fields"]["stage_remote_id"] = p.get("job_interview_stage")
    data.update(
        application_remote_id=n.text(p, "application", "$"),
        stage_name=stage_name,
        organizer=n.text(p, "organizer", "$"),
        interviewers=n.strings(p, "interviewers", "$"),
        location=n.text(p, "location", "$"),
        start_at=n.when(p, "start_at", "$", "iso8601"),
        end_at=n.when(p, "end_at", "$", "iso8601"),
        status=status,
    )
    return n.validate(InterviewRecord, data, _INTERVIEW, "interview")


def _resume(p: Mapping[str, Any]) -> CanonicalRecord:
    data = _common(p, "resume")
    extra = _remote_data(p)
    language = extra.get("language") if isinstance(extra.get("language"), str) else None
    data.update(
        candidate_remote_id=n.text(p, "candidate", "$", required=True),
        file_name=n.text(p, "file_name", "$"),
        file_url=n.text(p, "file_url", "$"),
        text=n.text(p, "content_text", "$"),
        language=language,
    )
    return n.validate(ResumeRecord, data, _RESUME, "resume")


_NORMALIZERS: dict[str, Callable[[Mapping[str, Any]], CanonicalRecord]] = {
    "candidate": _candidate,
    "job": _job,
    "application": _application,
    "interview_stage": _stage,
    "interview": _interview,
    "resume": _resume,
}


class HrConnector(Connector):
    """HR system connector (see the module docstring for paths, identity, writes and webhooks)."""

    kind: ClassVar[str] = "hr"
    version: ClassVar[str] = "1.0.0"
    display_name: ClassVar[str] = "HR system (unified ATS/HRIS API)"
    capabilities: ClassVar[Mapping[str, frozenset[Capability]]] = {
        "candidate": _READ,
        "job": _READ,
        "interview_stage": _READ,
        "resume": _READ,
        "application": _READ_WRITE,
        "interview": _READ_WRITE,
    }
    write_operations: ClassVar[frozenset[str]] = frozenset(
        {"application.change_stage", "application.screening_results", "application.note", "interview.create"}
    )
    webhook_scheme: ClassVar[str | None] = "hmac_sha256"

    def __init__(self, config: ConnectionConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.http.auth = BearerAuth(config.credential("api_key"))
        self._host = urlsplit(config.base_url).netloc

    # --- read ----------------------------------------------------------------------------------------

    async def read_page(self, model: str, *, cursor: str | None = None, since: datetime | None = None) -> Page:
        self._require(model, Capability.READ)
        params: dict[str, Any] = {"page_size": self.page_size, "include_deleted_data": "true"}
        path = PATHS[model]
        if cursor:
            token = decode_cursor(cursor).get("c")
            if isinstance(token, str) and token.startswith(("http://", "https://")):
                path, params = token, {}
            else:
                params["cursor"] = token
        if since is not None and path == PATHS[model]:
            params["modified_after"] = format_time(since, "iso8601")
        data = await self.http.get_json(path, params=params)
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise UpstreamBadResponse(f"/{PATHS[model]}: expected {{next, results: [...]}}")
        results = data["results"]
        if model == "resume":
            results = [r for r in results if not isinstance(r, dict) or r.get("attachment_type") in ("RESUME", None)]
            await self._attach_texts(results)
        nxt = data.get("next")
        items = [RawItem(str(r.get("id", "")) if isinstance(r, dict) else "", r) for r in results]
        return Page(
            items=items,
            next_cursor=encode_cursor({"c": nxt}) if nxt else None,
            watermark=_watermark(results),
        )

    async def fetch(self, model: str, remote_id: str) -> RawItem:
        self._require(model, Capability.READ)
        data = await self.http.get_json(f"{PATHS[model]}/{quote(remote_id, safe='')}")
        if not isinstance(data, dict):
            raise UpstreamBadResponse(f"/{PATHS[model]}/{{id}}: expected an object")
        if model == "resume":
            await self._attach_texts([data])
        return RawItem(str(data.get("id", remote_id)), data)

    async def _attach_texts(self, attachments: list[Any]) -> None:
        """Put each resume's text into ``content_text`` (text/* only; other files stay without text)."""
        if not self.config.settings.get("fetch_resume_text", True):
            return
        semaphore = asyncio.Semaphore(int(self.config.settings.get("resume_text_concurrency", 8)))

        async def one(record: dict[str, Any]) -> None:
            url = record.get("file_url")
            if not isinstance(url, str) or not url or "content_text" in record:
                return
            # Credentials go only to the HR system itself, never to a file host elsewhere.
            same_host = not url.startswith(("http://", "https://")) or urlsplit(url).netloc == self._host
            async with semaphore:
                response = await self.http.request(
                    "GET", url, auth=same_host, headers={"accept": "text/plain, */*"}, expect_status=(404, 410)
                )
            ctype = response.headers.get("content-type", "")
            if response.status < 400 and ctype.startswith("text/"):
                record["content_text"] = response.content.decode("utf-8", errors="replace")

        await asyncio.gather(*(one(r) for r in attachments if isinstance(r, dict)))

    def normalize(self, model: str, payload: Mapping[str, Any]) -> CanonicalRecord:
        try:
            normalizer = _NORMALIZERS[model]
        except KeyError:
            raise UnsupportedOperation(f"hr does not normalize model {model!r}") from None
        return normalizer(n.obj(payload, model=model))

    # --- write ---------------------------------------------------------------------------------------

    async def write(self, operation: str, payload: Mapping[str, Any], *, idempotency_key: str) -> WriteResult:
        headers = {"Idempotency-Key": idempotency_key}
        if operation == "application.change_stage":
            require_keys(operation, payload, "application_remote_id", "stage_remote_id")
            body: dict[str, Any] = {"job_interview_stage": payload["stage_remote_id"]}
            if payload.get("remote_user_id"):
                body["remote_user_id"] = payload["remote_user_id"]
            path = f"applications/{quote(str(payload['application_remote_id']), safe='')}/change-stage"
        elif operation == "application.screening_results":
            require_keys(operation, payload, "application_remote_id", "score", "passed")
            body = {
                "model": {
                    "score": payload["score"],
                    "passed": bool(payload["passed"]),
                    "reasons": list(payload.get("reasons") or []),
                    "rank": payload.get("rank"),
                    "run_id": payload.get("run_id"),
                }
            }
            path = f"applications/{quote(str(payload['application_remote_id']), safe='')}/screening-results"
        elif operation == "application.note":
            require_keys(operation, payload, "application_remote_id", "subject", "body")
            note = {"subject": payload["subject"], "body": payload["body"], "visibility": payload.get("visibility")}
            if payload.get("remote_user_id"):
                note["remote_user_id"] = payload["remote_user_id"]
            body = {"model": {k: v for k, v in note.items() if v is not None}}
            path = f"applications/{quote(str(payload['application_remote_id']), safe='')}/notes"
        elif operation == "interview.create":
            require_keys(operation, payload, "application_remote_id", "start_at", "end_at")
            model = {
                "application": payload["application_remote_id"],
                "job_interview_stage": payload.get("stage_remote_id"),
                "organizer": payload.get("organizer"),
                "interviewers": list(payload.get("interviewers") or []),
                "location": payload.get("location"),
                "start_at": _iso(payload["start_at"]),
                "end_at": _iso(payload["end_at"]),
                "status": "SCHEDULED",
            }
            body = {"model": {k: v for k, v in model.items() if v is not None}}
            path = "interviews"
        else:
            raise self._unsupported_write(operation)
        response = await self.http.request("POST", path, json_body=body, headers=headers, idempotent=True)
        data = response.json()
        if not isinstance(data, dict):
            raise UpstreamBadResponse(f"{operation}: expected an object in the answer")
        if data.get("errors"):
            raise UpstreamRejected(f"{operation} refused: {data['errors']}"[:300], status=response.status)
        written = n.as_dict(data.get("model")) or data
        remote_id = written.get("id")
        return WriteResult(remote_id=None if remote_id is None else str(remote_id), raw=data)

    # --- webhooks ------------------------------------------------------------------------------------

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        raw_body: bytes,
        *,
        query: Mapping[str, str] | None = None,
        now: datetime | None = None,
        seen: SeenCallback | None = None,
    ) -> WebhookEvent:
        lower = headers_lower(headers)
        verify_hmac_signature(lower.get("x-hr-signature"), raw_body, self.config.webhook_secrets(), prefix="sha256=")
        body = parse_json_body(raw_body)
        created = None
        if body.get("created_at") is not None:
            try:
                created = n.when(body, "created_at", "$", "iso8601")
            except NormalizationError:
                raise WebhookPayloadInvalid("created_at is not an ISO 8601 time") from None
        if created is not None:
            tolerance = float(self.config.settings.get("webhook_tolerance_seconds", 300))
            check_timestamp(created.timestamp(), now=epoch_now(now), tolerance=tolerance)
        event_id = body.get("id")
        if not isinstance(event_id, str) or not event_id:
            raise WebhookPayloadInvalid("event has no id")
        if seen is not None and seen(event_id):
            raise ReplayDetected(f"event {event_id} was already received", event_id=event_id)
        model = WEBHOOK_MODELS.get(str(body.get("model")))
        data = n.as_dict(body.get("data")) or None
        remote_id = str(data["id"]) if data and data.get("id") is not None else None
        # Attachments come without their text: let the hub fetch them (fetch() adds the text).
        item = RawItem(remote_id, data) if data and remote_id and model not in (None, "resume") else None
        return WebhookEvent(
            event_id=event_id,
            model=model,
            remote_id=remote_id,
            type=str(body.get("event") or lower.get("x-hr-event") or "event"),
            payload=body,
            item=item,
            occurred_at=created,
        )


def _watermark(results: list[Any]) -> datetime | None:
    newest: datetime | None = None
    for record in results:
        if isinstance(record, dict):
            try:
                stamp = n.when(record, "modified_at", "$", "iso8601")
            except NormalizationError:
                continue  # a broken record fails normalization on its own
            if stamp is not None and (newest is None or stamp > newest):
                newest = stamp
    return newest


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return format_time(value, "iso8601")  # type: ignore[return-value]
    return str(value)
