"""The integration service behind the GraphQL API (``schema.integration_api``): connectors, connections,
sync, quarantine and outbound webhook subscriptions, for one viewer's tenant.

Resolvers reach it as ``info.context.services["integration"]``; `install` puts it there and hooks the
outbound webhook fan-out onto event publishing. Every method takes the viewer: the tenant comes from the
verified token only, and every read is filtered by it.

Example:
    >>> install(runtime)   # once per process (the webhook route does it when the app is built)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select

from connectors.base import ConnectorInfo
from connectors.errors import ConnectorError, ManifestError, UnknownConnector, UnsupportedOperation
from connectors.manifest import load_manifest
from connectors.mapping import Preview
from hub.db import models as m
from hub.services import connections, connector_kinds, outbound, quarantine, sync
from hub.services.outbound import subscribed_tenants_key
from schema.context import Page, Viewer
from schema.errors import NotFound, ValidationFailed
from schema.relay import NOT_FOUND_MESSAGE

__all__ = ["IntegrationService", "install"]

log = logging.getLogger("hub.integration")


def _manifest_error(exc: ManifestError) -> ValidationFailed:
    problems = [p.to_dict() for p in exc.problems]
    first = exc.problems[0] if exc.problems else None
    where = f" (line {first.line}, {first.path})" if first and first.line else (f" ({first.path})" if first else "")
    return ValidationFailed(
        f"the manifest has {len(problems)} problem(s){where}: {first.message if first else ''}",
        field="manifest",
        problems=problems,
    )


class IntegrationService:
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.db = runtime.db
        self.vault = runtime.vault

    # --- connectors ----------------------------------------------------------------------------------

    async def connector_kinds(self, viewer: Viewer) -> list[ConnectorInfo]:
        return await connector_kinds.known_kinds(self.db, viewer.tenant_id)

    async def register_connector(self, viewer: Viewer, manifest: str) -> tuple[m.ConnectorDefinition, Any, bool]:
        if not manifest or len(manifest) > 1_000_000:
            raise ValidationFailed("manifest must be 1 byte to 1 MB of YAML or JSON", field="manifest")
        try:
            row, parsed, created = await connector_kinds.register_manifest(self.db, viewer.tenant_id, manifest)
        except ManifestError as exc:
            raise _manifest_error(exc) from None
        return row, await connector_kinds.connector_class(self.db, viewer.tenant_id, parsed.kind), created

    async def preview_mapping(
        self, viewer: Viewer, *, manifest: str | None, kind: str | None, model: str, sample: Any
    ) -> Preview:
        try:
            if manifest:
                parsed = load_manifest(manifest)
            elif kind:
                cls = await connector_kinds.connector_class(self.db, viewer.tenant_id, kind)
                parsed = getattr(cls, "manifest", None)
                if parsed is None:
                    raise ValidationFailed(f"{kind} is a Python connector; preview takes a manifest", field="kind")
            else:
                raise ValidationFailed("give a manifest or the kind of a registered one", field="manifest")
            return parsed.mapping(model).preview(sample)
        except ManifestError as exc:
            raise _manifest_error(exc) from None
        except (UnsupportedOperation, UnknownConnector) as exc:
            raise ValidationFailed(exc.message, field="model" if manifest else "kind") from None

    # --- connections ---------------------------------------------------------------------------------

    async def create_connection(self, viewer: Viewer, **fields: Any) -> m.Connection:
        return await connections.create_connection(self.db, self.vault, viewer.tenant_id, **fields)

    async def connection(self, viewer: Viewer, connection_id: uuid.UUID) -> m.Connection:
        return await connections.get_connection(self.db, viewer.tenant_id, connection_id)

    async def _page(
        self, viewer: Viewer, model: Any, where: Sequence[Any], first: int, after: uuid.UUID | None
    ) -> Page:
        """Newest first, keyset on the UUIDv7 id, as the store pages."""
        async with self.db.session(viewer.tenant_id) as session:
            total = (await session.execute(select(func.count()).select_from(model).where(*where))).scalar() or 0
            stmt = select(model).where(*where).order_by(model.id.desc()).limit(first + 1)
            if after is not None:
                stmt = stmt.where(model.id < after)
            rows = list((await session.scalars(stmt)).all())
        return Page(rows=rows[:first], has_next=len(rows) > first, total=total)

    async def connections(self, viewer: Viewer, first: int, after: uuid.UUID | None) -> Page:
        return await self._page(viewer, m.Connection, [], first, after)

    async def sync_states(self, viewer: Viewer, connection_id: uuid.UUID) -> list[m.SyncState]:
        async with self.db.session(viewer.tenant_id) as session:
            return list(
                (
                    await session.scalars(
                        select(m.SyncState)
                        .where(m.SyncState.connection_id == connection_id)
                        .order_by(m.SyncState.model)
                    )
                ).all()
            )

    async def sync_runs(self, viewer: Viewer, connection_id: uuid.UUID, first: int, after: uuid.UUID | None) -> Page:
        return await self._page(viewer, m.SyncRun, [m.SyncRun.connection_id == connection_id], first, after)

    async def quarantined(
        self, viewer: Viewer, connection_id: uuid.UUID, status: str | None, first: int, after: uuid.UUID | None
    ) -> Page:
        where = [m.Quarantine.connection_id == connection_id]
        if status:
            where.append(m.Quarantine.status == status)
        return await self._page(viewer, m.Quarantine, where, first, after)

    async def set_status(self, viewer: Viewer, connection_id: uuid.UUID, status: str) -> m.Connection:
        if status not in connections.STATUSES:
            raise ValidationFailed(f"status must be one of {', '.join(connections.STATUSES)}", field="status")
        async with self.db.session(viewer.tenant_id) as session:
            row = (await session.scalars(select(m.Connection).where(m.Connection.id == connection_id))).first()
            if row is None:
                raise NotFound(NOT_FOUND_MESSAGE)
            connections.change_status(session, row, status)
            await session.commit()
        self.runtime.events.nudge()  # a connection.resumed event: its waiting write-backs are planned again
        return row

    # --- sync ----------------------------------------------------------------------------------------

    async def trigger_sync(
        self, viewer: Viewer, connection_id: uuid.UUID, models: Sequence[str] | None, full: bool
    ) -> list[m.SyncRun]:
        from hub.jobs.sync import enqueue_sync

        runs = await sync.start_sync(self.db, viewer.tenant_id, connection_id, models, full=full)
        enqueue_sync(self.runtime.queues, viewer.tenant_id, runs)
        return runs

    async def set_sync_paused(
        self, viewer: Viewer, connection_id: uuid.UUID, model: str | None, paused: bool
    ) -> list[m.SyncState]:
        return await sync.set_paused(self.db, viewer.tenant_id, connection_id, model, paused)

    async def replay_quarantined(self, viewer: Viewer, ids: Sequence[uuid.UUID]) -> list[quarantine.ReplayOutcome]:
        try:
            outcomes = await quarantine.replay(self.db, self.vault, viewer.tenant_id, ids)
        except ConnectorError as exc:
            raise connections.ConnectorFailed(exc) from None
        self.runtime.events.nudge()
        return outcomes

    async def provenance(self, viewer: Viewer, entity: str, entity_id: uuid.UUID) -> list[Any]:
        async with self.db.session(viewer.tenant_id) as session:
            return list(
                (
                    await session.execute(
                        select(
                            m.RemoteLink.id,
                            m.RemoteLink.connection_id,
                            m.RemoteLink.remote_id,
                            m.RemoteLink.alt_remote_id,
                            m.RemoteLink.remote_url,
                            m.RemoteLink.remote_updated_at,
                            m.RemoteLink.remote_deleted_at,
                            m.RemoteLink.fetched_at,
                            m.Connection.name.label("connection_name"),
                            m.Connection.connector_kind,
                        )
                        .join(m.Connection, m.Connection.id == m.RemoteLink.connection_id)
                        .where(m.RemoteLink.entity == entity, m.RemoteLink.entity_id == entity_id)
                        .order_by(m.RemoteLink.created_at)
                    )
                ).all()
            )

    # --- outbound webhooks ---------------------------------------------------------------------------

    async def create_subscription(
        self, viewer: Viewer, url: str, event_types: Sequence[str]
    ) -> tuple[m.WebhookSubscription, str]:
        row, secret = await outbound.create_subscription(
            self.db,
            self.vault,
            viewer.tenant_id,
            url=url,
            event_types=event_types,
            allow_private=self.runtime.settings.outbound_allow_private,
        )
        self.runtime.redis.sadd(subscribed_tenants_key(self.runtime.settings.redis_prefix), str(viewer.tenant_id))
        return row, secret

    async def subscriptions(self, viewer: Viewer, first: int, after: uuid.UUID | None) -> Page:
        return await self._page(viewer, m.WebhookSubscription, [], first, after)

    async def deliveries(self, viewer: Viewer, subscription_id: uuid.UUID, first: int, after: uuid.UUID | None) -> Page:
        return await self._page(
            viewer, m.WebhookDelivery, [m.WebhookDelivery.subscription_id == subscription_id], first, after
        )


def install(runtime: Any) -> IntegrationService:
    """Put the service into the runtime's GraphQL services and fan published events out to webhook
    subscribers (after whatever the runtime already does when events are published). Idempotent."""
    service = runtime.extras.get("integration")
    if isinstance(service, IntegrationService):
        return service
    service = runtime.extras["integration"] = IntegrationService(runtime)
    previous = runtime.events.on_published

    def on_published(published: Mapping[uuid.UUID, int]) -> None:
        from hub.jobs.sync import enqueue_dispatch

        if previous is not None:
            previous(published)
        try:
            enqueue_dispatch(runtime.queues, dict(published))
        except Exception as exc:  # the next publish enqueues again; the cursor catches up
            log.warning("could not queue outbound webhooks: %s", type(exc).__name__)

    runtime.events.on_published = on_published
    return service
