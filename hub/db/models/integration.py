"""Connectors, connections, sync bookkeeping, provenance, quarantine and webhooks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, TenantScoped


class ConnectorDefinition(TenantScoped, Base):
    """A registered connector kind: a declarative manifest or a Python class."""

    __tablename__ = "connector_definitions"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "version"),)
    kind: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))  # builtin | manifest | entry_point
    manifest: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    capabilities: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Connection(TenantScoped, Base):
    """A tenant's configured instance of a connector. Credentials are stored encrypted."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    name: Mapped[str] = mapped_column(String(100))
    connector_kind: Mapped[str] = mapped_column(String(100))
    base_url: Mapped[str] = mapped_column(String(500))
    credentials: Mapped[str | None] = mapped_column(default=None)
    webhook_secret: Mapped[str | None] = mapped_column(default=None)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="ACTIVE")  # ACTIVE | PAUSED | DISABLED
    #: The circuit breaker's state (``connectors.http.CircuitBreaker.to_dict``, epoch seconds), shared by
    #: every worker that talks to this upstream.
    breaker: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class SyncState(TenantScoped, Base):
    __tablename__ = "sync_states"
    __table_args__ = (UniqueConstraint("connection_id", "model"),)
    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("connections.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="DONE")
    watermark: Mapped[datetime | None] = mapped_column(default=None)
    last_full_sync_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(default=None)


class SyncRun(TenantScoped, Base):
    __tablename__ = "sync_runs"
    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("connections.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(20))  # incremental | full
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error_code: Mapped[str | None] = mapped_column(String(60), default=None)


class Quarantine(TenantScoped, Base):
    """A record that failed normalization, kept with its raw payload (encrypted) and reason."""

    __tablename__ = "quarantine"
    __table_args__ = (Index("ix_quarantine_lookup", "connection_id", "model", "remote_id"),)
    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("connections.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(40))
    remote_id: Mapped[str | None] = mapped_column(String(255), default=None)
    raw: Mapped[str] = mapped_column()
    reason: Mapped[str] = mapped_column()
    path: Mapped[str | None] = mapped_column(String(300), default=None)
    status: Mapped[str] = mapped_column(String(20), default="OPEN")  # OPEN | REPLAYED | RESOLVED | DISCARDED
    #: NORMALIZATION_FAILED, REFERENCE_UNRESOLVED ...; ``errors`` lists every mapping error (path, field, reason).
    code: Mapped[str | None] = mapped_column(String(60), default=None)
    errors: Mapped[list[Any] | None] = mapped_column(default=None)
    replayed_at: Mapped[datetime | None] = mapped_column(default=None)


class RemoteLink(TenantScoped, Base):
    """Provenance: one upstream copy of a hub entity."""

    __tablename__ = "remote_links"
    __table_args__ = (
        UniqueConstraint("connection_id", "entity", "remote_id"),
        Index("ix_remote_links_entity", "entity", "entity_id"),
        Index("ix_remote_links_alt", "alt_remote_id", "entity"),
    )
    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("connections.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    remote_id: Mapped[str] = mapped_column(String(255))
    remote_url: Mapped[str | None] = mapped_column(default=None)
    remote_updated_at: Mapped[datetime | None] = mapped_column(default=None)
    remote_deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    raw: Mapped[str | None] = mapped_column(default=None)
    fetched_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The upstream's other id for the same object (the HR vendor's own ``remote_id`` beside the API id),
    #: which other systems use to refer to it (the mobile app names candidates by it).
    alt_remote_id: Mapped[str | None] = mapped_column(String(255), default=None)
    #: SHA-256 of the normalized record and its resolved references: an unchanged copy is not rewritten.
    digest: Mapped[str | None] = mapped_column(String(64), default=None)
    #: When a read last saw this copy upstream; a full read marks what it did not see as deleted.
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Non-personal facts about the copy (an interview stage's name and order).
    attributes: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class BlindIndex(TenantScoped, Base):
    """HMAC digests of normalized personal values, for equality search without decrypting."""

    __tablename__ = "blind_indexes"
    __table_args__ = (Index("ix_blind_indexes_lookup", "tenant_id", "entity", "field", "digest"),)
    entity: Mapped[str] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(40))
    digest: Mapped[str] = mapped_column(String(80))
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)


class WebhookReceipt(TenantScoped, Base):
    """An inbound webhook accepted after verification; the id makes replays visible."""

    __tablename__ = "webhook_receipts"
    __table_args__ = (UniqueConstraint("connection_id", "event_id"),)
    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("connections.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="RECEIVED")  # RECEIVED | PROCESSED | FAILED | IGNORED
    event_type: Mapped[str | None] = mapped_column(String(100), default=None)
    model: Mapped[str | None] = mapped_column(String(40), default=None)
    remote_id: Mapped[str | None] = mapped_column(String(255), default=None)
    #: The decoded event (sealed): what the processing job needs, so only ids travel through Redis.
    payload: Mapped[str | None] = mapped_column(default=None)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(default=None)


class WebhookSubscription(TenantScoped, Base):
    """An integrator's URL subscribed to hub events (Standard Webhooks signatures)."""

    __tablename__ = "webhook_subscriptions"
    url: Mapped[str] = mapped_column(String(1000))
    event_types: Mapped[list[Any]] = mapped_column(default=list)
    secret: Mapped[str] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    #: The tenant's event sequence up to which this subscription has been fanned out.
    last_event_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class WebhookDelivery(TenantScoped, Base):
    """One event to one subscription: attempts, the last answer, and when to try again."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "event_id"),)
    subscription_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    attempt: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="PENDING")
    response_status: Mapped[int | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    event_type: Mapped[str | None] = mapped_column(String(80), default=None)
    error: Mapped[str | None] = mapped_column(default=None)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
