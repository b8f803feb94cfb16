"""The event outbox, the audit log and job idempotency records."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, TenantScoped


class Event(TenantScoped, Base):
    """A thin event (type and ids), committed with the change it describes. The relay
    publishes it: gives it the tenant's next ``seq`` (the subscription cursor), stamps
    ``published_at`` and fans it out on Redis. This table is the durable log replays read."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_unpublished", "published_at", "created_at"),
        UniqueConstraint("tenant_id", "seq"),
    )
    type: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str | None] = mapped_column(String(40), default=None)
    entity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    seq: Mapped[int | None] = mapped_column(BigInteger, default=None)


class AuditLog(TenantScoped, Base):
    """Append-only, hash-chained record of reads and changes of personal data."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("tenant_id", "seq"),)
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(64), default=None)
    field: Mapped[str | None] = mapped_column(String(60), default=None)
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(default=None)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class JobRun(TenantScoped, Base):
    """Idempotency: a job function's key, claimed once; a retried job sees it done."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("tenant_id", "idempotency_key"),)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    function: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="RUNNING")
    attempts: Mapped[int] = mapped_column(default=1)
    result: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class WorkflowCursor(TenantScoped, Base):
    """How far the workflow runner has processed the tenant's event sequence."""

    __tablename__ = "workflow_cursors"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
