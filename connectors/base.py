"""The connector contract: one upstream system, read in pages, normalized, written to, called back.

A connector is constructed per *connection* (one tenant's configured instance of a system) and holds an
``httpx.AsyncClient``. The hub drives it; a connector never touches the database, Redis or GraphQL.

- **Read** (pull sync): ``await read_page(model, cursor=..., since=...)`` returns one `Page` of raw items
  and the cursor of the next page (None: done). ``since`` asks for an incremental read (records changed at
  or after it); ``Page.watermark`` is the newest ``updated_at`` seen on the page, for the hub to keep as
  the next ``since`` once the whole run succeeded. ``await fetch(model, remote_id)`` reads one record.
- **Normalize**: ``normalize(model, payload)`` is pure and fast. It returns a canonical record from
  ``schema.records`` or raises `NormalizationError` (path + reason); the hub quarantines that payload and
  carries on with the rest of the page.
- **Write**: ``await write(operation, payload, idempotency_key=...)`` performs one write-back, described by
  a canonical payload (see `WRITE_OPERATIONS`), and returns the upstream's id for what was written.
- **Webhooks**: ``verify_webhook(headers, raw_body, query=..., now=..., seen=...)`` authenticates and
  decodes one delivery on the raw bytes, before anything parses them, and returns a `WebhookEvent` whose
  ``reply`` the hub sends back verbatim (DingTalk wants an encrypted ``success``, Feishu its challenge).

Errors are the ones in `connectors.errors`; every one has a stable ``code``.

Example:
    >>> import httpx
    >>> from connectors.base import ConnectionConfig
    >>> from connectors.hr import HrConnector
    >>> async def pull(transport: httpx.AsyncBaseTransport) -> list:
    ...     config = ConnectionConfig(base_url="https://hr.example.com/api",
    ...                               credentials={"api_key": "k"}, webhook_secret="s")
    ...     records, cursor = [], None
    ...     async with HrConnector(config, transport=transport) as hr:
    ...         while True:
    ...             page = await hr.read_page("candidate", cursor=cursor, since=None)
    ...             records += [hr.normalize("candidate", item.payload) for item in page.items]
    ...             if (cursor := page.next_cursor) is None:
    ...                 return records

Canonical write payloads (``WRITE_OPERATIONS``) are the same for every connector that supports an
operation, so a workflow can start an approval without knowing which OA dialect the tenant uses.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, ClassVar

import httpx

from connectors.errors import ConnectorConfigError, InvalidCursor, UnsupportedOperation, WritePayloadInvalid
from connectors.http import CircuitBreaker, RetryPolicy, UpstreamClient
from schema.records import ApprovalStatus, CanonicalRecord

__all__ = [
    "WRITE_OPERATIONS",
    "Capability",
    "ConnectionConfig",
    "Connector",
    "ConnectorInfo",
    "Page",
    "RawItem",
    "SeenCallback",
    "WebhookEvent",
    "WebhookReply",
    "WriteResult",
    "decode_cursor",
    "encode_cursor",
    "headers_lower",
    "require_keys",
]


class Capability(StrEnum):
    """What a connector can do with one model."""

    READ = "read"
    WRITE = "write"
    WEBHOOK = "webhook"


# Canonical payload of each write operation: key -> meaning. Connectors translate these into their
# dialect; unknown keys are ignored and a missing required key raises ``WritePayloadInvalid`` before any
# request is sent (a bug in the caller, so retrying will not help).
WRITE_OPERATIONS: Mapping[str, Mapping[str, str]] = {
    "application.change_stage": {
        "application_remote_id": "required: the application to move",
        "stage_remote_id": "required: the target interview stage (remote id)",
        "reason": "optional: free text kept in the upstream's activity log",
    },
    "application.screening_results": {
        "application_remote_id": "required",
        "score": "required: 0..100",
        "passed": "required: bool, the screening decision",
        "rank": "optional: int",
        "reasons": "optional: list of strings (explanations with evidence)",
        "run_id": "optional: the hub's screening run id",
    },
    "application.note": {
        "application_remote_id": "required: the application the note is about",
        "subject": "required: one line",
        "body": "required: the text the recruiters read",
        "visibility": "optional: ADMIN_ONLY (default upstream), PUBLIC, PRIVATE",
        "remote_user_id": "optional: the author's user id in the HR system",
    },
    "interview.create": {
        "application_remote_id": "required",
        "stage_remote_id": "optional",
        "organizer": "optional: user id",
        "interviewers": "optional: list of user ids",
        "location": "optional",
        "start_at": "required: ISO 8601",
        "end_at": "required: ISO 8601",
    },
    "approval.create": {
        "definition_code": "required: DingTalk processCode, WeCom template_id, Feishu approval_code",
        "originator": "required: the applicant's user id in the OA system",
        "department_id": "optional (DingTalk needs it in practice)",
        "approvers": "optional: list of {user_ids: [..], mode: AND|OR}; absent: the template's approvers",
        "form": "required: list of {id, name, value}; value is text (non-strings are JSON-encoded)",
        "report": "optional: {summary, url, score} appended as a text field (setting report_field_id)",
        "summary": "optional: one-line summary shown in the approval list (WeCom summary_list)",
    },
    "session.invite": {
        "candidate_remote_id": "required",
        "application_remote_id": "optional",
        "job_remote_id": "optional",
        "package_id": "required: the question package",
        "email": "optional",
        "phone": "optional",
        "expires_at": "optional: ISO 8601",
    },
    "notification.push": {
        "to": "required: recipient id in the app",
        "title": "required",
        "body": "required",
        "deep_link": "optional",
        "data": "optional: dict",
    },
}


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    """One tenant's configuration of a connector, as the hub stores it (credentials decrypted).

    ``credentials`` hold secrets (tokens, app secrets, AES keys), ``settings`` hold non-secret options
    (page size, process codes, rate limits), ``webhook_secret`` authenticates inbound webhooks; rotation
    is a space-separated list ("new old").
    """

    base_url: str
    credentials: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    webhook_secret: str | None = None

    def __repr__(self) -> str:  # never print secrets
        return f"ConnectionConfig(base_url={self.base_url!r}, credentials=<{len(self.credentials)} hidden>)"

    def credential(self, name: str, *alternatives: str) -> str:
        """A required credential (first of ``name`` and ``alternatives`` present)."""
        for key in (name, *alternatives):
            value = self.credentials.get(key)
            if value:
                return value
        raise ConnectorConfigError(f"credential {name!r} is required for this connector")

    def webhook_secrets(self) -> list[str]:
        """Every currently valid webhook secret (several during rotation)."""
        if not self.webhook_secret:
            raise ConnectorConfigError("this connection has no webhook secret")
        return self.webhook_secret.split()


@dataclass(frozen=True, slots=True)
class RawItem:
    """One upstream object as received: its remote id and the raw JSON payload."""

    remote_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a read. ``next_cursor`` None means the read is complete; ``watermark`` is the newest
    remote ``updated_at`` on the page (None when the dialect does not expose one)."""

    items: list[RawItem]
    next_cursor: str | None = None
    watermark: datetime | None = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a write produced upstream: the remote id of the created or changed object, the raw answer, and
    for operations with a delivery outcome a canonical ``status`` (``notification.push``: DELIVERED, FAILED,
    SENT; ``session.invite``: INVITED)."""

    remote_id: str | None
    raw: dict[str, Any]
    status: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookReply:
    """The HTTP answer the vendor expects for a delivery (send it verbatim, fast)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One authenticated inbound event.

    Attributes:
        event_id: stable per event (deliveries of the same event share it); dedupe on it.
        model: canonical model name (``approval``), ``notification`` for delivery receipts, or None for a
            handshake (URL verification) that needs only ``reply``.
        remote_id: id of the object the event is about (fetch it with ``Connector.fetch``).
        type: the vendor's event type (``bpms_instance_change``, ``candidate.updated``).
        payload: the decoded (decrypted) event body.
        item: the full object when the event carries one (normalize it directly), else None.
        hints: canonical field values the event asserts (``status``, ``remote_updated_at``) that a fetched
            record may not show yet (Feishu's REVERTED and OVERTIME_CLOSE exist only in events); apply them
            with ``record.model_copy(update=hints)`` when the event is newer.
        occurred_at: when the vendor says the event happened.
        reply: the answer to send.
    """

    event_id: str
    model: str | None
    remote_id: str | None
    type: str
    payload: dict[str, Any]
    item: RawItem | None = None
    hints: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None
    reply: WebhookReply = field(default_factory=WebhookReply)

    @property
    def actionable(self) -> bool:
        """False for handshakes and ignored event types; True when the hub should process the event."""
        return self.model is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, for the hub to keep the event between the fast acknowledgement and the job
        that processes it (the reply is not kept: it was sent)."""
        return {
            "event_id": self.event_id,
            "model": self.model,
            "remote_id": self.remote_id,
            "type": self.type,
            "payload": self.payload,
            "item": None if self.item is None else {"remote_id": self.item.remote_id, "payload": self.item.payload},
            "hints": {k: _json_value(v) for k, v in self.hints.items()},
            "occurred_at": None if self.occurred_at is None else self.occurred_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WebhookEvent:
        """The inverse of `to_dict`; hints come back as JSON values (pydantic accepts them on copy)."""
        item = data.get("item")
        occurred = data.get("occurred_at")
        return cls(
            event_id=data["event_id"],
            model=data.get("model"),
            remote_id=data.get("remote_id"),
            type=data.get("type", ""),
            payload=dict(data.get("payload") or {}),
            item=RawItem(item["remote_id"], item["payload"]) if item else None,
            hints=_hints_from_json(data.get("hints") or {}),
            occurred_at=datetime.fromisoformat(occurred) if occurred else None,
        )


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value


def _hints_from_json(hints: Mapping[str, Any]) -> dict[str, Any]:
    # Hints hold canonical values; times come back as datetimes so model_copy(update=...) stays typed.
    out: dict[str, Any] = {}
    for key, value in hints.items():
        if key.endswith(("_at", "_updated_at")) and isinstance(value, str):
            out[key] = datetime.fromisoformat(value)
        elif key == "status" and isinstance(value, str) and value in _APPROVAL_STATUSES:
            out[key] = ApprovalStatus(value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True, slots=True)
class ConnectorInfo:
    """What a connector kind offers, for the registry, GraphQL and ``hub connectors`` (JSON-safe)."""

    kind: str
    version: str
    display_name: str
    capabilities: dict[str, list[str]]
    write_operations: list[str]
    webhook_scheme: str | None
    source: str  # "builtin", "entry_point", "manifest"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "version": self.version,
            "display_name": self.display_name,
            "capabilities": self.capabilities,
            "write_operations": self.write_operations,
            "webhook_scheme": self.webhook_scheme,
            "source": self.source,
        }


_APPROVAL_STATUSES = frozenset(s.value for s in ApprovalStatus)

SeenCallback = Callable[[str], bool]
"""``seen(event_id) -> bool``: True when the hub already processed (or is processing) this event."""

Sleep = Callable[[float], Awaitable[None]]


def headers_lower(headers: Mapping[str, str] | Sequence[tuple[str, str]]) -> dict[str, str]:
    """Header names lower-cased (any mapping, ``httpx.Headers``, Starlette headers or pairs)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return {str(k).lower(): str(v) for k, v in pairs}


class Connector(abc.ABC):
    """Base class of every connector; subclasses set the class attributes and implement the methods.

    Construct with the connection's config and, for tests, a transport (``httpx.MockTransport``) or a
    ready client. The hub may pass the connection's `CircuitBreaker`, a `RetryPolicy`, a ``timeout``
    (seconds or ``httpx.Timeout``; default connect 5 s, read 30 s), ``max_response_bytes`` (default 16 MiB),
    a ``clock`` for the breaker and rate limiter (``time.time`` when the breaker's state is shared between
    processes; default ``time.monotonic``) and a ``sleep`` (tests pass one that does not wait).
    Use as an async context manager, or call ``aclose()``.
    """

    kind: ClassVar[str]
    version: ClassVar[str] = "1.0.0"
    display_name: ClassVar[str] = ""
    capabilities: ClassVar[Mapping[str, frozenset[Capability]]] = {}
    write_operations: ClassVar[frozenset[str]] = frozenset()
    webhook_scheme: ClassVar[str | None] = None
    default_page_size: ClassVar[int] = 100
    source: ClassVar[str] = "builtin"

    def __init__(
        self,
        config: ConnectionConfig,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Sleep = asyncio.sleep,
        max_response_bytes: int | None = None,
        timeout: httpx.Timeout | float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.http = UpstreamClient(
            config.base_url,
            client=client,
            transport=transport,
            retry=retry,
            breaker=breaker,
            sleep=sleep,
            clock=clock,
            max_response_bytes=max_response_bytes,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)) if isinstance(timeout, int | float) else timeout,
            requests_per_minute=config.settings.get("requests_per_minute"),
        )

    # --- lifecycle ---------------------------------------------------------------------------------

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Connector:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- description -------------------------------------------------------------------------------

    @classmethod
    def info(cls) -> ConnectorInfo:
        return ConnectorInfo(
            kind=cls.kind,
            version=cls.version,
            display_name=cls.display_name or cls.kind,
            capabilities={m: sorted(c.value for c in caps) for m, caps in sorted(cls.capabilities.items())},
            write_operations=sorted(cls.write_operations),
            webhook_scheme=cls.webhook_scheme,
            source=cls.source,
        )

    @classmethod
    def supports(cls, model: str, capability: Capability) -> bool:
        return capability in cls.capabilities.get(model, frozenset())

    def _require(self, model: str, capability: Capability) -> None:
        if not self.supports(model, capability):
            raise UnsupportedOperation(f"{self.kind} does not {capability.value} model {model!r}")

    @property
    def page_size(self) -> int:
        size = int(self.config.settings.get("page_size", self.default_page_size))
        return max(1, min(size, self.default_page_size))

    # --- the contract ------------------------------------------------------------------------------

    @abc.abstractmethod
    async def read_page(self, model: str, *, cursor: str | None = None, since: datetime | None = None) -> Page:
        """Read one page of ``model``; pass back ``next_cursor`` (and the same ``since``) for the next.

        Raises:
            UnsupportedOperation: the model is not readable.
            UpstreamError: the upstream failed after retries (subclass says how).
        """

    async def fetch(self, model: str, remote_id: str) -> RawItem:
        """Read one object by remote id (after a webhook that only names it)."""
        raise UnsupportedOperation(f"{self.kind} cannot fetch single {model!r} records")

    @abc.abstractmethod
    def normalize(self, model: str, payload: Mapping[str, Any]) -> CanonicalRecord:
        """Turn one raw payload into a canonical record. Pure; no I/O.

        Raises:
            NormalizationError: with the JSON ``path`` and ``reason`` of the (first) problem.
        """

    async def write(self, operation: str, payload: Mapping[str, Any], *, idempotency_key: str) -> WriteResult:
        """Perform one write-back described by a canonical payload (see ``WRITE_OPERATIONS``).

        ``idempotency_key`` is stable across retries of the same job; connectors forward it where the
        vendor supports one (HTTP ``Idempotency-Key``, Feishu ``uuid``).
        """
        raise UnsupportedOperation(f"{self.kind} supports no write operation {operation!r}")

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        raw_body: bytes,
        *,
        query: Mapping[str, str] | None = None,
        now: datetime | None = None,
        seen: SeenCallback | None = None,
    ) -> WebhookEvent:
        """Authenticate and decode one delivery; check ``seen(event_id)`` after authentication.

        ``query`` carries the URL's query parameters (DingTalk and WeCom sign there); ``now`` is injectable.

        Raises:
            SignatureInvalid, TimestampOutOfTolerance, ReplayDetected, WebhookPayloadInvalid.
        """
        raise UnsupportedOperation(f"{self.kind} does not receive webhooks")

    async def load_event(self, event: WebhookEvent) -> RawItem:
        """The full object an actionable event is about: ``event.item`` or a fetch by remote id.

        Connectors whose read-by-id answer lacks something the event knows (DingTalk's processCode)
        override this to merge it in.
        """
        if event.item is not None:
            return event.item
        if event.model is None or event.remote_id is None:
            raise UnsupportedOperation(f"event {event.type!r} is not about a record")
        return await self.fetch(event.model, event.remote_id)

    def normalize_event(self, event: WebhookEvent, item: RawItem) -> CanonicalRecord:
        """``normalize`` the loaded object, then apply ``event.hints`` unless the record is newer.

        Raises:
            NormalizationError: quarantine ``item.payload``.
        """
        if event.model is None:
            raise UnsupportedOperation(f"event {event.type!r} is not about a record")
        record = self.normalize(event.model, item.payload)
        if not event.hints:
            return record
        newer = record.remote_updated_at
        if newer is not None and event.occurred_at is not None and newer > event.occurred_at:
            return record
        return record.model_copy(update=dict(event.hints))

    # --- helpers for subclasses --------------------------------------------------------------------

    def _unsupported_write(self, operation: str) -> UnsupportedOperation:
        return UnsupportedOperation(
            f"{self.kind} supports no write operation {operation!r}; "
            f"it supports {', '.join(sorted(self.write_operations)) or 'none'}"
        )


def encode_cursor(state: Mapping[str, Any]) -> str:
    """An opaque cursor (base64url JSON) from a connector's paging state."""
    raw = json.dumps(dict(state), separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The paging state inside a cursor made by `encode_cursor`; `InvalidCursor` otherwise."""
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor("cursor was not produced by this connector; restart the read") from None
    if not isinstance(state, dict):
        raise InvalidCursor("cursor was not produced by this connector; restart the read")
    return state


def require_keys(operation: str, payload: Mapping[str, Any], *keys: str) -> None:
    """Raise `WritePayloadInvalid` naming every required key that is missing or empty."""
    missing = [k for k in keys if payload.get(k) in (None, "", [])]
    if missing:
        raise WritePayloadInvalid(f"{operation} needs {', '.join(missing)} in its payload")


def epoch_now(now: datetime | None) -> float:
    return now.timestamp() if now is not None else time.time()
