"""Quarantine: upstream records that did not become canonical records, kept with their reason and replayed
once the cause is fixed.

A record lands here when it does not normalize (``NORMALIZATION_FAILED``: the JSON path and every mapping
error are kept) or when a record it needs is not in the hub (``REFERENCE_UNRESOLVED``: an application
whose candidate was quarantined itself). The raw payload is sealed (``quarantine.raw``); one OPEN row is
kept per (connection, model, remote id), so a record failing on every sync does not pile up.

Statuses: OPEN; REPLAYED (a replay stored it); RESOLVED (a later read brought a good copy);
DISCARDED.

`replay` normalizes the stored payload again with the connection's current connector (the newest
registered manifest version), upserts it, and answers what happened to each row. References are replayed
automatically at the end of each sync (`replay_unresolved`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import RawItem
from connectors.errors import ConnectorError, NormalizationError
from hub.db import Database
from hub.db import models as m
from hub.db.base import new_id, utcnow
from hub.services.canonical_values import MODEL_ORDER
from hub.services.connections import get_connection, open_connector
from hub.services.sealing import open_json, seal_json
from hub.services.upsert import Item, Upserter
from hub.services.vault import Vault

__all__ = ["ReplayOutcome", "quarantine", "replay", "replay_unresolved", "resolve_quarantined"]

TABLE = m.Quarantine.__table__


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """What a replay did with one quarantined record: REPLAYED, still OPEN (with the new reason), or the
    status it already had (a row that was not OPEN is left alone)."""

    id: uuid.UUID
    status: str
    reason: str | None = None
    entity_id: uuid.UUID | None = None


async def quarantine(
    session: AsyncSession,
    vault: Vault,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    model: str,
    remote_id: str | None,
    payload: Any,
    *,
    code: str,
    reason: str,
    path: str | None,
    errors: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> uuid.UUID:
    """Keep one failing record (the caller commits). Answers the quarantine row's id."""
    now = now or utcnow()
    conn = await session.connection()
    row_id = None
    if remote_id:
        row_id = (
            await conn.execute(
                select(TABLE.c.id).where(
                    TABLE.c.tenant_id == tenant_id,
                    TABLE.c.connection_id == connection_id,
                    TABLE.c.model == model,
                    TABLE.c.remote_id == remote_id,
                    TABLE.c.status == "OPEN",
                )
            )
        ).scalar()
    values = {
        "reason": reason[:2000],
        "path": (path or None) and path[:300],
        "code": code[:60],
        "errors": errors,
        "updated_at": now,
    }
    if row_id is None:
        row_id = new_id()
        values["raw"] = seal_json(vault, tenant_id, "quarantine", "raw", row_id, payload)
        await conn.execute(
            TABLE.insert().values(
                id=row_id,
                tenant_id=tenant_id,
                connection_id=connection_id,
                model=model,
                remote_id=(remote_id or None) and remote_id[:255],
                status="OPEN",
                created_at=now,
                **values,
            )
        )
    else:
        values["raw"] = seal_json(vault, tenant_id, "quarantine", "raw", row_id, payload)
        await conn.execute(update(TABLE).where(TABLE.c.id == row_id).values(**values))
    return row_id


async def resolve_quarantined(
    session: AsyncSession, tenant_id: uuid.UUID, connection_id: uuid.UUID, model: str, remote_ids: Sequence[str]
) -> None:
    """Records that arrived in good shape close their OPEN quarantine rows (RESOLVED)."""
    if not remote_ids:
        return
    conn = await session.connection()
    await conn.execute(
        update(TABLE)
        .where(
            TABLE.c.tenant_id == tenant_id,
            TABLE.c.connection_id == connection_id,
            TABLE.c.model == model,
            TABLE.c.status == "OPEN",
            TABLE.c.remote_id.in_(list(remote_ids)),
        )
        .values(status="RESOLVED", updated_at=utcnow())
    )


async def replay(db: Database, vault: Vault, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[ReplayOutcome]:
    """Normalize and upsert quarantined records again (see the module docstring); ids of other tenants
    or unknown ids are left out of the answer."""
    await vault.prepare(tenant_id)
    async with db.session(tenant_id) as session:
        rows = (await session.scalars(select(m.Quarantine).where(m.Quarantine.id.in_(list(ids))))).all()
    outcomes: dict[uuid.UUID, ReplayOutcome] = {}
    by_connection: dict[uuid.UUID, list[m.Quarantine]] = defaultdict(list)
    for row in rows:
        if row.status != "OPEN":
            outcomes[row.id] = ReplayOutcome(row.id, row.status, row.reason)
        else:
            by_connection[row.connection_id].append(row)
    for connection_id, group in by_connection.items():
        for outcome in await _replay_connection(db, vault, tenant_id, connection_id, group):
            outcomes[outcome.id] = outcome
    return [outcomes[i] for i in ids if i in outcomes]


async def _replay_connection(
    db: Database, vault: Vault, tenant_id: uuid.UUID, connection_id: uuid.UUID, rows: list[m.Quarantine]
) -> list[ReplayOutcome]:
    connection = await get_connection(db, tenant_id, connection_id)
    connector, _ = await open_connector(db, vault, tenant_id, connection)
    outcomes = []
    rows = sorted(rows, key=lambda r: (MODEL_ORDER.index(r.model) if r.model in MODEL_ORDER else 99, r.created_at))
    try:
        async with db.session(tenant_id) as session:
            upserter = Upserter(session, vault, tenant_id, connection, source="replay")
            now = utcnow()
            for row in rows:
                payload = open_json(vault, tenant_id, "quarantine", "raw", row.id, row.raw)
                try:
                    record = connector.normalize(row.model, payload)
                except NormalizationError as exc:
                    await _still_open(session, row, exc.code, exc.reason, exc.path, [e.to_dict() for e in exc.errors])
                    outcomes.append(ReplayOutcome(row.id, "OPEN", exc.reason))
                    continue
                except ConnectorError as exc:
                    await _still_open(session, row, exc.code, exc.message, None, None)
                    outcomes.append(ReplayOutcome(row.id, "OPEN", exc.message))
                    continue
                item = Item(RawItem(record.remote_id, payload), record)
                result = await upserter.upsert(row.model, [item], now=now)
                if result.unresolved:
                    miss = result.unresolved[0]
                    await _still_open(session, row, "REFERENCE_UNRESOLVED", miss.reason, miss.path, None)
                    outcomes.append(ReplayOutcome(row.id, "OPEN", miss.reason))
                    continue
                await session.execute(
                    update(m.Quarantine)
                    .where(m.Quarantine.id == row.id)
                    .values(status="REPLAYED", replayed_at=now, updated_at=now)
                )
                outcomes.append(ReplayOutcome(row.id, "REPLAYED", None, result.entity_ids.get(record.remote_id)))
            await session.commit()
    finally:
        await connector.aclose()
    return outcomes


async def _still_open(
    session: AsyncSession, row: m.Quarantine, code: str, reason: str, path: str | None, errors: Any
) -> None:
    await session.execute(
        update(m.Quarantine)
        .where(m.Quarantine.id == row.id)
        .values(code=code, reason=reason[:2000], path=path, errors=errors, updated_at=utcnow())
    )


async def replay_unresolved(
    db: Database, vault: Vault, tenant_id: uuid.UUID, connection_id: uuid.UUID, *, limit: int = 2000
) -> int:
    """Replay the connection's records that waited for a reference; answers how many were stored."""
    async with db.session(tenant_id) as session:
        ids = list(
            (
                await session.scalars(
                    select(m.Quarantine.id)
                    .where(
                        m.Quarantine.connection_id == connection_id,
                        m.Quarantine.status == "OPEN",
                        m.Quarantine.code == "REFERENCE_UNRESOLVED",
                    )
                    .order_by(m.Quarantine.created_at)
                    .limit(limit)
                )
            ).all()
        )
    if not ids:
        return 0
    return sum(o.status == "REPLAYED" for o in await replay(db, vault, tenant_id, ids))
