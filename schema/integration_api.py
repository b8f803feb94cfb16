"""The integrator's API: register connectors, create connections, sync, replay quarantine, subscribe webhooks.

Only principals with the ``admin`` or ``integrator`` role may use these fields (FORBIDDEN otherwise).
Resolvers are thin: they decode ids and call the integration service of the request context
(``info.context.services["integration"]``, supplied by ``hub.services.integration``).

Example::

    mutation { registerConnector(input: {manifest: "kind: acme_ats\\n..."}) { connector { kind version } } }
    query { connections { edges { node { name kind syncStates { model status watermark lastError } } } } }
"""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.errors import Forbidden, ValidationFailed
from schema.relay import Connection, decode_global_id, encode_global_id
from schema.types.integration import (
    ConnectorDefinition,
    ConnectorKind,
    RemoteCopy,
    SyncRun,
    SyncState,
    UpstreamConnection,
    WebhookSubscription,
    integration,
    page_of,
)

__all__ = ["IntegrationMutation", "IntegrationQuery"]

#: Global id type -> hub entity whose provenance `provenance(id:)` answers.
_PROVENANCE = {
    "Candidate": "candidate",
    "Job": "job",
    "Application": "application",
    "Interview": "interview",
    "InterviewSession": "interview_session",
    "ApprovalInstance": "approval",
    "Resume": "resume",
}


class IntegratorOnly(BasePermission):
    """Admins and integrators only."""

    error_class = Forbidden
    message = "Only admins and integrators can manage connectors and connections."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return bool(info.context.viewer.has_any("admin", "integrator"))

    def on_unauthorized(self) -> None:
        raise Forbidden(self.message, action="admin:integration")


def _guard() -> list[Any]:
    return [PermissionExtension(permissions=[IntegratorOnly()], use_directives=False)]


def _id(value: strawberry.ID, type_name: str) -> uuid.UUID:
    return decode_global_id(value, expect=type_name)[1]


# --- inputs and payloads --------------------------------------------------------------------------------


@strawberry.input(description="A manifest as YAML or JSON text (see docs/connectors.md).")
class RegisterConnectorInput:
    manifest: str


@strawberry.type
class RegisterConnectorPayload:
    connector: ConnectorKind
    definition: ConnectorDefinition
    created: bool = strawberry.field(description="False when this kind and version were already registered.")


@strawberry.input(description="Preview a mapping: a manifest (or the kind of a registered one) and a sample payload.")
class PreviewMappingInput:
    model: str
    sample: JSON
    manifest: str | None = None
    kind: str | None = None


@strawberry.type
class MappingProblem:
    path: str = strawberry.field(description="JSON path in the sample.")
    field: str = strawberry.field(description="The canonical field it was meant for.")
    reason: str


@strawberry.type
class MappingPreview:
    ok: bool
    record: JSON | None = strawberry.field(description="The normalized canonical record (null when it fails).")
    errors: list[MappingProblem]


@strawberry.input
class CreateConnectionInput:
    name: str
    kind: str
    base_url: str
    credentials: JSON = strawberry.field(description="Secrets (sealed at rest, never shown again).")
    settings: JSON | None = None
    webhook_secret: str | None = None


@strawberry.type
class ConnectionPayload:
    connection: UpstreamConnection


@strawberry.input
class SetConnectionStatusInput:
    connection_id: strawberry.ID
    status: str = strawberry.field(description="ACTIVE, PAUSED or DISABLED (a disabled one refuses webhooks).")


@strawberry.input
class TriggerSyncInput:
    connection_id: strawberry.ID
    models: list[str] | None = strawberry.field(default=None, description="Default: every model it reads.")
    full: bool = strawberry.field(default=False, description="Read everything and detect deletions.")


@strawberry.type
class TriggerSyncPayload:
    runs: list[SyncRun]


@strawberry.input
class SetSyncPausedInput:
    connection_id: strawberry.ID
    paused: bool
    model: str | None = strawberry.field(default=None, description="Default: every model.")


@strawberry.type
class SyncStatesPayload:
    states: list[SyncState]


@strawberry.input
class ReplayQuarantinedInput:
    ids: list[strawberry.ID]


@strawberry.type
class ReplayResult:
    id: strawberry.ID
    status: str = strawberry.field(description="REPLAYED, or OPEN with the new reason")
    reason: str | None


@strawberry.type
class ReplayQuarantinedPayload:
    results: list[ReplayResult]


@strawberry.input
class CreateWebhookSubscriptionInput:
    url: str
    event_types: list[str] = strawberry.field(description="`candidate.created`, `approval.*` or `*`.")


@strawberry.type
class CreateWebhookSubscriptionPayload:
    subscription: WebhookSubscription
    secret: str = strawberry.field(description="The `whsec_` signing secret: shown this once.")


# --- roots ---------------------------------------------------------------------------------------------


@strawberry.type
class IntegrationQuery:
    @strawberry.field(extensions=_guard(), description="Connector kinds the tenant can connect.")
    async def connectors(self, info: Info) -> list[ConnectorKind]:
        return [ConnectorKind.from_info(i) for i in await integration(info).connector_kinds(info.context.viewer)]

    @strawberry.field(extensions=_guard(), description="The tenant's connections, newest first.")
    async def connections(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[UpstreamConnection]:
        service, viewer = integration(info), info.context.viewer
        return await page_of(
            info, lambda n, a: service.connections(viewer, n, a), UpstreamConnection.from_row, first, after
        )

    @strawberry.field(extensions=_guard(), description="One connection by its global id.")
    async def connection(self, info: Info, id: strawberry.ID) -> UpstreamConnection:
        row = await integration(info).connection(info.context.viewer, _id(id, "UpstreamConnection"))
        return UpstreamConnection.from_row(row)

    @strawberry.field(extensions=_guard(), description="Outbound webhook subscriptions, newest first.")
    async def webhook_subscriptions(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[WebhookSubscription]:
        service, viewer = integration(info), info.context.viewer
        return await page_of(
            info, lambda n, a: service.subscriptions(viewer, n, a), WebhookSubscription.from_row, first, after
        )

    @strawberry.field(extensions=_guard(), description="Where a hub record came from: its upstream copies.")
    async def provenance(self, info: Info, id: strawberry.ID) -> list[RemoteCopy]:
        type_name, row_id = decode_global_id(id)
        entity = _PROVENANCE.get(type_name)
        if entity is None:
            raise ValidationFailed(f"{type_name} records have no upstream copies", field="id")
        rows = await integration(info).provenance(info.context.viewer, entity, row_id)
        return [RemoteCopy.from_row(r) for r in rows]


@strawberry.type
class IntegrationMutation:
    @strawberry.mutation(
        extensions=_guard(),
        description="Validate and register a manifest connector (VALIDATION_FAILED lists every problem with "
        "its path and line).",
    )
    async def register_connector(self, info: Info, input: RegisterConnectorInput) -> RegisterConnectorPayload:
        row, cls, created = await integration(info).register_connector(info.context.viewer, input.manifest)
        return RegisterConnectorPayload(
            connector=ConnectorKind.from_info(cls.info()),
            definition=ConnectorDefinition.from_row(row),
            created=created,
        )

    @strawberry.mutation(
        extensions=_guard(), description="Normalize a sample payload with a manifest; answers every mapping error."
    )
    async def preview_mapping(self, info: Info, input: PreviewMappingInput) -> MappingPreview:
        preview = await integration(info).preview_mapping(
            info.context.viewer, manifest=input.manifest, kind=input.kind, model=input.model, sample=input.sample
        )
        errors = [MappingProblem(path=e.path, field=e.field, reason=e.reason) for e in preview.errors]
        return MappingPreview(ok=preview.ok and preview.record is not None, record=preview.record, errors=errors)

    @strawberry.mutation(extensions=_guard(), description="Configure a connection (secrets sealed at rest).")
    async def create_connection(self, info: Info, input: CreateConnectionInput) -> ConnectionPayload:
        if not isinstance(input.credentials, dict):
            raise ValidationFailed("credentials must be a JSON object of strings", field="credentials")
        if input.settings is not None and not isinstance(input.settings, dict):
            raise ValidationFailed("settings must be a JSON object", field="settings")
        row = await integration(info).create_connection(
            info.context.viewer,
            name=input.name,
            kind=input.kind,
            base_url=input.base_url,
            credentials=input.credentials,
            settings=input.settings or {},
            webhook_secret=input.webhook_secret,
        )
        return ConnectionPayload(connection=UpstreamConnection.from_row(row))

    @strawberry.mutation(extensions=_guard(), description="Pause, resume or disable a connection.")
    async def set_connection_status(self, info: Info, input: SetConnectionStatusInput) -> ConnectionPayload:
        row = await integration(info).set_status(
            info.context.viewer, _id(input.connection_id, "UpstreamConnection"), input.status
        )
        return ConnectionPayload(connection=UpstreamConnection.from_row(row))

    @strawberry.mutation(extensions=_guard(), description="Queue sync runs (one job per model, in reference order).")
    async def trigger_sync(self, info: Info, input: TriggerSyncInput) -> TriggerSyncPayload:
        runs = await integration(info).trigger_sync(
            info.context.viewer, _id(input.connection_id, "UpstreamConnection"), input.models, input.full
        )
        return TriggerSyncPayload(runs=[SyncRun.from_row(r) for r in runs])

    @strawberry.mutation(extensions=_guard(), description="Pause or resume syncing a model (or every model).")
    async def set_sync_paused(self, info: Info, input: SetSyncPausedInput) -> SyncStatesPayload:
        states = await integration(info).set_sync_paused(
            info.context.viewer, _id(input.connection_id, "UpstreamConnection"), input.model, input.paused
        )
        return SyncStatesPayload(states=[SyncState.from_row(s) for s in states])

    @strawberry.mutation(
        extensions=_guard(),
        description="Normalize quarantined records again (after fixing the mapping) and store them.",
    )
    async def replay_quarantined(self, info: Info, input: ReplayQuarantinedInput) -> ReplayQuarantinedPayload:
        if not 1 <= len(input.ids) <= 500:
            raise ValidationFailed("give 1 to 500 ids", field="ids")
        ids = [_id(i, "QuarantinedRecord") for i in input.ids]
        outcomes = await integration(info).replay_quarantined(info.context.viewer, ids)
        return ReplayQuarantinedPayload(
            results=[
                ReplayResult(
                    id=strawberry.ID(encode_global_id("QuarantinedRecord", o.id)), status=o.status, reason=o.reason
                )
                for o in outcomes
            ]
        )

    @strawberry.mutation(
        extensions=_guard(), description="Subscribe a URL to hub events; the answer carries the secret, once."
    )
    async def create_webhook_subscription(
        self, info: Info, input: CreateWebhookSubscriptionInput
    ) -> CreateWebhookSubscriptionPayload:
        row, secret = await integration(info).create_subscription(info.context.viewer, input.url, input.event_types)
        return CreateWebhookSubscriptionPayload(subscription=WebhookSubscription.from_row(row), secret=secret)
