"""The audit trail: who read or changed which personal field of whom, hash-chained.

During a request the :class:`AuditTrail` collects reads and writes; :meth:`AuditTrail.flush`
appends them before the response leaves, one entry per (action, entity, field, outcome)
with the record ids in ``detail`` (ids only, never values). Appends of one tenant are
serialized (a PostgreSQL advisory lock on the tenant), so the chain never forks;
:func:`verify_tenant` re-checks every link and finds a modified, deleted or inserted row.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select, text

from hub.db import Database
from hub.db import models as m
from policies import AuditEntry, ChainVerdict, next_entry, verify_chain
from policies.audit import ChainAnchor
from schema.context import Viewer

__all__ = ["AuditTrail", "append_entries", "verify_tenant"]


def _lock_key(tenant_id: uuid.UUID) -> int:
    return int.from_bytes(tenant_id.bytes[:8], "big", signed=True)


async def append_entries(db: Database, tenant_id: uuid.UUID, items: list[dict[str, Any]]) -> None:
    """Seal ``items`` onto the tenant's chain and store them, atomically."""
    if not items:
        return
    async with db.session(tenant_id) as session:
        if db.url.startswith("postgresql"):
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(tenant_id)})
        head_row = (await session.scalars(select(m.AuditLog).order_by(m.AuditLog.seq.desc()).limit(1))).first()
        head: Any = ChainAnchor(seq=head_row.seq, hash=head_row.hash) if head_row else None
        for item in items:
            entry = next_entry(head, tenant_id=str(tenant_id), **item)
            session.add(
                m.AuditLog(
                    seq=entry.seq,
                    at=entry.at,
                    actor=entry.actor,
                    action=entry.action.value,
                    entity=entry.entity,
                    record_id=entry.record_id,
                    field=entry.field,
                    outcome=entry.outcome.value,
                    detail=entry.detail,
                    prev_hash=entry.prev_hash,
                    hash=entry.hash,
                )
            )
            head = entry
        await session.commit()


def _entry(row: m.AuditLog) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        tenant_id=str(row.tenant_id),
        at=row.at,
        actor=row.actor,
        action=row.action,
        entity=row.entity,
        record_id=row.record_id,
        field=row.field,
        outcome=row.outcome,
        detail=row.detail,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


async def verify_tenant(db: Database, tenant_id: uuid.UUID) -> ChainVerdict:
    async with db.session(tenant_id) as session:
        rows = (await session.scalars(select(m.AuditLog).order_by(m.AuditLog.seq))).all()
    return verify_chain([_entry(r) for r in rows])


class AuditTrail:
    """Collects one request's audited reads and writes."""

    def __init__(self, db: Database, viewer: Viewer) -> None:
        self.db = db
        self.viewer = viewer
        self._records: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)

    def record(self, action: str, entity: str, field: str, record_id: Any, *, allowed: bool) -> None:
        self._records[(action, entity, field, "allowed" if allowed else "denied")].add(str(record_id))

    def admin(self, entity: str, detail: str, record_id: str | None = None) -> None:
        self._records[("admin", entity, "", "allowed")].add(f"{record_id or ''}|{detail}")

    async def flush(self) -> None:
        if not self._records:
            return
        items = []
        for (action, entity, field, outcome), ids in sorted(self._records.items()):
            ordered = sorted(ids)
            items.append(
                {
                    "actor": self.viewer.actor,
                    "action": action,
                    "entity": entity,
                    "field": field or None,
                    "outcome": outcome,
                    "record_id": ordered[0] if len(ordered) == 1 and action != "admin" else None,
                    "detail": ("records=" + ",".join(ordered)) if action != "admin" else ";".join(ordered),
                }
            )
        self._records.clear()
        await append_entries(self.db, self.viewer.tenant_id, items)
