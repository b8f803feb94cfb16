"""`MockConnector`: the contract over a handler function, as ``httpx.MockTransport`` is for HTTP.

The mock speaks the simplest dialect there is, canonical JSON, so tests of the hub can script an upstream
with one function and still run the real HTTP machinery (retries, size limits, error mapping):

- ``GET /{model}?cursor=&since=`` -> ``{"items": [<canonical record JSON>], "next": <cursor or null>}``
- ``GET /{model}/{remote_id}`` -> one record
- ``POST /writes/{operation}`` (``Idempotency-Key`` header) -> ``{"remote_id": ..., "status"?: ...}``
- webhooks: Standard Webhooks, body ``{"type", "model", "data": <record JSON>}``

`MockUpstream` is a ready handler over in-memory records that pages, filters on ``since`` and remembers
writes.

Example:
    >>> upstream = MockUpstream({"job": [{"remote_id": "J1", "title": "Backend"}]})
    >>> connector = MockConnector(upstream.handler)
    >>> import asyncio
    >>> page = asyncio.run(connector.read_page("job"))
    >>> connector.normalize("job", page.items[0].payload).title
    'Backend'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from connectors.base import (
    WRITE_OPERATIONS,
    Capability,
    ConnectionConfig,
    Connector,
    Page,
    RawItem,
    SeenCallback,
    WebhookEvent,
    WriteResult,
    epoch_now,
    headers_lower,
)
from connectors.errors import (
    MappingError,
    NormalizationError,
    ReplayDetected,
    UnsupportedOperation,
    UpstreamBadResponse,
)
from connectors.times import format_time, parse_time
from connectors.webhooks import parse_json_body, verify_standard_webhook
from schema.records import RECORD_TYPES, CanonicalRecord

__all__ = ["MOCK_WEBHOOK_SECRET", "Handler", "MockConnector", "MockUpstream"]

MOCK_WEBHOOK_SECRET = "whsec_bW9jay13ZWJob29rLXNlY3JldA=="  # noqa: S105 - a test fixture, public on purpose

Handler = Callable[[httpx.Request], Any]
"""``handler(request) -> httpx.Response`` (or an awaitable of one), as for ``httpx.MockTransport``."""

_ALL = frozenset({Capability.READ, Capability.WRITE, Capability.WEBHOOK})


class MockConnector(Connector):
    """A connector whose upstream is a handler function. ``MockConnector(handler)`` or, as the registry
    builds connectors, ``MockConnector(config, transport=...)``."""

    kind: ClassVar[str] = "mock"
    version: ClassVar[str] = "1.0.0"
    display_name: ClassVar[str] = "Mock connector (canonical JSON over a handler)"
    capabilities: ClassVar[Mapping[str, frozenset[Capability]]] = dict.fromkeys(RECORD_TYPES, _ALL)
    write_operations: ClassVar[frozenset[str]] = frozenset(WRITE_OPERATIONS)
    webhook_scheme: ClassVar[str | None] = "standard_webhooks"
    source: ClassVar[str] = "mock"

    def __init__(self, handler: Handler | ConnectionConfig | None = None, /, **kwargs: Any) -> None:
        if isinstance(handler, ConnectionConfig):
            config = handler
        else:
            config = kwargs.pop("config", None) or ConnectionConfig(
                base_url="http://mock.invalid", webhook_secret=MOCK_WEBHOOK_SECRET
            )
            if handler is not None:
                kwargs["transport"] = httpx.MockTransport(handler)
        super().__init__(config, **kwargs)

    async def read_page(self, model: str, *, cursor: str | None = None, since: datetime | None = None) -> Page:
        self._require(model, Capability.READ)
        params = {"cursor": cursor, "since": format_time(since, "iso8601") if since else None}
        data = await self.http.get_json(f"/{model}", params=params)
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise UpstreamBadResponse(f"/{model}: expected {{items: [...], next}}")
        items = [RawItem(str(i.get("remote_id", "")) if isinstance(i, dict) else "", i) for i in data["items"]]
        stamps = []
        for item in items:
            try:
                stamps.append(
                    parse_time(item.payload.get("remote_updated_at")) if isinstance(item.payload, dict) else None
                )
            except ValueError:
                continue
        return Page(items, data.get("next") or None, max((s for s in stamps if s), default=None))

    async def fetch(self, model: str, remote_id: str) -> RawItem:
        self._require(model, Capability.READ)
        data = await self.http.get_json(f"/{model}/{quote(remote_id, safe='')}")
        if not isinstance(data, dict):
            raise UpstreamBadResponse(f"/{model}/{{id}}: expected an object")
        return RawItem(remote_id, data)

    def normalize(self, model: str, payload: Mapping[str, Any]) -> CanonicalRecord:
        record_type = RECORD_TYPES.get(model)
        if record_type is None:
            raise UnsupportedOperation(f"mock does not normalize model {model!r}")
        if not isinstance(payload, Mapping):
            raise NormalizationError(f"expected a JSON object, got {type(payload).__name__}", model=model)
        try:
            return record_type.model_validate(payload)
        except ValidationError as exc:
            errors = [
                MappingError(
                    "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"]),
                    e["msg"],
                    ".".join(str(p) for p in e["loc"]),
                )
                for e in exc.errors(include_url=False)
            ]
            raise NormalizationError.from_errors(errors, model=model) from None

    async def write(self, operation: str, payload: Mapping[str, Any], *, idempotency_key: str) -> WriteResult:
        if operation not in self.write_operations:
            raise self._unsupported_write(operation)
        data = await self.http.send_json(
            "POST", f"/writes/{operation}", dict(payload), headers={"Idempotency-Key": idempotency_key}, idempotent=True
        )
        if not isinstance(data, dict):
            raise UpstreamBadResponse("write answer is not an object")
        remote_id = data.get("remote_id")
        return WriteResult(None if remote_id is None else str(remote_id), data, data.get("status"))

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        raw_body: bytes,
        *,
        query: Mapping[str, str] | None = None,
        now: datetime | None = None,
        seen: SeenCallback | None = None,
    ) -> WebhookEvent:
        msg_id = verify_standard_webhook(
            headers_lower(headers), raw_body, self.config.webhook_secrets(), now=epoch_now(now)
        )
        if seen is not None and seen(msg_id):
            raise ReplayDetected(f"event {msg_id} was already received", event_id=msg_id)
        body = parse_json_body(raw_body)
        model = body.get("model") if body.get("model") in RECORD_TYPES else None
        data = body["data"] if isinstance(body.get("data"), dict) else None
        remote_id = str(data["remote_id"]) if data and data.get("remote_id") is not None else None
        item = RawItem(remote_id, data) if data is not None and remote_id else None
        return WebhookEvent(msg_id, model, remote_id, str(body.get("type") or "event"), body, item=item)


class MockUpstream:
    """An in-memory canonical upstream for `MockConnector`: pages of ``page_size``, ``since`` filtering on
    ``remote_updated_at``, and every write remembered in ``writes`` as ``(operation, payload, key)``."""

    def __init__(self, records: Mapping[str, list[dict[str, Any]]] | None = None, *, page_size: int = 2) -> None:
        self.records = {model: list(items) for model, items in (records or {}).items()}
        self.page_size = page_size
        self.writes: list[tuple[str, dict[str, Any], str | None]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        parts = [p for p in request.url.path.split("/") if p]
        if request.method == "POST" and len(parts) == 2 and parts[0] == "writes":
            payload = json.loads(request.content or b"{}")
            self.writes.append((parts[1], payload, request.headers.get("idempotency-key")))
            return httpx.Response(200, json={"remote_id": f"w{len(self.writes)}", "status": "OK"})
        if request.method != "GET" or not parts or parts[0] not in RECORD_TYPES:
            return httpx.Response(404, json={"detail": "not found"})
        items = self.records.get(parts[0], [])
        if len(parts) == 2:
            found = next((i for i in items if str(i.get("remote_id")) == parts[1]), None)
            return httpx.Response(200, json=found) if found else httpx.Response(404, json={"detail": "not found"})
        since = parse_time(request.url.params.get("since")) if request.url.params.get("since") else None
        if since is not None:
            items = [i for i in items if (parse_time(i.get("remote_updated_at")) or since) >= since]
        start = int(request.url.params.get("cursor") or 0)
        page = items[start : start + self.page_size]
        more = start + self.page_size < len(items)
        return httpx.Response(200, json={"items": page, "next": str(start + self.page_size) if more else None})
