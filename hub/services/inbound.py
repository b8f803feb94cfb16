"""Inbound webhooks: authenticate on the raw body, dedupe, acknowledge fast; process later as a job.

`receive` runs in the request (``POST``/``GET /webhooks/{connection_id}``):

1. the connection is looked up by id (unknown, malformed or disabled: 404 ``CONNECTION_NOT_FOUND``; the id
   alone names the tenant, so another tenant's id cannot be told apart from a missing one);
2. the connector verifies the delivery on the raw bytes before anything parses them
   (``Connector.verify_webhook``: each dialect's signature, decryption and timestamp tolerance). A bad or
   missing signature or a stale timestamp answers 401 with the error's code; a body that cannot be decoded
   400; a connection without the secrets to verify 409 ``CONNECTOR_CONFIG_INVALID``;
3. handshakes (DingTalk ``check_url``, WeCom's echostr, Feishu's challenge) are answered at once;
4. an event is recorded as a ``WebhookReceipt`` (unique per connection and event id, decoded event sealed):
   a replayed id answers the vendor's reply again but is not processed twice;
5. the answer is the vendor's expected reply (DingTalk's encrypted ``success``); the route enqueues
   ``hub.jobs.process_webhook`` with the receipt id.

`process` (the job) loads the record the event is about (fetching it when the event only names it), applies
the event's hints (a Feishu REVERTED exists only in events), and upserts it like a sync would, so an OA
status callback ends in ``approval.status_changed`` and a mobile submission in
``interview_session.submitted``. A record that does not normalize is quarantined; delivery receipts
(mobile ``notification.*``) update the notification's status.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from connectors.base import RawItem, WebhookEvent
from connectors.errors import (
    ConnectorConfigError,
    ConnectorError,
    NormalizationError,
    UnsupportedOperation,
    WebhookError,
    WebhookPayloadInvalid,
)
from hub.db import Database
from hub.db import models as m
from hub.db.base import new_id, utcnow
from hub.services.canonical_values import ENTITY_OF
from hub.services.connections import ConnectorFailed, get_connection, open_connector, save_breaker
from hub.services.quarantine import quarantine
from hub.services.sealing import open_json, seal_json
from hub.services.upsert import Item, Upserter
from hub.services.vault import Vault

__all__ = ["Reception", "forget", "process", "receive"]


@dataclass(frozen=True, slots=True)
class Reception:
    """What to answer the vendor, and the receipt to process (None: nothing to process)."""

    status: int
    body: bytes
    content_type: str
    tenant_id: uuid.UUID | None = None
    receipt_id: uuid.UUID | None = None
    code: str | None = None
    replayed: bool = False


def _refusal(status: int, code: str, message: str) -> Reception:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return Reception(status, body, "application/json", code=code)


NOT_FOUND = ("CONNECTION_NOT_FOUND", "No connection receives webhooks at this address.")


async def receive(
    db: Database,
    vault: Vault,
    connection_ref: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    *,
    now: datetime | None = None,
) -> Reception:
    """Verify and record one delivery (see the module docstring)."""
    try:
        connection_id = uuid.UUID(connection_ref)
    except ValueError:
        return _refusal(404, *NOT_FOUND)
    async with db.system_session() as session:
        row = (await session.scalars(select(m.Connection).where(m.Connection.id == connection_id))).first()
    if row is None or row.status == "DISABLED":
        return _refusal(404, *NOT_FOUND)
    tenant_id = row.tenant_id
    try:
        connector, _ = await open_connector(db, vault, tenant_id, row)
    except ConnectorFailed as exc:
        return _refusal(409, exc.code, exc.message)
    try:
        event = connector.verify_webhook(headers, body, query=query, now=now)
    except WebhookPayloadInvalid as exc:
        return _refusal(400, exc.code, exc.message)
    except WebhookError as exc:
        return _refusal(401, exc.code, exc.message)
    except ConnectorConfigError as exc:
        return _refusal(409, exc.code, exc.message)
    except UnsupportedOperation as exc:
        return _refusal(404, exc.code, exc.message)
    finally:
        await connector.aclose()
    reply = event.reply
    answer = Reception(reply.status, reply.body, reply.content_type, tenant_id=tenant_id)
    if not event.actionable:
        return answer
    receipt_id = new_id()
    sealed = seal_json(vault, tenant_id, "webhook_receipt", "payload", receipt_id, _stored(event))
    async with db.session(tenant_id) as session:
        session.add(
            m.WebhookReceipt(
                id=receipt_id,
                connection_id=row.id,
                event_id=event.event_id[:255],
                status="RECEIVED",
                event_type=event.type[:100],
                model=event.model,
                remote_id=(event.remote_id or None) and event.remote_id[:255],
                payload=sealed,
            )
        )
        try:
            await session.commit()
        except IntegrityError:
            return Reception(reply.status, reply.body, reply.content_type, tenant_id=tenant_id, replayed=True)
    return Reception(reply.status, reply.body, reply.content_type, tenant_id=tenant_id, receipt_id=receipt_id)


async def forget(db: Database, tenant_id: uuid.UUID, receipt_id: uuid.UUID) -> None:
    """Drop a receipt that could not be queued, so the vendor's redelivery is processed."""
    async with db.session(tenant_id) as session:
        receipt = (await session.scalars(select(m.WebhookReceipt).where(m.WebhookReceipt.id == receipt_id))).first()
        if receipt is not None:
            await session.delete(receipt)
            await session.commit()


def _stored(event: WebhookEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "model": event.model,
        "remote_id": event.remote_id,
        "type": event.type,
        "payload": event.payload,
        "item": {"remote_id": event.item.remote_id, "payload": event.item.payload} if event.item else None,
        "hints": {k: getattr(v, "value", v) for k, v in event.hints.items()},
        "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
    }


def _event(data: dict[str, Any]) -> WebhookEvent:
    item = data.get("item")
    return WebhookEvent(
        event_id=data["event_id"],
        model=data.get("model"),
        remote_id=data.get("remote_id"),
        type=data.get("type") or "",
        payload=data.get("payload") or {},
        item=RawItem(item["remote_id"], item["payload"]) if item else None,
        hints=data.get("hints") or {},
        occurred_at=datetime.fromisoformat(data["occurred_at"]) if data.get("occurred_at") else None,
    )


async def _mark(db: Database, tenant_id: uuid.UUID, receipt_id: uuid.UUID, status: str, error: str | None) -> None:
    async with db.session(tenant_id) as session:
        await session.execute(
            update(m.WebhookReceipt)
            .where(m.WebhookReceipt.id == receipt_id)
            .values(status=status, error=error and error[:2000], processed_at=utcnow())
        )
        await session.commit()


async def process(db: Database, vault: Vault, tenant_id: uuid.UUID, receipt_id: uuid.UUID) -> dict[str, Any]:
    """Process one recorded event (the job's body); answers ``{status, ...}``.

    Raises:
        ConnectorFailed: the upstream failed with a retryable error while fetching the record (the job
            retries; the receipt stays FAILED with the reason until then).
    """
    await vault.prepare(tenant_id)
    async with db.session(tenant_id) as session:
        receipt = (await session.scalars(select(m.WebhookReceipt).where(m.WebhookReceipt.id == receipt_id))).first()
    if receipt is None:
        return {"status": "MISSING"}
    if receipt.status in ("PROCESSED", "IGNORED"):
        return {"status": receipt.status}
    event = _event(open_json(vault, tenant_id, "webhook_receipt", "payload", receipt.id, receipt.payload or "{}"))
    connection = await get_connection(db, tenant_id, receipt.connection_id)
    if event.model == "notification":
        return await _delivery_receipt(db, tenant_id, connection, receipt.id, event)
    if event.model not in ENTITY_OF:
        await _mark(db, tenant_id, receipt.id, "IGNORED", f"no hub model for {event.model!r}")
        return {"status": "IGNORED"}
    connector, breaker = await open_connector(db, vault, tenant_id, connection)
    try:
        item = await connector.load_event(event)
    except ConnectorError as exc:
        await _mark(db, tenant_id, receipt.id, "FAILED", f"{exc.code}: {exc.message}")
        if exc.retryable:
            raise ConnectorFailed(exc) from exc
        return {"status": "FAILED", "error": exc.code}
    finally:
        await connector.aclose()
        await save_breaker(db, tenant_id, connection.id, breaker)
    now = utcnow()
    async with db.session(tenant_id) as session:
        try:
            record = connector.normalize_event(event, item)
            # Hints were stored as JSON: validate again so enums are enums.
            record = type(record).model_validate(record.model_dump(warnings=False))
        except NormalizationError as exc:
            await quarantine(
                session, vault, tenant_id, connection.id, event.model, item.remote_id or event.remote_id, item.payload,
                code=exc.code, reason=exc.reason, path=exc.path, errors=[e.to_dict() for e in exc.errors], now=now,
            )  # fmt: skip
            status, outcome = "PROCESSED", {"quarantined": 1}
        else:
            result = await Upserter(session, vault, tenant_id, connection, source="webhook").upsert(
                event.model, [Item(item, record)], now=now
            )
            for miss in result.unresolved:
                await quarantine(
                    session, vault, tenant_id, connection.id, event.model, record.remote_id, item.payload,
                    code="REFERENCE_UNRESOLVED", reason=miss.reason, path=miss.path, now=now,
                )  # fmt: skip
            status = "PROCESSED"
            outcome = {
                "created": result.created,
                "updated": result.updated,
                "deleted": result.deleted,
                "quarantined": len(result.unresolved),
            }
        await session.execute(
            update(m.WebhookReceipt)
            .where(m.WebhookReceipt.id == receipt.id)
            .values(status=status, processed_at=now, error=None)
        )
        await session.commit()
    return {"status": status, "model": event.model, **outcome}


async def _delivery_receipt(
    db: Database, tenant_id: uuid.UUID, connection: m.Connection, receipt_id: uuid.UUID, event: WebhookEvent
) -> dict[str, Any]:
    """A notification's delivery status from the app (DELIVERED, ACKNOWLEDGED, FAILED)."""
    status = str(event.hints.get("status") or "")
    async with db.session(tenant_id) as session:
        link = (
            await session.scalars(
                select(m.RemoteLink).where(
                    m.RemoteLink.connection_id == connection.id,
                    m.RemoteLink.entity == "notification",
                    m.RemoteLink.remote_id == (event.remote_id or ""),
                )
            )
        ).first()
        if link is not None and status:
            now = utcnow()
            await session.execute(
                update(m.Notification)
                .where(m.Notification.id == link.entity_id)
                .values(status=status[:20], delivered_at=now, updated_at=now)
            )
            session.add(
                m.Event(
                    type="notification.status_changed",
                    entity="notification",
                    entity_id=link.entity_id,
                    data={"status": status, "connection_id": str(connection.id), "source": "webhook"},
                )
            )
        await session.execute(
            update(m.WebhookReceipt)
            .where(m.WebhookReceipt.id == receipt_id)
            .values(status="PROCESSED" if link else "IGNORED", processed_at=utcnow())
        )
        await session.commit()
    return {"status": "PROCESSED" if link else "IGNORED", "model": "notification"}
