"""Connectors, connections, sync states and runs, quarantine and outbound webhooks as integrators see them.

Secrets never appear: a connection shows whether it has a webhook secret, not the secret; a quarantined
record's raw payload is shown per the field policy for ``quarantine.raw`` (admins only, audited).
Nested lists resolve through the integration service in the request context
(``info.context.services["integration"]``).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.relay import Connection, Node, decode_cursor, encode_global_id

__all__ = [
    "ConnectorDefinition",
    "ConnectorKind",
    "ModelCapabilities",
    "QuarantinedRecord",
    "RemoteCopy",
    "SyncRun",
    "SyncState",
    "SyncStatus",
    "UpstreamConnection",
    "WebhookDelivery",
    "WebhookSubscription",
    "integration",
    "page_of",
]


def integration(info: Info) -> Any:
    """The integration service of the request (see ``hub.services.integration``)."""
    return info.context.services["integration"]


async def page_of(info: Info, fetch: Any, wrap: Any, first: int, after: str | None) -> Any:
    limit = info.context.settings.max_page_size if info.context.settings else 100
    if first < 0 or first > limit:
        from schema.errors import ValidationFailed

        raise ValidationFailed(f"first must be between 0 and {limit}", field="first")
    after_id = decode_cursor(after)
    page = await fetch(first, after_id)
    return Connection.build(
        page.rows, has_next=page.has_next, has_previous=after_id is not None, total=page.total, wrap=wrap
    )


@strawberry.enum(description="Sync status of one model of a connection.")
class SyncStatus(Enum):
    SYNCING = "SYNCING"
    DONE = "DONE"
    PARTIALLY_SYNCED = "PARTIALLY_SYNCED"
    FAILED = "FAILED"
    PAUSED = "PAUSED"


@strawberry.type
class ModelCapabilities:
    model: str
    capabilities: list[str] = strawberry.field(description="read, write, webhook")


@strawberry.type(description="A connector kind the tenant can connect: built-in, plug-in or registered manifest.")
class ConnectorKind:
    kind: str
    version: str
    display_name: str
    source: str
    models: list[ModelCapabilities]
    write_operations: list[str]
    webhook_scheme: str | None

    @classmethod
    def from_info(cls, info: Any) -> ConnectorKind:
        return cls(
            kind=info.kind,
            version=info.version,
            display_name=info.display_name,
            source=info.source,
            models=[ModelCapabilities(model=k, capabilities=list(v)) for k, v in sorted(info.capabilities.items())],
            write_operations=list(info.write_operations),
            webhook_scheme=info.webhook_scheme,
        )


@strawberry.type(description="A registered manifest version.")
class ConnectorDefinition(Node):
    id: strawberry.ID
    kind: str
    version: str
    source: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> ConnectorDefinition:
        return cls(
            id=strawberry.ID(encode_global_id("ConnectorDefinition", row.id)),
            kind=row.kind,
            version=row.version,
            source=row.source,
            created_at=row.created_at,
        )


@strawberry.type(description="Sync bookkeeping of one model of a connection.")
class SyncState:
    model: str
    status: SyncStatus
    watermark: datetime | None = strawberry.field(description="Newest upstream change a completed run saw.")
    last_full_sync_at: datetime | None
    last_error: str | None = strawberry.field(description="`CODE: message` of the last failure, if any.")
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> SyncState:
        return cls(
            model=row.model,
            status=SyncStatus(row.status),
            watermark=row.watermark,
            last_full_sync_at=row.last_full_sync_at,
            last_error=row.last_error,
            updated_at=row.updated_at,
        )


@strawberry.type(description="One sync run: a model read from the upstream, with its counts.")
class SyncRun(Node):
    id: strawberry.ID
    model: str
    mode: str = strawberry.field(description="incremental or full")
    status: str = strawberry.field(description="QUEUED, SYNCING, DONE, PARTIALLY_SYNCED, FAILED or SKIPPED")
    started_at: datetime | None
    finished_at: datetime | None
    error_code: str | None
    stats: JSON = strawberry.field(
        description="pages, read, created, updated, unchanged, deleted, skipped, quarantined, watermark"
    )

    @classmethod
    def from_row(cls, row: Any) -> SyncRun:
        return cls(
            id=strawberry.ID(encode_global_id("SyncRun", row.id)),
            model=row.model,
            mode=row.mode,
            status=row.status,
            started_at=row.started_at,
            finished_at=row.finished_at,
            error_code=row.error_code,
            stats={k: v for k, v in (row.stats or {}).items() if k != "cursor"},
        )


@strawberry.type(description="An upstream record that did not become a canonical record, kept with the reason.")
class QuarantinedRecord(Node):
    _row: strawberry.Private[Any]
    id: strawberry.ID
    model: str
    remote_id: str | None
    code: str | None = strawberry.field(description="NORMALIZATION_FAILED, REFERENCE_UNRESOLVED ...")
    reason: str
    path: str | None = strawberry.field(description="JSON path in the upstream payload of the first problem.")
    errors: JSON | None = strawberry.field(description="Every mapping error: {path, field, reason}.")
    status: str = strawberry.field(description="OPEN, REPLAYED, RESOLVED or DISCARDED")
    created_at: datetime
    replayed_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> QuarantinedRecord:
        return cls(
            _row=row,
            id=strawberry.ID(encode_global_id("QuarantinedRecord", row.id)),
            model=row.model,
            remote_id=row.remote_id,
            code=row.code,
            reason=row.reason,
            path=row.path,
            errors=row.errors,
            status=row.status,
            created_at=row.created_at,
            replayed_at=row.replayed_at,
        )

    @strawberry.field(description="The raw upstream payload (sensitive: shown per the policy for quarantine.raw).")
    def raw(self, info: Info) -> JSON | None:
        import json

        value = info.context.presenter.present("quarantine", "raw", self._row, None)
        if value is None:
            return None
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            return None  # masked


@strawberry.type
class CircuitState:
    state: str = strawberry.field(description="CLOSED, OPEN or HALF_OPEN")
    failures: int
    retry_after_seconds: float


@strawberry.type(description="A tenant's configured instance of a connector. Credentials are never shown.")
class UpstreamConnection(Node):
    _row: strawberry.Private[Any]
    id: strawberry.ID
    name: str
    kind: str
    base_url: str
    status: str = strawberry.field(description="ACTIVE, PAUSED or DISABLED")
    settings: JSON
    has_webhook_secret: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> UpstreamConnection:
        return cls(
            _row=row,
            id=strawberry.ID(encode_global_id("UpstreamConnection", row.id)),
            name=row.name,
            kind=row.connector_kind,
            base_url=row.base_url,
            status=row.status,
            settings=row.settings or {},
            has_webhook_secret=bool(row.webhook_secret),
            created_at=row.created_at,
        )

    @strawberry.field(description="Where the upstream sends its webhooks for this connection.")
    def webhook_url(self, info: Info) -> str:
        path = f"/webhooks/{self._row.id}"
        request = info.context.request
        return str(request.base_url).rstrip("/") + path if request is not None else path

    @strawberry.field(description="The connection's circuit breaker, shared by every worker.")
    def circuit(self) -> CircuitState:
        from time import time

        state = self._row.breaker or {}
        opened = state.get("opened_at")
        reset = float((self._row.settings or {}).get("breaker_reset", state.get("reset_after", 30.0)))
        now = time()
        if opened is None:
            return CircuitState(state="CLOSED", failures=int(state.get("failures", 0)), retry_after_seconds=0.0)
        left = max(0.0, float(opened) + reset - now)
        return CircuitState(
            state="OPEN" if left > 0 else "HALF_OPEN", failures=int(state.get("failures", 0)), retry_after_seconds=left
        )

    @strawberry.field(description="Status, watermark and last error per model.")
    async def sync_states(self, info: Info) -> list[SyncState]:
        rows = await integration(info).sync_states(info.context.viewer, self._row.id)
        return [SyncState.from_row(r) for r in rows]

    @strawberry.field(description="Sync runs, newest first.")
    async def sync_runs(self, info: Info, first: int = 20, after: str | None = None) -> Connection[SyncRun]:
        service, viewer = integration(info), info.context.viewer
        return await page_of(
            info, lambda n, a: service.sync_runs(viewer, self._row.id, n, a), SyncRun.from_row, first, after
        )

    @strawberry.field(description="Quarantined records, newest first (optionally one status: OPEN ...).")
    async def quarantine(
        self, info: Info, first: int = 20, after: str | None = None, status: str | None = None
    ) -> Connection[QuarantinedRecord]:
        service, viewer = integration(info), info.context.viewer
        return await page_of(
            info,
            lambda n, a: service.quarantined(viewer, self._row.id, status, n, a),
            QuarantinedRecord.from_row,
            first,
            after,
        )


@strawberry.type(description="One attempt log entry of an outbound webhook delivery.")
class WebhookDelivery(Node):
    id: strawberry.ID
    event_id: strawberry.ID
    event_type: str | None
    attempt: int
    status: str = strawberry.field(description="PENDING, RETRYING, DELIVERED, FAILED or CANCELED")
    response_status: int | None
    error: str | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(encode_global_id("WebhookDelivery", row.id)),
            event_id=strawberry.ID(str(row.event_id)),
            event_type=row.event_type,
            attempt=row.attempt,
            status=row.status,
            response_status=row.response_status,
            error=row.error,
            delivered_at=row.delivered_at,
            next_attempt_at=row.next_attempt_at,
            created_at=row.created_at,
        )


@strawberry.type(description="An integrator's URL subscribed to hub events (Standard Webhooks signatures).")
class WebhookSubscription(Node):
    _row: strawberry.Private[Any]
    id: strawberry.ID
    url: str
    event_types: list[str]
    active: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> WebhookSubscription:
        return cls(
            _row=row,
            id=strawberry.ID(encode_global_id("WebhookSubscription", row.id)),
            url=row.url,
            event_types=list(row.event_types or []),
            active=row.active,
            created_at=row.created_at,
        )

    @strawberry.field(description="The delivery log, newest first.")
    async def deliveries(self, info: Info, first: int = 20, after: str | None = None) -> Connection[WebhookDelivery]:
        service, viewer = integration(info), info.context.viewer
        return await page_of(
            info, lambda n, a: service.deliveries(viewer, self._row.id, n, a), WebhookDelivery.from_row, first, after
        )


@strawberry.type(description="One upstream copy of a hub record: where it came from and when it was read.")
class RemoteCopy:
    connection_id: strawberry.ID
    connection_name: str
    kind: str
    remote_id: str
    shared_id: str | None = strawberry.field(description="The id other systems use for it (a vendor's own id).")
    remote_url: str | None
    remote_updated_at: datetime | None
    remote_deleted_at: datetime | None
    fetched_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> RemoteCopy:
        return cls(
            connection_id=strawberry.ID(encode_global_id("UpstreamConnection", row.connection_id)),
            connection_name=row.connection_name,
            kind=row.connector_kind,
            remote_id=row.remote_id,
            shared_id=row.alt_remote_id,
            remote_url=row.remote_url,
            remote_updated_at=row.remote_updated_at,
            remote_deleted_at=row.remote_deleted_at,
            fetched_at=row.fetched_at,
        )
