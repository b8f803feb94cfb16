"""The mobile HR app: AI interview sessions (answers and consent), invitations and push notifications.

camelCase keys, epoch milliseconds as numbers (dialects.md). ``Authorization: Bearer <api_key>``.

- read: ``GET /v1/interview-sessions?updatedAfter=<ms>&limit=<=100&cursor=`` -> ``{items, nextCursor,
  hasMore}``; ``GET /v1/interview-sessions/{sessionId}`` for one;
- ``session.invite``: ``POST /v1/interview-sessions {candidate: {remoteId, email?, phone?}, application,
  job, packageId, expiresAt?}`` -> the session (``INVITED``);
- ``notification.push``: ``POST /v1/notifications {to, title, body, deepLink?, data?}`` -> the delivery
  record; `WriteResult.status` is its canonical delivery status (DELIVERED, FAILED, SENT);
  `delivery_status` reads it again later;
- both writes send ``Idempotency-Key``;
- webhooks: Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``, ``whsec_``
  secrets, several during rotation, 5 minutes tolerance); body ``{type, timestamp, data}``: ``session.*``
  events carry the whole session (normalize ``event.item``), ``notification.*`` events are delivery
  receipts (model ``notification``).

Statuses: INVITED, STARTED, SUBMITTED, SCORING, COMPLETED, EXPIRED, CANCELED; anything else is refused.
Consent: ``consent.aiScoring`` becomes a `ConsentValue` for purpose ``ai_scoring`` (absent: no consent
recorded, which the hub treats as "not granted").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

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
from connectors.errors import NormalizationError, ReplayDetected, UnsupportedOperation, UpstreamBadResponse
from connectors.times import format_time, parse_time
from connectors.webhooks import parse_json_body, verify_standard_webhook
from schema.records import CanonicalRecord, InterviewSessionRecord, SessionStatus

__all__ = ["MobileConnector"]

_STATUSES = frozenset(s.value for s in SessionStatus)
_SOURCES = {
    "remote_id": "$.sessionId",
    "remote_updated_at": "$.updatedAt",
    "candidate_remote_id": "$.candidate.remoteId",
    "application_remote_id": "$.application.remoteId",
    "job_remote_id": "$.job.remoteId",
    "package_id": "$.packageId",
    "status": "$.status",
    "channel": "$.device.platform",
    "consent": "$.consent",
    "started_at": "$.startedAt",
    "submitted_at": "$.submittedAt",
    "answers": "$.answers",
}


def normalize_session(p: Mapping[str, Any]) -> CanonicalRecord:
    status = n.text(p, "status", "$", required=True)
    if status not in _STATUSES:
        raise n.fail("$.status", f"unknown session status {status!r}; expected one of {', '.join(sorted(_STATUSES))}")
    candidate = n.opt_obj(p, "candidate", "$")
    consent = []
    given = n.opt_obj(p, "consent", "$")
    if given.get("aiScoring") is not None:
        consent.append(
            {
                "purpose": "ai_scoring",
                "granted": n.flag(given, "aiScoring", "$.consent"),
                "granted_at": n.when(given, "grantedAt", "$.consent", "epoch_ms"),
            }
        )
    answers = []
    for index, raw in enumerate(n.items(p, "answers", "$")):
        where = f"$.answers[{index}]"
        answer = n.obj(raw, where)
        duration = answer.get("durationMs")
        if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int | float)):
            raise n.fail(f"{where}.durationMs", f"expected milliseconds as a number, got {duration!r}")
        answers.append(
            {
                "question_id": n.text(answer, "questionId", where, required=True),
                "question": n.text(answer, "question", where),
                "transcript": n.text(answer, "transcript", where) or "",
                "duration_ms": None if duration is None else int(duration),
            }
        )
    custom = {k: p[k] for k in ("locale",) if p.get(k) is not None}
    expires = n.when(p, "expiresAt", "$", "epoch_ms")
    if expires is not None:
        custom["expires_at"] = expires  # JSON form: ISO 8601 (model_dump(mode="json"))
    job = n.opt_obj(p, "job", "$")
    if job.get("name"):
        custom["job_name"] = job["name"]
    data = {
        "remote_id": n.text(p, "sessionId", "$", required=True),
        "remote_url": n.text(p, "inviteUrl", "$"),
        "remote_created_at": n.when(p, "invitedAt", "$", "epoch_ms"),
        "remote_updated_at": n.when(p, "updatedAt", "$", "epoch_ms", required=True),
        "candidate_remote_id": n.text(candidate, "remoteId", "$.candidate"),
        "application_remote_id": n.text(n.opt_obj(p, "application", "$"), "remoteId", "$.application"),
        "job_remote_id": n.text(job, "remoteId", "$.job"),
        "package_id": n.text(p, "packageId", "$"),
        "status": status,
        "channel": n.text(n.opt_obj(p, "device", "$"), "platform", "$.device"),
        "consent": consent,
        "started_at": n.when(p, "startedAt", "$", "epoch_ms"),
        "submitted_at": n.when(p, "submittedAt", "$", "epoch_ms"),
        "answers": answers,
        "custom_fields": custom,
    }
    return n.validate(InterviewSessionRecord, data, _SOURCES, "interview_session")


class MobileConnector(Connector):
    """Mobile HR app (see the module docstring)."""

    kind: ClassVar[str] = "mobile"
    version: ClassVar[str] = "1.0.0"
    display_name: ClassVar[str] = "Mobile HR app (AI interviews)"
    capabilities: ClassVar[Mapping[str, frozenset[Capability]]] = {
        "interview_session": frozenset({Capability.READ, Capability.WRITE, Capability.WEBHOOK})
    }
    write_operations: ClassVar[frozenset[str]] = frozenset({"session.invite", "notification.push"})
    webhook_scheme: ClassVar[str | None] = "standard_webhooks"

    def __init__(self, config: ConnectionConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.http.auth = BearerAuth(config.credential("api_key"))

    # --- read ----------------------------------------------------------------------------------------

    async def read_page(self, model: str, *, cursor: str | None = None, since: datetime | None = None) -> Page:
        self._require(model, Capability.READ)
        params: dict[str, Any] = {"limit": self.page_size}
        if cursor:
            params["cursor"] = decode_cursor(cursor).get("c")
        if since is not None:
            params["updatedAfter"] = format_time(since, "epoch_ms")
        data = await self.http.get_json("/v1/interview-sessions", params=params)
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise UpstreamBadResponse("/v1/interview-sessions: expected {items: [...], nextCursor}")
        results = data["items"]
        nxt = data.get("nextCursor")
        if data.get("hasMore") is False:
            nxt = None
        stamps = []
        for record in results:
            if isinstance(record, dict):
                try:
                    stamps.append(n.when(record, "updatedAt", "$", "epoch_ms"))
                except NormalizationError:
                    continue
        items = [RawItem(str(r.get("sessionId", "")) if isinstance(r, dict) else "", r) for r in results]
        return Page(
            items=items,
            next_cursor=encode_cursor({"c": nxt}) if nxt else None,
            watermark=max((s for s in stamps if s is not None), default=None),
        )

    async def fetch(self, model: str, remote_id: str) -> RawItem:
        self._require(model, Capability.READ)
        data = await self.http.get_json(f"/v1/interview-sessions/{quote(remote_id, safe='')}")
        if not isinstance(data, dict):
            raise UpstreamBadResponse("/v1/interview-sessions/{id}: expected an object")
        return RawItem(str(data.get("sessionId", remote_id)), data)

    def normalize(self, model: str, payload: Mapping[str, Any]) -> CanonicalRecord:
        if model != "interview_session":
            raise UnsupportedOperation(f"mobile does not normalize model {model!r}")
        return normalize_session(n.obj(payload, model=model))

    # --- write ---------------------------------------------------------------------------------------

    async def write(self, operation: str, payload: Mapping[str, Any], *, idempotency_key: str) -> WriteResult:
        headers = {"Idempotency-Key": idempotency_key}
        if operation == "session.invite":
            require_keys(operation, payload, "candidate_remote_id", "package_id")
            candidate = {"remoteId": str(payload["candidate_remote_id"])}
            for key in ("email", "phone", "name"):
                if payload.get(key):
                    candidate[key] = str(payload[key])
            body: dict[str, Any] = {
                "candidate": candidate,
                "application": {"remoteId": payload.get("application_remote_id")},
                "job": {"remoteId": payload.get("job_remote_id")},
                "packageId": payload["package_id"],
            }
            if payload.get("expires_at"):
                expires = parse_time(payload["expires_at"])
                if expires is not None:
                    body["expiresAt"] = format_time(expires, "epoch_ms")
            if payload.get("questions"):
                body["questions"] = list(payload["questions"])
            data = await self.http.send_json("POST", "/v1/interview-sessions", body, headers=headers, idempotent=True)
            if not isinstance(data, dict) or not data.get("sessionId"):
                raise UpstreamBadResponse("invite answered without sessionId")
            return WriteResult(remote_id=str(data["sessionId"]), raw=data, status=str(data.get("status") or "INVITED"))
        if operation == "notification.push":
            require_keys(operation, payload, "to", "title", "body")
            body = {"to": str(payload["to"]), "title": payload["title"], "body": payload["body"]}
            if payload.get("deep_link"):
                body["deepLink"] = payload["deep_link"]
            if payload.get("data"):
                body["data"] = dict(payload["data"])
            data = await self.http.send_json("POST", "/v1/notifications", body, headers=headers, idempotent=True)
            if not isinstance(data, dict) or not data.get("notificationId"):
                raise UpstreamBadResponse("notification answered without notificationId")
            return WriteResult(remote_id=str(data["notificationId"]), raw=data, status=_delivery(data))
        raise self._unsupported_write(operation)

    async def delivery_status(self, notification_id: str) -> WriteResult:
        """Read a pushed notification again (status DELIVERED, FAILED, ACKNOWLEDGED, SENT)."""
        data = await self.http.get_json(f"/v1/notifications/{quote(notification_id, safe='')}")
        if not isinstance(data, dict):
            raise UpstreamBadResponse("/v1/notifications/{id}: expected an object")
        return WriteResult(remote_id=notification_id, raw=data, status=_delivery(data))

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
        tolerance = float(self.config.settings.get("webhook_tolerance_seconds", 300))
        msg_id = verify_standard_webhook(
            lower, raw_body, self.config.webhook_secrets(), now=epoch_now(now), tolerance=tolerance
        )
        if seen is not None and seen(msg_id):
            raise ReplayDetected(f"event {msg_id} was already received", event_id=msg_id)
        body = parse_json_body(raw_body)
        event_type = str(body.get("type") or "")
        data = n.as_dict(body.get("data"))
        occurred = parse_time(body["timestamp"], "epoch_ms") if isinstance(body.get("timestamp"), int) else None
        if event_type.startswith("session."):
            remote_id = str(data.get("sessionId") or "") or None
            item = RawItem(remote_id, data) if remote_id else None
            return WebhookEvent(
                event_id=msg_id,
                model="interview_session",
                remote_id=remote_id,
                type=event_type,
                payload=body,
                item=item,
                occurred_at=occurred,
            )
        if event_type.startswith("notification."):
            remote_id = str(data.get("notificationId") or "") or None
            hints = {"status": _delivery(data)} if data else {}
            return WebhookEvent(
                event_id=msg_id,
                model="notification",
                remote_id=remote_id,
                type=event_type,
                payload=body,
                hints=hints,
                occurred_at=occurred,
            )
        return WebhookEvent(event_id=msg_id, model=None, remote_id=None, type=event_type, payload=body)


def _delivery(data: Mapping[str, Any]) -> str:
    status = str(data.get("status") or "").upper()
    if status in ("DELIVERED", "FAILED", "ACKNOWLEDGED"):
        return status
    return "SENT"
