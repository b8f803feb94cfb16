"""WeCom (企业微信) OA approvals: snake_case, epoch seconds, ``errcode`` envelopes, encrypted XML callbacks.

- token: ``GET /cgi-bin/gettoken?corpid=&corpsecret=`` -> ``{access_token, expires_in}``, sent as the
  ``access_token`` query parameter; errcode 40014/42001/40001/41001 refresh it once;
- read: ``POST /cgi-bin/oa/getapprovaldetail {sp_no}`` -> ``{errcode: 0, info}``;
- list: ``POST /cgi-bin/oa/getapprovalinfo {starttime, endtime, new_cursor, size <= 100, filters}`` ->
  ``{sp_no_list, new_next_cursor}``; WeCom allows at most 31 days per query, so the read walks 30-day
  windows up to now (the cursor remembers the window); then one detail read per sp_no;
- create: ``POST /cgi-bin/oa/applyevent`` -> ``{sp_no}`` (Text controls; ``apv_rel`` 1 = any one
  approves, 2 = all must);
- errors: 45009/45033 -> `RateLimited` (WeCom throttles with HTTP 200 and ``Retry-After``), -1 ->
  `UpstreamUnavailable`, other codes -> `UpstreamRejected` with ``vendor_code``;
- callbacks: ``?msg_signature=&timestamp=&nonce=`` with ``<xml><Encrypt>...</Encrypt></xml>``; the
  decrypted ``sys_approval_change`` XML carries ``ApprovalInfo{SpNo, SpStatus, StatuChangeEvent ...}``. The
  URL check (``GET`` with ``echostr``) is answered with the decrypted echostr.

Status, exactly as dialects.md's canonical table: ``sp_status`` 1 PENDING, 2 and 10 APPROVED, 3 REJECTED,
4 CANCELED, 6 REVERTED, 7 DELETED.

Connection: credentials ``corp_id``, ``corp_secret`` (or ``access_token``), ``callback_token`` (or the
webhook secret), ``callback_aes_key``; settings ``template_ids`` (filters the list), ``list_window_days``
(default 120), ``lookback_days`` (default 7), ``fetch_concurrency`` (default 8).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors import _normalize as n
from connectors._approvals import list_range, parse_approval_request
from connectors.auth import QueryAuth, TokenAuth
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
    RateLimited,
    ReplayDetected,
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
from connectors.webhooks import MsgCrypt, check_timestamp, parse_xml
from schema.records import ApprovalRecord, ApprovalStatus, CanonicalRecord

__all__ = ["SP_STATUS", "WeComConnector"]

SP_STATUS = {
    1: ApprovalStatus.PENDING,
    2: ApprovalStatus.APPROVED,
    3: ApprovalStatus.REJECTED,
    4: ApprovalStatus.CANCELED,
    6: ApprovalStatus.REVERTED,
    7: ApprovalStatus.DELETED,
    10: ApprovalStatus.APPROVED,
}
# details[].sp_status: 1 审批中, 2 已同意, 3 已驳回, 4 已转审, 11 已退回, 12 已加签, 13 已同意并加签,
# 14 已办理, 15 已转交
_DETAIL = {
    1: "PENDING",
    2: "APPROVED",
    3: "REJECTED",
    4: "TRANSFERRED",
    11: "RETURNED",
    12: "APPROVED",
    13: "APPROVED",
    14: "DONE",
    15: "TRANSFERRED",
}
_CHANGE = {1: "submitted", 2: "agreed", 3: "rejected", 4: "transferred", 6: "revoked"}
_TOKEN_ERRORS = frozenset({40001, 40014, 41001, 42001, 42007, 42009})
_RATE_ERRORS = frozenset({45009, 45033, 45011})
_WINDOW = 30 * 86_400
_SOURCES = {
    "remote_id": "$.sp_no",
    "definition_code": "$.template_id",
    "title": "$.sp_name",
    "originator": "$.applyer.userid",
    "started_at": "$.apply_time",
    "tasks": "$.sp_record",
    "form": "$.apply_data.contents",
}


def _status_code(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise n.fail(path, f"expected a numeric sp_status, got {value!r}")
    return int(value)


def sp_status(value: Any, path: str = "$.sp_status") -> ApprovalStatus:
    code = _status_code(value, path)
    try:
        return SP_STATUS[code]
    except KeyError:
        raise n.fail(path, f"unknown sp_status {code}; expected one of 1, 2, 3, 4, 6, 7, 10") from None


def _title(control: Mapping[str, Any]) -> str | None:
    titles = control.get("title")
    if isinstance(titles, list):
        texts = [t for t in titles if isinstance(t, dict) and t.get("text")]
        chinese = [t for t in texts if t.get("lang") == "zh_CN"]
        if chinese or texts:
            return str((chinese or texts)[0]["text"])
    return None


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        for key in ("text", "new_number", "new_money"):
            if value.get(key) not in (None, ""):
                return value[key]
    return value


def normalize_info(p: Mapping[str, Any]) -> CanonicalRecord:
    started = n.when(p, "apply_time", "$", "epoch_s", required=True)
    newest = started
    tasks = []
    finished = None
    for node_index, node in enumerate(n.items(p, "sp_record", "$")):
        where = f"$.sp_record[{node_index}]"
        node = n.obj(node, where)
        for index, raw in enumerate(n.items(node, "details", where)):
            at = f"{where}.details[{index}]"
            detail = n.obj(raw, at)
            done = n.when(detail, "sptime", at, "epoch_s")
            if done is not None and (newest is None or done > newest):
                newest = done
            code = _status_code(detail.get("sp_status", 1), f"{at}.sp_status")
            approver = n.opt_obj(detail, "approver", at)
            tasks.append(
                {
                    "task_id": f"{node_index}.{index}",
                    "approver": n.text(approver, "userid", f"{at}.approver"),
                    "status": _DETAIL.get(code, str(code)),
                    "comment": n.text(detail, "speech", at),
                    "finished_at": done,
                }
            )
    status = sp_status(p.get("sp_status"))
    if status is not ApprovalStatus.PENDING:
        finished = newest
    form: dict[str, Any] = {}
    contents = n.items(n.opt_obj(p, "apply_data", "$"), "contents", "$.apply_data")
    for index, raw in enumerate(contents):
        where = f"$.apply_data.contents[{index}]"
        control = n.obj(raw, where)
        key = n.text(control, "id", where) or str(index)
        form[key] = {"name": _title(control), "value": _value(control.get("value")), "type": control.get("control")}
    applyer = n.opt_obj(p, "applyer", "$")
    custom = {}
    if applyer.get("partyid") is not None:
        custom["applyer_party_id"] = applyer["partyid"]
    data = {
        "remote_id": n.text(p, "sp_no", "$", required=True),
        "definition_code": n.text(p, "template_id", "$", required=True),
        "title": n.text(p, "sp_name", "$"),
        "status": status,
        "originator": n.text(applyer, "userid", "$.applyer", required=True),
        "started_at": started,
        "finished_at": finished,
        "remote_created_at": started,
        "remote_updated_at": newest,
        "form": form,
        "tasks": tasks,
        "custom_fields": custom,
    }
    return n.validate(ApprovalRecord, data, _SOURCES, "approval")


def _check(response: UpstreamResponse) -> UpstreamError | None:
    """WeCom answers HTTP 200 with ``errcode``: map the codes onto the error tree."""
    if response.status >= 500 and not response.content.strip().startswith(b"{"):
        return None  # an HTML error page: the status mapping applies
    data = response.json()
    if not isinstance(data, dict) or "errcode" not in data:
        if response.status >= 400:
            return None
        return UpstreamBadResponse("WeCom answer lacks errcode")
    code = data.get("errcode")
    if code == 0:
        return None
    message = f"WeCom errcode {code}: {str(data.get('errmsg', ''))[:160]}"
    if code in _TOKEN_ERRORS:
        return UpstreamAuthError(message, status=response.status)
    if code in _RATE_ERRORS:
        return RateLimited(message, retry_after=parse_retry_after(response.headers.get("retry-after")))
    if code == -1:
        return UpstreamUnavailable(message, status=response.status)
    return UpstreamRejected(message, vendor_code=code, status=response.status)


class WeComConnector(Connector):
    """WeCom approvals (see the module docstring)."""

    kind: ClassVar[str] = "wecom"
    version: ClassVar[str] = "1.0.0"
    display_name: ClassVar[str] = "WeCom approvals (企业微信审批)"
    capabilities: ClassVar[Mapping[str, frozenset[Capability]]] = {
        "approval": frozenset({Capability.READ, Capability.WRITE, Capability.WEBHOOK})
    }
    write_operations: ClassVar[frozenset[str]] = frozenset({"approval.create"})
    webhook_scheme: ClassVar[str | None] = "wecom_msg_crypt"

    def __init__(self, config: ConnectionConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.http.auth = self._auth(config)
        self._concurrency = int(config.settings.get("fetch_concurrency", 8))

    @staticmethod
    def _auth(config: ConnectionConfig) -> RequestAuth:
        if config.credentials.get("access_token"):
            return QueryAuth("access_token", config.credentials["access_token"])
        corp_id, secret = config.credential("corp_id"), config.credential("corp_secret")

        async def fetch(client: UpstreamClient) -> tuple[str, float]:
            response = await client.request(
                "GET", "/cgi-bin/gettoken", params={"corpid": corp_id, "corpsecret": secret}, auth=False
            )
            data = response.json()
            if not isinstance(data, dict) or data.get("errcode", 0) != 0 or not data.get("access_token"):
                raise UpstreamAuthError(f"WeCom gettoken refused: {str(data)[:160]}" if isinstance(data, dict) else "")
            return str(data["access_token"]), float(data.get("expires_in") or 7200)

        return TokenAuth(fetch, header=None, query_param="access_token")

    async def _post(self, path: str, body: Mapping[str, Any], *, idempotent: bool) -> dict[str, Any]:
        response = await self.http.request("POST", path, json_body=body, idempotent=idempotent, check=_check)
        return response.json()  # type: ignore[no-any-return]

    # --- read ----------------------------------------------------------------------------------------

    async def fetch(self, model: str, remote_id: str) -> RawItem:
        self._require(model, Capability.READ)
        data = await self._post("/cgi-bin/oa/getapprovaldetail", {"sp_no": remote_id}, idempotent=True)
        info = data.get("info")
        if not isinstance(info, dict):
            raise UpstreamBadResponse("WeCom getapprovaldetail: expected {errcode: 0, info: {...}}")
        return RawItem(str(info.get("sp_no") or remote_id), info)

    async def read_page(self, model: str, *, cursor: str | None = None, since: datetime | None = None) -> Page:
        self._require(model, Capability.READ)
        if cursor:
            state = decode_cursor(cursor)
        else:
            start, end = list_range(self.config.settings, since)
            state = {"w": int(start), "e": int(end), "c": ""}
        window_start, end = int(state["w"]), int(state["e"])
        window_end = min(window_start + _WINDOW, end)
        body: dict[str, Any] = {
            "starttime": window_start,
            "endtime": window_end,
            "new_cursor": state.get("c") or "",
            "size": self.page_size,
        }
        templates = self.config.settings.get("template_ids")
        if isinstance(templates, str):
            templates = [templates]
        if templates and len(templates) == 1:
            body["filters"] = [{"key": "template_id", "value": templates[0]}]
        data = await self._post("/cgi-bin/oa/getapprovalinfo", body, idempotent=True)
        numbers = data.get("sp_no_list")
        if not isinstance(numbers, list):
            raise UpstreamBadResponse("WeCom getapprovalinfo: expected sp_no_list")
        semaphore = asyncio.Semaphore(self._concurrency)

        async def one(sp_no: Any) -> RawItem:
            async with semaphore:
                return await self.fetch("approval", str(sp_no))

        items = list(await asyncio.gather(*(one(s) for s in numbers)))
        if templates and len(templates) > 1:
            items = [i for i in items if i.payload.get("template_id") in templates]
        following = data.get("new_next_cursor")
        if following:
            nxt: dict[str, Any] | None = {**state, "c": following}
        elif window_end < end:
            nxt = {"w": window_end, "e": end, "c": ""}
        else:
            nxt = None
        stamps = [s for s in (_updated(i.payload) for i in items) if s is not None]
        return Page(items=items, next_cursor=encode_cursor(nxt) if nxt else None, watermark=max(stamps, default=None))

    def normalize(self, model: str, payload: Mapping[str, Any]) -> CanonicalRecord:
        if model != "approval":
            raise UnsupportedOperation(f"wecom does not normalize model {model!r}")
        return normalize_info(n.obj(payload, model=model))

    # --- write ---------------------------------------------------------------------------------------

    async def write(self, operation: str, payload: Mapping[str, Any], *, idempotency_key: str) -> WriteResult:
        if operation != "approval.create":
            raise self._unsupported_write(operation)
        request = parse_approval_request(payload, self.config.settings)
        if any(f.id is None for f in request.form):
            raise WritePayloadInvalid("approval.create on WeCom needs the control id of every form value")
        summary = request.summary or (request.form[0].value if request.form else "")
        body: dict[str, Any] = {
            "creator_userid": request.originator,
            "template_id": request.definition_code,
            "use_template_approver": 0 if request.approvers else 1,
            "apply_data": {
                "contents": [
                    {"control": "Textarea" if f.multiline else "Text", "id": f.id, "value": {"text": f.value}}
                    for f in request.form
                ]
            },
            "summary_list": [{"summary_info": [{"text": summary[:60], "lang": "zh_CN"}]}],
        }
        if request.approvers:
            body["process"] = {
                "node_list": [
                    {"type": 1, "apv_rel": 2 if a.mode == "AND" else 1, "userid": a.user_ids} for a in request.approvers
                ]
            }
        if request.department_id:
            body["choose_department"] = int(request.department_id) if request.department_id.isdigit() else 0
        data = await self._post("/cgi-bin/oa/applyevent", body, idempotent=False)
        sp_no = data.get("sp_no")
        if not sp_no:
            raise UpstreamBadResponse("WeCom applyevent answered without sp_no")
        return WriteResult(remote_id=str(sp_no), raw=data)

    # --- callbacks -----------------------------------------------------------------------------------

    def _crypt(self) -> MsgCrypt:
        token = self.config.credentials.get("callback_token") or self.config.webhook_secret
        if not token:
            raise ConnectorConfigError("wecom: callback_token (or a webhook secret) is required")
        try:
            return MsgCrypt(token, self.config.credential("callback_aes_key"), self.config.credentials.get("corp_id"))
        except ValueError as exc:
            raise ConnectorConfigError(f"wecom: {exc}") from None

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        raw_body: bytes,
        *,
        query: Mapping[str, str] | None = None,
        now: datetime | None = None,
        seen: SeenCallback | None = None,
    ) -> WebhookEvent:
        query = {k.lower(): v for k, v in (query or {}).items()}
        crypt = self._crypt()
        timestamp, nonce, signature = query.get("timestamp"), query.get("nonce"), query.get("msg_signature")
        current = epoch_now(now)
        tolerance = float(self.config.settings.get("webhook_tolerance_seconds", 300))
        if not raw_body.strip() and query.get("echostr"):  # URL verification (GET)
            crypt.verify(signature, timestamp, nonce, query["echostr"])
            check_timestamp(int(timestamp or 0), now=current, tolerance=tolerance)
            echo = crypt.decrypt(query["echostr"])
            return WebhookEvent(
                event_id=f"url_verification:{timestamp}:{nonce}",
                model=None,
                remote_id=None,
                type="url_verification",
                payload={},
                reply=WebhookReply(200, echo),
            )
        outer = parse_xml(raw_body)
        encrypted = outer.get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise WebhookPayloadInvalid("WeCom callback lacks Encrypt")
        crypt.verify(signature, timestamp, nonce, encrypted)
        check_timestamp(int(timestamp) if timestamp and timestamp.isdigit() else 0, now=current, tolerance=tolerance)
        event = parse_xml(crypt.decrypt(encrypted))
        event_type = str(event.get("Event") or event.get("MsgType") or "")
        info = n.as_dict(event.get("ApprovalInfo"))
        sp_no = info.get("SpNo") or None
        change = str(info.get("StatuChangeEvent") or "")
        event_id = f"wecom:{sp_no}:{change}:{event.get('CreateTime')}:{info.get('SpStatus')}"
        if seen is not None and seen(event_id):
            raise ReplayDetected(f"event {event_id} was already received", event_id=event_id)
        hints: dict[str, Any] = {}
        try:
            status = sp_status(info.get("SpStatus"), "$.ApprovalInfo.SpStatus") if info.get("SpStatus") else None
            occurred = n.when(event, "CreateTime", "$", "epoch_s")
        except NormalizationError as exc:
            raise WebhookPayloadInvalid(f"WeCom event: {exc.message}") from None
        if status is not None:
            hints["status"] = status
        return WebhookEvent(
            event_id=event_id,
            model="approval" if event_type == "sys_approval_change" and sp_no else None,
            remote_id=str(sp_no) if sp_no else None,
            type=f"{event_type}:{_CHANGE.get(int(change), change) if change.isdigit() else change}",
            payload=event,
            hints=hints,
            occurred_at=occurred,
            reply=WebhookReply(200, b""),
        )


def _updated(payload: Mapping[str, Any]) -> datetime | None:
    """Newest of apply_time and every sptime (a cheap watermark; broken values are skipped)."""
    stamps = [payload.get("apply_time")]
    for node in payload.get("sp_record") or []:
        if isinstance(node, dict):
            stamps += [d.get("sptime") for d in node.get("details") or [] if isinstance(d, dict)]
    values = [int(s) for s in stamps if isinstance(s, int) and not isinstance(s, bool) and s > 0]
    return datetime.fromtimestamp(max(values), UTC) if values else None
