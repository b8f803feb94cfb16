"""Tenants, the principals acting in them, people across systems, and data keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, TenantScoped, Timestamped


class Tenant(Timestamped, Base):
    """A company using the hub. Not tenant-scoped itself: only system sessions list tenants."""

    __tablename__ = "tenants"
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    policy_yaml: Mapped[str | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(20), default="active")
    #: The tenant's blind-index root secret, wrapped by the key-encryption key.
    index_key: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class Principal(TenantScoped, Base):
    """A user (signs in with a bearer token) or an integrator (uses an API key)."""

    __tablename__ = "principals"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)
    kind: Mapped[str] = mapped_column(String(20))  # user | integrator
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    roles: Mapped[list[Any]] = mapped_column(default=list)
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    candidate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    disabled: Mapped[bool] = mapped_column(default=False)
    token_version: Mapped[int] = mapped_column(default=1)


class ApiKey(TenantScoped, Base):
    """An integrator key. Only a SHA-256 of the secret is kept; the prefix finds the row."""

    __tablename__ = "api_keys"
    principal_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("principals.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class Person(TenantScoped, Base):
    """One human across systems: DingTalk userId, WeCom userid, Feishu open_id, HR number."""

    __tablename__ = "persons"
    display_name: Mapped[str] = mapped_column(String(200))
    identities: Mapped[dict[str, Any]] = mapped_column(default=dict)
    email: Mapped[str | None] = mapped_column(default=None)


class DataKey(TenantScoped, Base):
    """A tenant's data-encryption key, wrapped by the key-encryption key."""

    __tablename__ = "data_keys"
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    kek_id: Mapped[str] = mapped_column(String(64))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
