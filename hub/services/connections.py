"""Connections: a tenant's configured instances of connectors, opened with their secrets, written back to.

A connection names a connector kind (built-in or a registered manifest), a base URL, credentials and a
webhook secret (both sealed, see `hub.services.sealing`), non-secret settings and a status (ACTIVE, PAUSED,
DISABLED). Everything that talks to an upstream goes through `open_connector`, which hands the connector
the connection's circuit breaker (kept in the database, in epoch seconds, so it holds across workers),
a retry policy and a timeout from the settings:

=====================  ==========  ======================================================================
setting                default     meaning
=====================  ==========  ======================================================================
``timeout_seconds``    30          read timeout of one request (connect: at most 5 s)
``retry_attempts``     4           attempts per request (429 honours ``Retry-After``, 5xx and timeouts)
``retry_base_delay``   0.5         first backoff in seconds (doubling, full jitter)
``breaker_failures``   5           consecutive failures that open the circuit
``breaker_reset``      30          seconds before a trial request is let through
=====================  ==========  ======================================================================

The workflow engine calls two functions (their names and signatures are stable):

- `find_connection` (db, tenant_id, *, capability_model, operation=None): the tenant's first active
  connection that can perform ``operation`` (for example ``approval.create``) or read ``capability_model``.
- `write_back` (db, vault, tenant_id, connection_id, operation, payload, *, idempotency_key): one write,
  idempotent per key (see `hub.services.write_backs`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from connectors.base import ConnectionConfig, Connector
from connectors.errors import ConnectorConfigError, ConnectorError, UnknownConnector
from connectors.http import CircuitBreaker, RetryPolicy
from hub.db import Database
from hub.db import models as m
from hub.db.base import new_id
from hub.services.connector_kinds import connector_class
from hub.services.sealing import open_json, open_sealed, seal_always, seal_json
from hub.services.vault import Vault
from schema.errors import Conflict, HubError, NotFound, ValidationFailed
from schema.relay import NOT_FOUND_MESSAGE

__all__ = [
    "STATUSES",
    "ConnectorFailed",
    "breaker_of",
    "change_status",
    "config_of",
    "create_connection",
    "find_connection",
    "get_connection",
    "open_connector",
    "remote_reference",
    "save_breaker",
    "update_connection",
    "write_back",
]

STATUSES = ("ACTIVE", "PAUSED", "DISABLED")


class ConnectorFailed(HubError):
    """A connector error as API clients and jobs see it: ``code`` is the connector's stable code
    (``UPSTREAM_RATE_LIMITED``, ``WRITE_PAYLOAD_INVALID`` ...), ``retryable`` says whether trying later helps.
    """

    http_status: ClassVar[int] = 502

    def __init__(self, error: ConnectorError) -> None:
        extensions: dict[str, Any] = {"retryable": error.retryable}
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            extensions["retryAfter"] = retry_after
        if getattr(error, "status", None) is not None:
            extensions["upstreamStatus"] = error.status  # type: ignore[attr-defined]
        super().__init__(error.message, **extensions)
        self.code = error.code  # type: ignore[misc]
        self.retryable = error.retryable
        self.retry_after = retry_after
        self.error = error


# --- the rows ---------------------------------------------------------------------------------------------


async def get_connection(db: Database, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> m.Connection:
    """The tenant's connection; NOT_FOUND for an unknown id or another tenant's."""
    async with db.session(tenant_id) as session:
        row = (await session.scalars(select(m.Connection).where(m.Connection.id == connection_id))).first()
    if row is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return row


def _check_text(value: str, field: str, max_len: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > max_len:
        raise ValidationFailed(f"{field} must be 1 to {max_len} characters", field=field)
    return value


async def create_connection(
    db: Database,
    vault: Vault,
    tenant_id: uuid.UUID,
    *,
    name: str,
    kind: str,
    base_url: str,
    credentials: Mapping[str, Any],
    settings: Mapping[str, Any] | None = None,
    webhook_secret: str | None = None,
) -> m.Connection:
    """Validate and store a connection (secrets sealed). The connector is built once with the given
    credentials, so a missing credential is refused now rather than at the first sync.

    Raises:
        ValidationFailed: bad name, URL, credentials or settings; unknown kind.
        Conflict: the tenant already has a connection with this name.
    """
    name = _check_text(name, "name", 100)
    base_url = _check_text(base_url, "base_url", 500)
    if not base_url.startswith(("http://", "https://")):
        raise ValidationFailed("baseUrl must be an http(s) URL", field="base_url")
    if not isinstance(credentials, Mapping) or not all(isinstance(v, str) for v in credentials.values()):
        raise ValidationFailed("credentials must be a JSON object of strings", field="credentials")
    settings = dict(settings or {})
    if len(json.dumps(settings, default=str)) > 20_000:
        raise ValidationFailed("settings are too large", field="settings")
    if webhook_secret is not None and not webhook_secret.strip():
        webhook_secret = None
    try:
        cls = await connector_class(db, tenant_id, kind)
    except UnknownConnector as exc:
        raise ValidationFailed(exc.message, field="kind") from None
    config = ConnectionConfig(base_url, dict(credentials), settings, webhook_secret)
    try:
        probe = cls(config)
    except (ConnectorConfigError, ValueError, TypeError) as exc:
        raise ValidationFailed(f"{kind}: {exc}", field="credentials") from None
    await probe.aclose()
    await vault.prepare(tenant_id)
    row_id = new_id()
    row = m.Connection(
        id=row_id,
        name=name,
        connector_kind=kind,
        base_url=base_url,
        credentials=seal_json(vault, tenant_id, "connection", "credentials", row_id, dict(credentials)),
        webhook_secret=(
            seal_always(vault, tenant_id, "connection", "webhook_secret", row_id, webhook_secret)
            if webhook_secret
            else None
        ),
        settings=settings,
        status="ACTIVE",
    )
    async with db.session(tenant_id) as session:
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:
            raise Conflict(f"a connection named {name!r} already exists", field="name") from None
    return row


async def update_connection(
    db: Database,
    vault: Vault,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    *,
    base_url: str | None = None,
    credentials: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    webhook_secret: str | None = None,
    status: str | None = None,
) -> m.Connection:
    """Change a connection (what is given); secrets are sealed again, the connector built once to check."""
    row = await get_connection(db, tenant_id, connection_id)
    await vault.prepare(tenant_id)
    config = config_of(vault, tenant_id, row)
    if base_url is not None and not _check_text(base_url, "base_url", 500).startswith(("http://", "https://")):
        raise ValidationFailed("baseUrl must be an http(s) URL", field="base_url")
    if status is not None and status not in STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}", field="status")
    new = ConnectionConfig(
        base_url or config.base_url,
        dict(credentials) if credentials is not None else dict(config.credentials),
        dict(settings) if settings is not None else dict(config.settings),
        webhook_secret if webhook_secret is not None else config.webhook_secret,
    )
    cls = await connector_class(db, tenant_id, row.connector_kind)
    try:
        probe = cls(new)
    except (ConnectorConfigError, ValueError, TypeError) as exc:
        raise ValidationFailed(f"{row.connector_kind}: {exc}", field="credentials") from None
    await probe.aclose()
    async with db.session(tenant_id) as session:
        row = (await session.scalars(select(m.Connection).where(m.Connection.id == connection_id))).one()
        row.base_url, row.settings = new.base_url, dict(new.settings)
        row.credentials = seal_json(vault, tenant_id, "connection", "credentials", row.id, dict(new.credentials))
        row.webhook_secret = (
            seal_always(vault, tenant_id, "connection", "webhook_secret", row.id, new.webhook_secret)
            if new.webhook_secret
            else None
        )
        if status is not None:
            change_status(session, row, status)
        await session.commit()
    return row


def change_status(session: Any, row: m.Connection, status: str) -> None:
    """Set a connection's status in the caller's transaction. Back to ACTIVE from PAUSED or DISABLED, it adds a
    ``connection.resumed`` event (committed with the change): the workflow runner then plans again what waited
    for the connection (screening results to write back, `hub.services.screening_sync.pending_runs`)."""
    if status == "ACTIVE" and row.status != "ACTIVE":
        session.add(
            m.Event(
                type="connection.resumed",
                entity="connection",
                entity_id=row.id,
                data={"connection_id": str(row.id), "from": row.status},
            )
        )
    row.status = status


def config_of(vault: Vault, tenant_id: uuid.UUID, row: m.Connection) -> ConnectionConfig:
    """The connection's configuration with its secrets opened (the vault must be prepared)."""
    credentials = (
        open_json(vault, tenant_id, "connection", "credentials", row.id, row.credentials) if row.credentials else {}
    )
    secret = (
        open_sealed(vault, tenant_id, "connection", "webhook_secret", row.id, row.webhook_secret)
        if row.webhook_secret
        else None
    )
    return ConnectionConfig(row.base_url, credentials, dict(row.settings or {}), secret)


# --- circuit breaker ----------------------------------------------------------------------------------------


def breaker_of(row: m.Connection) -> CircuitBreaker:
    """The connection's breaker as last saved (thresholds from its settings)."""
    settings = row.settings or {}
    breaker = CircuitBreaker.from_dict(row.breaker or {})
    breaker.failure_threshold = int(settings.get("breaker_failures", 5))
    breaker.reset_after = float(settings.get("breaker_reset", 30.0))
    return breaker


async def save_breaker(db: Database, tenant_id: uuid.UUID, connection_id: uuid.UUID, breaker: CircuitBreaker) -> None:
    state = breaker.to_dict()
    async with db.session(tenant_id) as session:
        await session.execute(update(m.Connection).where(m.Connection.id == connection_id).values(breaker=state))
        await session.commit()


async def open_connector(
    db: Database, vault: Vault, tenant_id: uuid.UUID, row: m.Connection, **options: Any
) -> tuple[Connector, CircuitBreaker]:
    """A connector for the connection, with its shared breaker, retry policy and timeout.

    Close it (``aclose``) and save the breaker (`save_breaker`) when done.
    """
    await vault.prepare(tenant_id)
    cls = await connector_class(db, tenant_id, row.connector_kind)
    settings = row.settings or {}
    breaker = breaker_of(row)
    options.setdefault("breaker", breaker)
    options.setdefault(
        "retry",
        RetryPolicy(
            max_attempts=int(settings.get("retry_attempts", 4)),
            base_delay=float(settings.get("retry_base_delay", 0.5)),
        ),
    )
    options.setdefault("timeout", float(settings.get("timeout_seconds", 30)))
    try:
        connector = cls(config_of(vault, tenant_id, row), **options)
    except ConnectorError as exc:
        raise ConnectorFailed(exc) from None
    # The breaker's times are shared through the database, so they must be wall-clock seconds.
    connector.http.clock = time.time
    return connector, breaker


# --- lookups for workflows ----------------------------------------------------------------------------------


async def find_connection(
    db: Database, tenant_id: uuid.UUID, *, capability_model: str, operation: str | None = None
) -> m.Connection | None:
    """The tenant's first active connection (oldest first) that performs ``operation`` (when given) or
    reads ``capability_model``; None when there is none."""
    async with db.session(tenant_id) as session:
        rows = (
            await session.scalars(
                select(m.Connection).where(m.Connection.status == "ACTIVE").order_by(m.Connection.created_at)
            )
        ).all()
    for row in rows:
        try:
            cls = await connector_class(db, tenant_id, row.connector_kind)
        except UnknownConnector:
            continue
        if operation is not None:
            if operation in cls.write_operations:
                return row
        elif capability_model in cls.capabilities:
            return row
    return None


async def remote_reference(
    db: Database, tenant_id: uuid.UUID, entity: str, entity_id: uuid.UUID, *, connection_id: uuid.UUID
) -> str | None:
    """How ``connection_id``'s upstream names a hub entity: its own remote id when the entity came from
    there, else the id other systems share (the HR vendor's ``remote_id``: the mobile app names candidates
    by it), else any upstream's id."""
    async with db.session(tenant_id) as session:
        links = (
            await session.execute(
                select(m.RemoteLink.connection_id, m.RemoteLink.remote_id, m.RemoteLink.alt_remote_id)
                .where(m.RemoteLink.entity == entity, m.RemoteLink.entity_id == entity_id)
                .order_by(m.RemoteLink.created_at)
            )
        ).all()
    for link in links:
        if link.connection_id == connection_id:
            return str(link.remote_id)
    for link in links:
        if link.alt_remote_id:
            return str(link.alt_remote_id)
    return str(links[0].remote_id) if links else None


async def write_back(
    db: Database,
    vault: Vault,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    operation: str,
    payload: dict[str, Any],
    *,
    idempotency_key: str,
) -> Any:
    """Perform one write-back (``connectors.base.WRITE_OPERATIONS``) on a connection; see
    `hub.services.write_backs.write_back` (this is its stable import path)."""
    from hub.services.write_backs import write_back as perform

    return await perform(db, vault, tenant_id, connection_id, operation, payload, idempotency_key=idempotency_key)
