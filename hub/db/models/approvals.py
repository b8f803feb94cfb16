"""OA approval instances and notifications to candidates or employees."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, TenantScoped


class ApprovalInstance(TenantScoped, Base):
    __tablename__ = "approval_instances"
    connection_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    definition_code: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(500), default=None)
    status: Mapped[str] = mapped_column(String(20), default="PENDING")
    form: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tasks: Mapped[list[Any]] = mapped_column(default=list)
    timeline: Mapped[list[Any]] = mapped_column(default=list)
    subject_type: Mapped[str | None] = mapped_column(String(40), default=None)
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class Notification(TenantScoped, Base):
    __tablename__ = "notifications"
    recipient_kind: Mapped[str] = mapped_column(String(20))  # candidate | employee
    recipient_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    channel: Mapped[str] = mapped_column(String(20), default="mobile")
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(default=None)
    deep_link: Mapped[str | None] = mapped_column(String(500), default=None)
    status: Mapped[str] = mapped_column(String(20), default="PENDING")
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
