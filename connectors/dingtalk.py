"""DingTalk OA approvals (workflow v1.0): camelCase, UTC ISO times to the minute, msg-crypt callbacks.

- token: ``POST /v1.0/oauth2/accessToken {appKey, appSecret}`` -> ``{accessToken, expireIn}``, sent as
  ``x-acs-dingtalk-access-token`` (or a fixed ``credentials.access_token``);
- read: ``GET /v1.0/workflow/processInstances?processInstanceId=`` -> ``{success, result}``; the answer
  names neither the instance nor its process, so the connector adds ``processInstanceId`` and, when known,
  ``processCode`` to the payload it hands out;
- list: ``POST /v1.0/workflow/processes/instanceIds/query {processCode, startTime, endTime, nextToken,
  maxResults <= 20}`` for each code in the setting ``process_codes``, then one read per id;
- create (``approval.create``): ``POST /v1.0/workflow/processInstances`` -> ``{instanceId}``; ``deptId`` is
  documented optional but refused in practice, so it is required (payload ``department_id`` or setting
  ``default_department_id``);
- callbacks: ``{"encrypt"}`` with ``signature``/``msg_signature``, ``timestamp`` (ms) and ``nonce`` query
  parameters; answered with the encrypted ``success`` DingTalk insists on.

Status, exactly as dialects.md's canonical table: RUNNING or NEW -> PENDING; COMPLETED with agree ->
APPROVED, with refuse -> REJECTED; TERMINATED or CANCELED -> CANCELED.

Connection: credentials ``app_key``, ``app_secret`` (or ``access_token``), ``callback_token`` (or the
webhook secret), ``callback_aes_key`` (43 characters), receive id ``callback_receive_id`` (alias
``owner_key``; default the app key; a corpId or suiteKey for other app types); settings ``process_codes``,
``default_department_id``, ``history_start``, ``list_window_days`` (default 120), ``lookback_days`` for
incremental lists (default 7).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from connectors import _normalize as n
from connectors._approvals import list_range, parse_approval_request
from connectors.auth import HeaderAuth, TokenAuth
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
)
from connectors.errors import (
    ConnectorConfigError,
    NormalizationError,
    ReplayDetected,
    UnsupportedOperation,
    UpstreamAuthError,
    UpstreamBadResponse,
    WebhookPayloadInvalid,
    WritePayloadInvalid,
)
from connectors.http import RequestAuth, UpstreamClient
from connectors.webhooks import MsgCrypt, check_timestamp, parse_json_body
from schema.records import ApprovalRecord, ApprovalStatus, CanonicalRecord

__all__ = ["DingTalkConnector", "instance_status"]

_STATUS = {
    "RUNNING": ApprovalStatus.PENDING,
    "NEW": ApprovalStatus.PENDING,
    "TERMINATED": ApprovalStatus.CANCELED,
    "CANCELED": ApprovalStatus.CANCELED,
}
_RESULT = {"agree": ApprovalStatus.APPROVED, "refuse": ApprovalStatus.REJECTED}
_SOURCES = {
    "remote_id": "$.processInstanceId",
    "definition_code": "$.processCode",
    "title": "$.title",
    "originator": "$.originatorUserId",
    "started_at": "$.createTime",
    "finished_at": "$.finishTime",
    "tasks": "$.tasks",
    "form": "$.formComponentValues",
}


def instance_status(status: Any, result: Any, path: str = "$") -> ApprovalStatus:
    """Canonical status of an instance ``status`` and ``result`` (dialects.md's table)."""
    if not isinstance(status, str):
        raise n.fail(f"{path}.status", f"expected an instance status string, got {status!r}")
    if status == "COMPLETED":
        verdict = _RESULT.get(str(result or "").lower())
        if verdict is None:
            raise n.fail(
                f"{path}.result", f"COMPLETED instance with unknown result {result!r}; expected agree or refuse"
            )
        return verdict
    try:
        return _STATUS[status]
    except KeyError:
        raise n.fail(
            f"{path}.status",
            f"unknown instance status {status!r}; expected RUNNING, NEW, COMPLETED, TERMINATED, CANCELED",
        ) from None


def _task_status(task: Mapping[str, Any]) -> str:
    status, result = str(task.get("status") or ""), str(task.get("result") or "").upper()
    if result == "REDIRECTED":
        return "TRANSFERRED"
    if status in ("NEW", "RUNNING", "PAUSED"):
        return "PENDING"
    if status == "COMPLETED":
        return {"AGREE": "APPROVED", "REFUSE": "REJECTED"}.get(result, "DONE")
    if status in ("CANCELED", "TERMINATED"):
        return "CANCELED"
    return status or "UNKNOWN"


def _form(values: list[Any]) -> dict[str, Any]:
    form: dict[str, Any] = {}
    for index, entry in enumerate(values):
        where = f"$.formComponentValues[{index}]"
        entry = n.obj(entry, where)
        key = n.text(entry, "id", where) or n.text(entry, "name", where) or str(index)
        field: dict[str, Any] = {
            "name": n.text(entry, "name", where),
            "value": entry.get("value"),
            "type": n.text(entry, "componentType", where),
        }
        ext = entry.get("extValue")
        if isinstance(ext, str) and ext:
            try:
                field["ext"] = n.loads(ext)  # extValue is a JSON-encoded string
            except ValueError:
                field["ext"] = ext
        form[key] = field
    return form


def normalize_instance(p: Mapping[str, Any]) -> CanonicalRecord:
    started = n.when(p, "createTime", "$", "iso8601", required=True)
    finished = n.when(p, "finishTime", "$", "iso8601")
    remarks: dict[str, str] = {}
    for record in n.items(p, "operationRecords", "$"):
        if isinstance(record, dict) and record.get("remark") and record.get("userId"):
            remarks[str(record["userId"])] = str(record["remark"])
    tasks = []
    newest = finished or started
    for index, raw in enumerate(n.items(p, "tasks", "$")):
        where = f"$.tasks[{index}]"
        task = n.obj(raw, where)
        done = n.when(task, "finishTime", where, "iso8601")
        if done is not None and (newest is None or done > newest):
            newest = done
        approver = n.text(task, "userId", where)
        tasks.append(
            {
                "task_id": n.text(task, "taskId", where),
                "approver": approver,
                "status": _task_status(task),
                "comment": remarks.get(approver or "") if done is not None else None,
                "finished_at": done,
            }
        )
    custom = {}
    for key in ("businessId", "originatorDeptId", "bizAction"):
        if p.get(key) is not None:
            custom[key] = p[key]
    data = {
        "remote_id": n.text(p, "processInstanceId", "$", required=True),
        "definition_code": n.text(p, "processCode", "$", required=True),
        "title": n.text(p, "title", "$"),
        "status": instance_status(p.get("status"), p.get("result")),
        "originator": n.text(p, "originatorUserId", "$", required=True),
        "started_at": started,
        "finished_at": finished,
        "remote_created_at": started,
        "remote_updated_at": newest,
        "form": _form(n.items(p, "formComponentValues", "$")),
        "tasks": tasks,
        "custom_fields": custom,
    }
    return n.validate(ApprovalRecord, data, _SOURCES, "approval")


class DingTalkConnector(Connector):
    """DingTalk approvals (see the module docstring)."""

    kind: ClassVar[str] = "dingtalk"
    version: ClassVar[str] = "1.0.0"
    display_name: ClassVar[str] = "DingTalk approvals (钉钉审批)"
    capabilities: ClassVar[Mapping[str, frozenset[Capability]]] = {
        "approval": frozenset({Capability.READ, Capability.WRITE, Capability.WEBHOOK})
    }
    write_operations: ClassVar[frozenset[str]] = frozenset({"approval.create"})
    webhook_scheme: ClassVar[str | None] = "dingtalk_msg_crypt"
    default_page_size: ClassVar[int] = 20  # maxResults is at most 20

    def __init__(self, config: ConnectionConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.http.auth = self._auth(config)
        self._concurrency = int(config.settings.get("fetch_concurrency", 8))

    @staticmethod
    def _auth(config: ConnectionConfig) -> RequestAuth:
        if config.credentials.get("access_token"):
            return HeaderAuth("x-acs-dingtalk-access-token", config.credentials["access_token"])
        app_key, app_secret = config.credential("app_key"), config.credential("app_secret")

        async def fetch(client: UpstreamClient) -> tuple[str, float]:
            data = await client.send_json(
                "POST", "/v1.0/oauth2/accessToken", {"appKey": app_key, "appSecret": app_secret}, auth=False
            )
            token = data.get("accessToken") if isinstance(data, dict) else None
            if not isinstance(token, str):
                raise UpstreamAuthError("DingTalk token endpoint answered without accessToken")
            return token, float(data.get("expireIn") or 7200)

        return TokenAuth(fetch, header="x-acs-dingtalk-access-token", prefix="")

    # --- read ----------------------------------------------------------------------------------------

    def _process_codes(self) -> list[str]:
        codes = self.config.settings.get("process_codes") or self.config.settings.get("process_code")
        if isinstance(codes, str):
            codes = [codes]
        if not codes:
            raise ConnectorConfigError("dingtalk: setting process_codes is required to list approvals")
        return [str(c) for c in codes]

    async def fetch(self, model: str, remote_id: str) -> RawItem:
        self._require(model, Capability.READ)
        return await self._instance(remote_id, None)

    async def _instance(self, instance_id: str, process_code: str | None) -> RawItem:
        data = await self.http.get_json("/v1.0/workflow/processInstances", params={"processInstanceId": instance_id})
        result = data.get("result") if isinstance(data, dict) else None
        if not isinstance(result, dict) or data.get("success") is False:
            raise UpstreamBadResponse("DingTalk processInstances: expected {success: true, result: {...}}")
        payload = {"processInstanceId": instance_id, **result}
        if process_code and "processCode" not in payload:
            payload["processCode"] = process_code
        return RawItem(instance_id, payload)

    async def read_page(self, model: str, *, cursor: str | None = None, since: datetime | None = None) -> Page:
        self._require(model, Capability.READ)
        codes = self._process_codes()
        if cursor:
            state = decode_cursor(cursor)
        else:
            start, end = list_range(self.config.settings, since)
            state = {"i": 0, "t": None, "s": int(start * 1000), "e": int(end * 1000)}
        index = int(state["i"])
        if index >= len(codes):
            return Page(items=[])
        body = {
            "processCode": codes[index],
            "startTime": state["s"],
            "endTime": state["e"],
            "maxResults": self.page_size,
        }
        if state.get("t") is not None:
            body["nextToken"] = state["t"]
        data = await self.http.send_json("POST", "/v1.0/workflow/processes/instanceIds/query", body, idempotent=True)
        result = n.as_dict(data.get("result")) if isinstance(data, dict) else {}
        ids = result.get("list")
        if not isinstance(ids, list):
            raise UpstreamBadResponse("DingTalk instanceIds/query: expected {result: {list: [...]}}")
        semaphore = asyncio.Semaphore(self._concurrency)

        async def one(instance_id: Any) -> RawItem:
            async with semaphore:
                return await self._instance(str(instance_id), codes[index])

        items = list(await asyncio.gather(*(one(i) for i in ids)))
        token = result.get("nextToken")
        if token not in (None, ""):
            nxt = {**state, "t": token}
        else:
            nxt = {**state, "i": index + 1, "t": None}
        more = token not in (None, "") or index + 1 < len(codes)
        stamps = [s for s in (_updated(i.payload) for i in items) if s is not None]
        return Page(items=items, next_cursor=encode_cursor(nxt) if more else None, watermark=max(stamps, default=None))

    def normalize(self, model: str, payload: Mapping[str, Any]) -> CanonicalRecord:
        if model != "approval":
            raise UnsupportedOperation(f"dingtalk does not normalize model {model!r}")
        payload = n.obj(payload, model=model)
        if "processCode" not in payload:
            codes = self.config.settings.get("process_codes") or self.config.settings.get("process_code")
            if isinstance(codes, str) or (isinstance(codes, list) and len(codes) == 1):
                payload = {**payload, "processCode": codes if isinstance(codes, str) else codes[0]}
        return normalize_instance(payload)

    # --- write ---------------------------------------------------------------------------------------

    async def write(self, operation: str, payload: Mapping[str, Any], *, idempotency_key: str) -> WriteResult:
        if operation != "approval.create":
            raise self._unsupported_write(operation)
        request = parse_approval_request(payload, self.config.settings)
        if request.department_id is None:
            raise WritePayloadInvalid("approval.create on DingTalk needs department_id (deptId)")
        body: dict[str, Any] = {
            "originatorUserId": request.originator,
            "processCode": request.definition_code,
            "deptId": int(request.department_id) if request.department_id.isdigit() else request.department_id,
            "formComponentValues": [
                {k: v for k, v in (("id", f.id), ("name", f.name or f.id), ("value", f.value)) if v is not None}
                for f in request.form
            ],
        }
        if request.approvers:
            body["approvers"] = [{"actionType": a.mode, "userIds": a.user_ids} for a in request.approvers]
        if payload.get("title"):
            body["title"] = payload["title"]
        # No idempotency key in this API: retried only when the request surely did not arrive.
        data = await self.http.send_json("POST", "/v1.0/workflow/processInstances", body)
        instance_id = data.get("instanceId") if isinstance(data, dict) else None
        if not isinstance(instance_id, str):
            raise UpstreamBadResponse("DingTalk create answered without instanceId")
        return WriteResult(remote_id=instance_id, raw=data)

    # --- callbacks -----------------------------------------------------------------------------------

    def _crypt(self) -> MsgCrypt:
        token = self.config.credentials.get("callback_token") or self.config.webhook_secret
        if not token:
            raise ConnectorConfigError("dingtalk: callback_token (or a webhook secret) is required")
        credentials = self.config.credentials
        receive_id = (
            credentials.get("callback_receive_id") or credentials.get("owner_key") or credentials.get("app_key")
        )
        try:
            return MsgCrypt(token, self.config.credential("callback_aes_key"), receive_id)
        except ValueError as exc:
            raise ConnectorConfigError(f"dingtalk: {exc}") from None

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        raw_body: bytes,
        *,
        query: Mapping[str, str] | None = None,
        now: datetime | None = None,
        seen: SeenCallback | None = None,
    ) -> WebhookEvent:
        query = {k.lower(): v for k, v in (query or {}).items()}  # DingTalk signs in the query string
        crypt = self._crypt()
        body = parse_json_body(raw_body)
        encrypted = body.get("encrypt")
        if not isinstance(encrypted, str):
            raise WebhookPayloadInvalid("DingTalk callback body lacks encrypt")
        timestamp = query.get("timestamp")
        crypt.verify(query.get("signature") or query.get("msg_signature"), timestamp, query.get("nonce"), encrypted)
        current = epoch_now(now)
        stamp = int(timestamp) if timestamp and timestamp.isdigit() else 0
        check_timestamp(stamp / 1000 if stamp > 100_000_000_000 else stamp, now=current, tolerance=self._tolerance())
        try:
            event = json.loads(crypt.decrypt(encrypted))
        except ValueError:
            raise WebhookPayloadInvalid("decrypted DingTalk event is not JSON") from None
        if not isinstance(event, dict):
            raise WebhookPayloadInvalid("decrypted DingTalk event is not an object")
        reply = self._success_reply(crypt, current)
        event_type = str(event.get("EventType") or "")
        if event_type == "check_url":
            return WebhookEvent(
                event_id=f"check_url:{stamp}", model=None, remote_id=None, type=event_type, payload=event, reply=reply
            )
        instance_id = event.get("processInstanceId")
        identity = f"{instance_id}|{event_type}|{event.get('type')}|{event.get('result')}|"
        identity += f"{event.get('finishTime') or event.get('createTime')}"
        event_id = "dingtalk:" + hashlib.sha256(identity.encode()).hexdigest()[:32]
        if seen is not None and seen(event_id):
            raise ReplayDetected(f"event {event_id} was already received", event_id=event_id)
        hints: dict[str, Any] = {}
        occurred = None
        try:
            occurred = n.when(event, "finishTime", "$", "epoch_ms") or n.when(event, "createTime", "$", "epoch_ms")
        except NormalizationError:
            occurred = None
        if event.get("processCode"):
            hints["definition_code"] = str(event["processCode"])
        status = {"start": ApprovalStatus.PENDING, "terminate": ApprovalStatus.CANCELED}.get(str(event.get("type")))
        if event.get("type") == "finish":
            status = _RESULT.get(str(event.get("result") or "").lower())
        if status is not None:
            hints["status"] = status
        is_instance = event_type in ("bpms_instance_change", "bpms_task_change") and instance_id
        return WebhookEvent(
            event_id=event_id,
            model="approval" if is_instance else None,
            remote_id=str(instance_id) if instance_id else None,
            type=event_type,
            payload=event,
            hints=hints,
            occurred_at=occurred,
            reply=reply,
        )

    def _tolerance(self) -> float:
        return float(self.config.settings.get("webhook_tolerance_seconds", 300))

    @staticmethod
    def _success_reply(crypt: MsgCrypt, now: float) -> WebhookReply:
        timestamp, nonce = str(int(now * 1000)), secrets.token_hex(4)
        encrypted = crypt.encrypt("success")
        body = {
            "msg_signature": crypt.signature(timestamp, nonce, encrypted),
            "timeStamp": timestamp,
            "nonce": nonce,
            "encrypt": encrypted,
        }
        return WebhookReply(200, json.dumps(body).encode(), "application/json")

    async def load_event(self, event: WebhookEvent) -> RawItem:
        if event.model is None or event.remote_id is None:
            raise UnsupportedOperation(f"event {event.type!r} is not about a record")
        code = event.hints.get("definition_code")
        return await self._instance(event.remote_id, str(code) if code else None)


def _updated(payload: Mapping[str, Any]) -> datetime | None:
    try:
        return n.when(payload, "finishTime", "$", "iso8601") or n.when(payload, "createTime", "$", "iso8601")
    except NormalizationError:
        return None
