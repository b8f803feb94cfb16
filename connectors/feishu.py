"""Feishu (Lark) approvals v4: ``{code, msg, data}``, epoch milliseconds as strings, JSON-string forms.

- token: ``POST /open-apis/auth/v3/tenant_access_token/internal {app_id, app_secret}`` ->
  ``{code: 0, tenant_access_token, expire}`` (top level), sent as ``Authorization: Bearer``; codes
  99991661/99991663/99991664/99991668 refresh it once;
- read: ``GET /open-apis/approval/v4/instances/{instance_code}`` -> ``{code: 0, data}``;
- list: ``GET /open-apis/approval/v4/instances?approval_code=&start_time=&end_time=&page_size=&page_token=``
  -> ``{data: {instance_code_list, page_token, has_more}}`` for each code in the setting
  ``approval_codes``, then one read per code;
- create: ``POST /open-apis/approval/v4/instances`` with ``form`` as a JSON string and ``uuid`` = the
  idempotency key (hashed to 64 characters when longer), so a retried create never makes a second one;
- errors: 99991400 -> `RateLimited` (create is limited to 100 a minute), 5xx codes -> `UpstreamUnavailable`,
  other codes -> `UpstreamRejected` with ``vendor_code``;
- callbacks: ``X-Lark-Signature`` = sha256(timestamp + nonce + encrypt_key + raw body) with
  ``X-Lark-Request-Timestamp`` (tolerance 5 minutes) and ``X-Lark-Request-Nonce``; bodies may be
  ``{"encrypt": ...}``; the ``token`` inside must be the verification token; ``url_verification`` is
  answered with its ``challenge``.

Status, exactly as dialects.md's canonical table: PENDING, APPROVED, REJECTED, CANCELED, DELETED map to
themselves; the events' REVERTED -> REVERTED and OVERTIME_CLOSE -> EXPIRED. Those two exist only in
events (a read shows CANCELED), so the event carries them as ``hints`` for the hub to apply; a read with
``reverted: true`` is REVERTED as well.

Connection: credentials ``app_id``, ``app_secret`` (or ``tenant_access_token``), ``encrypt_key`` (or the
webhook secret), ``verification_token``; settings ``approval_codes``, ``list_window_days`` (120),
``lookback_days`` (7), ``fetch_concurrency`` (8), ``approver_node_key``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors import _normalize as n
from connectors._approvals import list_range, parse_approval_request
from connectors.auth import BearerAuth, TokenAuth
from connectors.base import (
    Capability,
    ConnectionConfig,
    Connector,
    Page,
    RawItem,
    SeenCallback,
    WebhookEvent,
    WebhookReply,
    WriteResult,
    decode_cursor,
    encode_cursor,
    epoch_now,
    headers_lower,
)
from connectors.errors import (
    ConnectorConfigError,
    NormalizationError,
    RateLimited,
    ReplayDetected,
    SignatureInvalid,
    UnsupportedOperation,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
    WebhookPayloadInvalid,
    WritePayloadInvalid,
)
from connectors.http import RequestAuth, UpstreamClient, UpstreamResponse, parse_retry_after
from connectors.webhooks import feishu_decrypt, parse_json_body, verify_feishu_signature
from schema.records import ApprovalRecord, ApprovalStatus, CanonicalRecord

__all__ = ["STATUS", "FeishuConnector"]

STATUS = {
    "PENDING": ApprovalStatus.PENDING,
    "APPROVED": ApprovalStatus.APPROVED,
    "REJECTED": ApprovalStatus.REJECTED,
    "CANCELED": ApprovalStatus.CANCELED,
    "DELETED": ApprovalStatus.DELETED,
    "REVERTED": ApprovalStatus.REVERTED,
    "OVERTIME_CLOSE": ApprovalStatus.EXPIRED,
}
_TOKEN_ERRORS = frozenset({99991661, 99991663, 99991664, 99991665, 99991668})
_SOURCES = {
    "remote_id": "$.instance_code",
    "definition_code": "$.approval_code",
    "title": "$.approval_name",
    "originator": "$.user_id",
    "started_at": "$.start_time",
    "finished_at": "$.end_time",
    "tasks": "$.task_list",
    "form": "$.form",
}


def instance_status(value: Any, reverted: Any = False, path: str = "$.status") -> ApprovalStatus:
    if not isinstance(value, str) or value not in STATUS:
        raise n.fail(path, f"unknown status {value!r}; expected one of {', '.join(STATUS)}")
    if value == "CANCELED" and reverted is True:
        return ApprovalStatus.REVERTED
    return STATUS[value]


def _form(raw: Any) -> dict[str, Any]:
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        try:
            raw = n.loads(raw)  # the form is a JSON-encoded string
        except ValueError:
            raise n.fail("$.form", "expected a JSON-encoded string of [{id, type, value}]") from None
    if not isinstance(raw, list):
        raise n.fail("$.form", f"expected a list of widgets, got {type(raw).__name__}")
    form = {}
    for index, widget in enumerate(raw):
        where = f"$.form[{index}]"
        widget = n.obj(widget, where)
        key = n.text(widget, "id", where) or str(index)
        form[key] = {"name": widget.get("name"), "value": widget.get("value"), "type": widget.get("type")}
    return form


def normalize_instance(p: Mapping[str, Any]) -> CanonicalRecord:
    started = n.when(p, "start_time", "$", "epoch_ms", required=True)
    finished = n.when(p, "end_time", "$", "epoch_ms")
    newest = finished or started
    comments: dict[str, str] = {}
    for index, entry in enumerate(n.items(p, "timeline", "$")):
        where = f"$.timeline[{index}]"
        entry = n.obj(entry, where)
        at = n.when(entry, "create_time", where, "epoch_ms")
        if at is not None and (newest is None or at > newest):
            newest = at
        if entry.get("comment") and entry.get("type") in ("PASS", "REJECT"):
            comments[str(entry.get("user_id") or entry.get("open_id"))] = str(entry["comment"])
    tasks = []
    for index, raw in enumerate(n.items(p, "task_list", "$")):
        where = f"$.task_list[{index}]"
        task = n.obj(raw, where)
        done = n.when(task, "end_time", where, "epoch_ms")
        if done is not None and (newest is None or done > newest):
            newest = done
        approver = n.text(task, "user_id", where) or n.text(task, "open_id", where)
        tasks.append(
            {
                "task_id": n.text(task, "id", where),
                "approver": approver,
                "status": n.text(task, "status", where, required=True),
                "comment": comments.get(approver or ""),
                "finished_at": done,
            }
        )
    custom = {k: p[k] for k in ("serial_number", "department_id", "uuid") if p.get(k) not in (None, "")}
    if p.get("open_id"):
        custom["originator_open_id"] = p["open_id"]
    data = {
        "remote_id": n.text(p, "instance_code", "$", required=True),
        "definition_code": n.text(p, "approval_code", "$", required=True),
        "title": n.text(p, "approval_name", "$"),
        "status": instance_status(p.get("status"), p.get("reverted")),
        "originator": n.text(p, "user_id", "$") or n.text(p, "open_id", "$", required=True),
        "started_at": started,
        "finished_at": finished,
        "remote_created_at": started,
        "remote_updated_at": newest,
        "form": _form(p.get("form")),
        "tasks": tasks,
        "custom_fields": custom,
    }
    return n.validate(ApprovalRecord, data, _SOURCES, "approval")


def _check(response: UpstreamResponse) -> UpstreamError | None:
    """Feishu answers ``{code, msg}`` (HTTP 200 or 4xx): map the codes onto the error tree."""
    if not response.content.strip().startswith(b"{"):
        return None  # not Feishu's envelope (an HTML error page): the status mapping applies
    data = response.json()
    if not isinstance(data, dict) or "code" not in data:
        return None if response.status >= 400 else UpstreamBadResponse("Feishu answer lacks code")
    code = data.get("code")
    if code == 0:
        return None
    message = f"Feishu code {code}: {str(data.get('msg', ''))[:160]}"
    if code in _TOKEN_ERRORS:
        return UpstreamAuthError(message, status=response.status)
    if code == 99991400 or response.status == 429:
        reset = response.headers.get("retry-after") or response.headers.get("x-ogw-ratelimit-reset")
        return RateLimited(message, retry_after=parse_retry_after(reset), status=response.status)
    if response.status >= 500 or (isinstance(code, int) and 99991500 <= code < 99991600):
        return UpstreamUnavailable(message, status=response.status)
    return UpstreamRejected(message, vendor_code=code, status=response.status)


class FeishuConnector(Connector):
    """Feishu approvals (see the module docstring)."""

    kind: ClassVar[str] = "feishu"
    version: ClassVar[str] = "1.0.0"
    display_name: ClassVar[str] = "Feishu approvals (飞书审批)"
    capabilities: ClassVar[Mapping[str, frozenset[Capability]]] = {
        "approval": frozenset({Capability.READ, Capability.WRITE, Capability.WEBHOOK})
    }
    write_operations: ClassVar[frozenset[str]] = frozenset({"approval.create"})
    webhook_scheme: ClassVar[str | None] = "feishu"

    def __init__(self, config: ConnectionConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.http.auth = self._auth(config)
        self._concurrency = int(config.settings.get("fetch_concurrency", 8))

    @staticmethod
    def _auth(config: ConnectionConfig) -> RequestAuth:
        if config.credentials.get("tenant_access_token"):
            return BearerAuth(config.credentials["tenant_access_token"])
        app_id, secret = config.credential("app_id"), config.credential("app_secret")

        async def fetch(client: UpstreamClient) -> tuple[str, float]:
            response = await client.request(
                "POST",
                "/open-apis/auth/v3/tenant_access_token/internal",
                json_body={"app_id": app_id, "app_secret": secret},
                auth=False,
                expect_status=(400,),
            )
            data = response.json()
            if not isinstance(data, dict) or data.get("code") != 0 or not data.get("tenant_access_token"):
                raise UpstreamAuthError("Feishu refused the app credentials", status=response.status)
            return str(data["tenant_access_token"]), float(data.get("expire") or 7200)

        return TokenAuth(fetch)

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.http.request(method, path, check=_check, **kwargs)
        data = response.json()
        if not isinstance(data, dict):
            raise UpstreamBadResponse(f"Feishu {path}: expected a JSON object")
        return data

    # --- read ----------------------------------------------------------------------------------------

    def _approval_codes(self) -> list[str]:
        codes = self.config.settings.get("approval_codes") or self.config.settings.get("approval_code")
        if isinstance(codes, str):
            codes = [codes]
        if not codes:
            raise ConnectorConfigError("feishu: setting approval_codes is required to list approvals")
        return [str(c) for c in codes]

    async def fetch(self, model: str, remote_id: str) -> RawItem:
        self._require(model, Capability.READ)
        data = await self._call("GET", f"/open-apis/approval/v4/instances/{remote_id}", idempotent=True)
        instance = data.get("data")
        if not isinstance(instance, dict):
            raise UpstreamBadResponse("Feishu instance: expected {code: 0, data: {...}}")
        return RawItem(str(instance.get("instance_code") or remote_id), instance)

    async def read_page(self, model: str, *, cursor: str | None = None, since: datetime | None = None) -> Page:
        self._require(model, Capability.READ)
        codes = self._approval_codes()
        if cursor:
            state = decode_cursor(cursor)
        else:
            start, end = list_range(self.config.settings, since)
            state = {"i": 0, "t": "", "s": int(start * 1000), "e": int(end * 1000)}
        index = int(state["i"])
        if index >= len(codes):
            return Page(items=[])
        params = {
            "approval_code": codes[index],
            "start_time": state["s"],
            "end_time": state["e"],
            "page_size": self.page_size,
            "page_token": state.get("t") or None,
        }
        answer = await self._call("GET", "/open-apis/approval/v4/instances", params=params, idempotent=True)
        data = n.as_dict(answer.get("data"))
        numbers = data.get("instance_code_list")
        if not isinstance(numbers, list):
            raise UpstreamBadResponse("Feishu instance list: expected data.instance_code_list")
        semaphore = asyncio.Semaphore(self._concurrency)

        async def one(code: Any) -> RawItem:
            async with semaphore:
                return await self.fetch("approval", str(code))

        items = list(await asyncio.gather(*(one(c) for c in numbers)))
        token = data.get("page_token") if data.get("has_more") else None
        if token:
            nxt: dict[str, Any] | None = {**state, "t": token}
        elif index + 1 < len(codes):
            nxt = {**state, "i": index + 1, "t": ""}
        else:
            nxt = None
        stamps = [s for s in (_updated(i.payload) for i in items) if s is not None]
        return Page(items=items, next_cursor=encode_cursor(nxt) if nxt else None, watermark=max(stamps, default=None))

    def normalize(self, model: str, payload: Mapping[str, Any]) -> CanonicalRecord:
        if model != "approval":
            raise UnsupportedOperation(f"feishu does not normalize model {model!r}")
        return normalize_instance(n.obj(payload, model=model))

    # --- write ---------------------------------------------------------------------------------------

    async def write(self, operation: str, payload: Mapping[str, Any], *, idempotency_key: str) -> WriteResult:
        if operation != "approval.create":
            raise self._unsupported_write(operation)
        request = parse_approval_request(payload, self.config.settings)
        if any(f.id is None for f in request.form):
            raise WritePayloadInvalid("approval.create on Feishu needs the widget id of every form value")
        widgets = [{"id": f.id, "type": "textarea" if f.multiline else "input", "value": f.value} for f in request.form]
        key = idempotency_key if len(idempotency_key) <= 64 else hashlib.sha256(idempotency_key.encode()).hexdigest()
        body: dict[str, Any] = {
            "approval_code": request.definition_code,
            "form": json.dumps(widgets, ensure_ascii=False, separators=(",", ":")),
            "uuid": key,
        }
        body["open_id" if request.originator.startswith("ou_") else "user_id"] = request.originator
        if request.department_id:
            body["department_id"] = request.department_id
        if request.approvers:
            node = self.config.settings.get("approver_node_key", "approver")
            body["node_approver_user_id_list"] = [{"key": node, "value": a.user_ids} for a in request.approvers]
        data = await self._call("POST", "/open-apis/approval/v4/instances", json_body=body, idempotent=True)
        created = data.get("data")
        code = created.get("instance_code") if isinstance(created, dict) else None
        if not code:
            raise UpstreamBadResponse("Feishu create answered without data.instance_code")
        return WriteResult(remote_id=str(code), raw=data)

    # --- callbacks -----------------------------------------------------------------------------------

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
        encrypt_key = self.config.credentials.get("encrypt_key") or self.config.webhook_secret
        token = self.config.credentials.get("verification_token")
        if not encrypt_key and not token:
            raise ConnectorConfigError("feishu: encrypt_key (or webhook secret) or verification_token is required")
        signed = "x-lark-signature" in lower
        tolerance = float(self.config.settings.get("webhook_tolerance_seconds", 300))
        if signed:
            if not encrypt_key:
                raise ConnectorConfigError("feishu: a signed callback needs the encrypt_key")
            verify_feishu_signature(lower, raw_body, encrypt_key, now=epoch_now(now), tolerance=tolerance)
        body = parse_json_body(raw_body)
        if "encrypt" in body:
            if not encrypt_key:
                raise ConnectorConfigError("feishu: an encrypted callback needs the encrypt_key")
            body = parse_json_body(feishu_decrypt(encrypt_key, str(body["encrypt"])))
        header = n.as_dict(body.get("header"))
        sent_token = body.get("token") or header.get("token")
        if token and sent_token != token:
            raise SignatureInvalid("verification token does not match")
        if body.get("type") == "url_verification":
            if not signed and not token:
                raise SignatureInvalid("url_verification without a signature or a verification token")
            reply = WebhookReply(200, json.dumps({"challenge": body.get("challenge")}).encode(), "application/json")
            return WebhookEvent(
                event_id=f"url_verification:{body.get('challenge')}",
                model=None,
                remote_id=None,
                type="url_verification",
                payload=body,
                reply=reply,
            )
        if encrypt_key and not signed:
            raise SignatureInvalid("missing X-Lark-Signature")
        event = n.as_dict(body.get("event"))
        event_id = body.get("uuid") or header.get("event_id")
        if not event_id:
            raise WebhookPayloadInvalid("Feishu event has neither uuid nor header.event_id")
        event_id = str(event_id)
        if seen is not None and seen(event_id):
            raise ReplayDetected(f"event {event_id} was already received", event_id=event_id)
        event_type = str(event.get("type") or header.get("event_type") or body.get("type") or "")
        hints: dict[str, Any] = {}
        try:
            occurred = n.when(event, "operate_time", "$.event", "epoch_ms")  # a string, or an integer when REVERTED
            if event.get("status") is not None:
                hints["status"] = instance_status(event["status"], path="$.event.status")
        except NormalizationError as exc:
            raise WebhookPayloadInvalid(f"Feishu event: {exc.message}") from None
        if event.get("approval_code"):
            hints["definition_code"] = str(event["approval_code"])
        code = event.get("instance_code")
        return WebhookEvent(
            event_id=event_id,
            model="approval" if event_type == "approval_instance" and code else None,
            remote_id=str(code) if code else None,
            type=event_type,
            payload=body,
            hints=hints,
            occurred_at=occurred,
            reply=WebhookReply(200, b"{}", "application/json"),
        )


def _updated(payload: Mapping[str, Any]) -> datetime | None:
    """Newest of start, end, task ends and timeline times (a cheap watermark; broken values skipped)."""
    stamps = [payload.get("start_time"), payload.get("end_time")]
    for key, field in (("task_list", "end_time"), ("timeline", "create_time")):
        stamps += [e.get(field) for e in payload.get(key) or [] if isinstance(e, dict)]
    values = [int(s) for s in stamps if isinstance(s, int | str) and str(s).isdigit() and int(s) > 0]
    return datetime.fromtimestamp(max(values) / 1000, UTC) if values else None
