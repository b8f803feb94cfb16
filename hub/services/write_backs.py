"""Write-backs: one canonical write to an upstream, idempotent per key, recorded in the hub.

``write_back(db, vault, tenant_id, connection_id, operation, payload, *, idempotency_key)`` (also importable
from `hub.services.connections`, the path workflows use):

1. refuses a connection that is not ACTIVE (CONFLICT) and a finished key: a key that already completed on
   this connection answers the stored outcome (``remote_id``, ``status``; ``raw`` is not kept) without
   calling the upstream again, for every dialect, including DingTalk and WeCom whose create APIs take no
   idempotency key;
2. calls ``connector.write`` with the key (forwarded upstream where the dialect supports one: HR and mobile
   ``Idempotency-Key``, Feishu ``uuid``), through the connection's circuit breaker; a connector error
   becomes `ConnectorFailed` with the connector's stable code and ``retryable``;
3. records the outcome in one transaction: the key (``job_runs``) and the provenance link of what was
   written to the hub entity it belongs to, so callbacks and syncs about it update that entity instead of
   creating another. Nothing is recorded when the write failed.

Hub-only payload keys name that entity; they are removed before the payload goes upstream:
``approval_id``, ``interview_id``, ``interview_session_id``, ``notification_id``, ``screening_result_id``.
Without one, a key of the form ``approval:<hub id>``, ``interview:<hub id>`` or ``notification:<hub id>``
links the same way. A ``session.invite`` without a hub session stores the invited session from the
upstream's answer; ``notification.push`` records the delivery status on the notification.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from connectors.base import RawItem, WriteResult
from connectors.errors import ConnectorError, NormalizationError
from hub.db import Database
from hub.db import models as m
from hub.db.base import utcnow
from hub.services.connections import ConnectorFailed, get_connection, open_connector, save_breaker
from hub.services.upsert import Item, Upserter
from hub.services.vault import Vault
from schema.errors import Conflict, ValidationFailed

__all__ = ["HUB_KEYS", "write_back"]

#: Payload key -> (entity, table) of the hub record the upstream object belongs to.
HUB_KEYS: dict[str, tuple[str, Any]] = {
    "approval_id": ("approval", m.ApprovalInstance),
    "interview_id": ("interview", m.Interview),
    "interview_session_id": ("interview_session", m.InterviewSession),
    "notification_id": ("notification", m.Notification),
    "screening_result_id": ("screening_result", m.ScreeningResult),
}
_KEY_CONVENTION = re.compile(r"^(approval|interview|notification):([0-9a-f-]{36})$")
_BY_ENTITY = {entity: (key, table) for key, (entity, table) in HUB_KEYS.items()}


def _record_key(connection_id: uuid.UUID, idempotency_key: str) -> str:
    key = f"write:{connection_id}:{idempotency_key}"
    if len(key) > 200:
        key = f"write:{connection_id}:sha256:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"
    return key


def _target(payload: dict[str, Any], idempotency_key: str) -> tuple[str, Any, uuid.UUID] | None:
    for key, (entity, table) in HUB_KEYS.items():
        if payload.get(key):
            try:
                return entity, table, uuid.UUID(str(payload[key]))
            except ValueError:
                raise ValidationFailed(f"{key} must be a hub id", field=key) from None
    match = _KEY_CONVENTION.match(idempotency_key)
    if match:
        _, table = _BY_ENTITY[match.group(1)]
        return match.group(1), table, uuid.UUID(match.group(2))
    return None


async def write_back(
    db: Database,
    vault: Vault,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    operation: str,
    payload: dict[str, Any],
    *,
    idempotency_key: str,
) -> WriteResult:
    """Perform one write-back (see the module docstring).

    Raises:
        NotFound: unknown connection (or another tenant's). Conflict: the connection is paused or disabled.
        ValidationFailed: no idempotency key, or a hub key that is not an id.
        ConnectorFailed: the connector refused the payload or the upstream failed (``code``, ``retryable``).
    """
    if not idempotency_key or len(idempotency_key) > 500:
        raise ValidationFailed("an idempotency key of 1 to 500 characters is required", field="idempotency_key")
    connection = await get_connection(db, tenant_id, connection_id)
    if connection.status != "ACTIVE":
        raise Conflict(f"the connection is {connection.status}", field="connection_id")
    record_key = _record_key(connection_id, idempotency_key)
    async with db.session(tenant_id) as session:
        done = (
            await session.scalars(
                select(m.JobRun).where(m.JobRun.idempotency_key == record_key, m.JobRun.status == "DONE")
            )
        ).first()
    if done is not None:
        stored = done.result or {}
        return WriteResult(remote_id=stored.get("remote_id"), raw={"replayed": True}, status=stored.get("status"))
    target = _target(payload, idempotency_key)
    upstream = {k: v for k, v in payload.items() if k not in HUB_KEYS}
    connector, breaker = await open_connector(db, vault, tenant_id, connection)
    try:
        result = await connector.write(operation, upstream, idempotency_key=idempotency_key)
        invited = None
        if operation == "session.invite" and target is None and isinstance(result.raw, dict):
            try:
                invited = connector.normalize("interview_session", result.raw)
            except (NormalizationError, ConnectorError):
                invited = None  # the session arrives with the next sync or webhook
    except ConnectorError as exc:
        raise ConnectorFailed(exc) from exc
    finally:
        await connector.aclose()
        await save_breaker(db, tenant_id, connection.id, breaker)
    await _record(db, vault, tenant_id, connection, operation, record_key, result, target, invited)
    return result


async def _record(
    db: Database,
    vault: Vault,
    tenant_id: uuid.UUID,
    connection: m.Connection,
    operation: str,
    record_key: str,
    result: WriteResult,
    target: tuple[str, Any, uuid.UUID] | None,
    invited: Any,
) -> None:
    now = utcnow()
    async with db.session(tenant_id) as session:
        if result.remote_id and target is not None:
            entity, table, entity_id = target
            exists = (await session.scalars(select(table.id).where(table.id == entity_id))).first()
            if exists is not None:
                await _link(session, tenant_id, connection, entity, entity_id, result.remote_id, now)
                if entity == "notification" and result.status:
                    await session.execute(
                        update(m.Notification)
                        .where(m.Notification.id == entity_id)
                        .values(status=result.status, delivered_at=now if result.status == "DELIVERED" else None)
                    )
                if entity == "screening_result":
                    await session.execute(
                        update(m.ScreeningResult).where(m.ScreeningResult.id == entity_id).values(written_back_at=now)
                    )
        elif invited is not None and result.remote_id:
            await Upserter(session, vault, tenant_id, connection, source="write_back").upsert(
                "interview_session", [Item(RawItem(result.remote_id, result.raw), invited)], now=now
            )
        session.add(
            m.JobRun(
                idempotency_key=record_key,
                function=f"write_back:{operation}",
                status="DONE",
                result={"remote_id": result.remote_id, "status": result.status},
                finished_at=now,
            )
        )
        try:
            await session.commit()
        except IntegrityError:  # the same key completed concurrently: its record stands
            await session.rollback()


async def _link(
    session: Any,
    tenant_id: uuid.UUID,
    connection: m.Connection,
    entity: str,
    entity_id: uuid.UUID,
    remote_id: str,
    now: Any,
) -> None:
    """Point the upstream object at the hub entity. When a callback about it won the race and created a
    row of its own, that row's upstream state moves onto the entity and the stray row goes."""
    link = (
        await session.scalars(
            select(m.RemoteLink).where(
                m.RemoteLink.connection_id == connection.id,
                m.RemoteLink.entity == entity,
                m.RemoteLink.remote_id == remote_id,
            )
        )
    ).first()
    if link is None:
        session.add(
            m.RemoteLink(
                connection_id=connection.id,
                entity=entity,
                entity_id=entity_id,
                remote_id=remote_id,
                fetched_at=now,
                last_seen_at=now,
            )
        )
        return
    if link.entity_id == entity_id:
        return
    stray_id, link.entity_id = link.entity_id, entity_id
    if entity == "approval":
        stray = (await session.scalars(select(m.ApprovalInstance).where(m.ApprovalInstance.id == stray_id))).first()
        target = (await session.scalars(select(m.ApprovalInstance).where(m.ApprovalInstance.id == entity_id))).first()
        if stray is not None and target is not None and stray.subject_id is None:
            if stray.status != target.status:  # the callback's news, told about the right approval
                data = {"status": stray.status, "connection_id": str(connection.id), "source": "write_back"}
                if target.subject_type == "application" and target.subject_id is not None:
                    data["application_id"] = str(target.subject_id)
                session.add(m.Event(type="approval.status_changed", entity="approval", entity_id=entity_id, data=data))
            await session.execute(
                update(m.ApprovalInstance)
                .where(m.ApprovalInstance.id == entity_id)
                .values(
                    status=stray.status,
                    tasks=stray.tasks,
                    finished_at=stray.finished_at,
                    connection_id=connection.id,
                    updated_at=now,
                )
            )
            await session.execute(delete(m.ApprovalInstance).where(m.ApprovalInstance.id == stray_id))
